"""The paper gateway's money as IB's own clients decode it (issue 22): commissions, realized
PnL, average costs, portfolio lines, account values and reqPnL, for a short, a flip long ->
short, forex (EUR.USD, USD.JPY) and a future, with ibapi 10.50 (v200) and ib_async 2.1.0 (v178).

IB's conventions the expectations follow (docs/money.md states them for the ledger):
- A position's avgCost is per contract (price x multiplier) and includes commissions: a long's
  (cost + commission) / quantity, a short's (proceeds - commission) / quantity, e.g. short 100 @ 10
  paying 1.00 -> 9.99.
- The commissionReport's realizedPNL is unset on a fill that opens or adds: TWS sends
  1.7976931348623157E308 (UNSET_DOUBLE). ibapi decodes it as that float (its repr prints "");
  ib_async's wrapper turns it into 0.0 (wrapper.commissionReport), so ib_async cannot tell
  "unset" from "zero". On a fill that reduces it is set: (price - avgCost) x quantity x multiplier
  less the fill's own commission; a fill that crosses zero realizes on the part it closes, with
  that part's share of the commission, and opens the rest at its price with the rest of it.
- Forex: 0.2 basis points of the USD value, at least 2.00 USD, charged in USD (the commission
  report's currency). The position is counted in the pair's base currency (EUR for EUR.USD,
  USD for USD.JPY), its avgCost and portfolio line in the quote currency, marked at the mid.
  For USD.JPY the USD commission enters the position's cost in JPY at the fill's price (2.00 USD
  at 150 = 300 JPY) and the commission report's realizedPNL is in JPY, the instrument's currency,
  as on the portfolio line: the report has one currency field and it names the commission's.
  (Our choice, stated: TWS documents the field as the commission's currency only.)
- Account values are in the base (USD) with an ExchangeRate per currency. TotalCashValue is
  cash as TWS counts it: forex balances are cash (a forex "position" is a balance in its base
  currency), and a future moves cash by its commissions and PnL, not by its notional value;
  GrossPositionValue leaves both out; NetLiquidation is cash plus the other positions' value.
- The portfolio line's realizedPNL is the position's realized PnL, in the instrument's currency.

Every market order fills at a pinned quote: the control command `price SYMBOL P` leaves bid =
P - tick/2 rounded to the tick, ask = bid + tick, last = P (MarketSimulator.setPrice). So a buy
pinned at X fills at the ask X (mid X - tick/2), and a sell pinned at X + tick fills at the bid X
(last X + tick, mid X + tick/2). Stocks and futures are marked at last, forex at the mid. The
clock is manual: nothing moves between fills.
"""
import asyncio
import math
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from ib_async import IB, Forex, Future, MarketOrder, Stock
from ibapi.const import UNSET_DOUBLE
from ibapi.contract import Contract
from ibapi.order import Order

from gateway_process import Gateway
from test_gateway_ibapi import App

ACCOUNT = "DU1234567"
START_CASH = 1_000_000.00

# The universe of these tests: one stock, the ES future, two forex pairs (USD.JPY is not in the
# built-in universe). One execution per order, so every fill can be worked by hand.
CONFIG = """\
paper_gateway:
  fills:
    partial_fills: false
  instruments:
    - {symbol: AAPL, con_id: 265598, primary_exchange: NASDAQ, long_name: "APPLE INC", start_price: 10, volatility: 0.28}
    - {symbol: ESZ6, ib_symbol: ES, sec_type: FUT, exchange: CME, primary_exchange: CME, con_id: 637533641,
       expiry: "20261218", multiplier: 50, tick_size: 0.25, lot: 1, start_price: 5450, volatility: 0.16}
    - {symbol: EUR.USD, ib_symbol: EUR, sec_type: CASH, exchange: IDEALPRO, primary_exchange: IDEALPRO, currency: USD,
       con_id: 12087792, start_price: 1.085, tick_size: 0.00005, lot: 100000, volatility: 0.07}
    - {symbol: USD.JPY, ib_symbol: USD, sec_type: CASH, exchange: IDEALPRO, primary_exchange: IDEALPRO, currency: JPY,
       con_id: 15016059, start_price: 150, tick_size: 0.005, lot: 100000, volatility: 0.08}
"""
TICK = {"AAPL": 0.01, "ESZ6": 0.25, "EUR.USD": 0.00005, "USD.JPY": 0.005}
CON_ID = {"AAPL": 265598, "ESZ6": 637533641, "EUR.USD": 12087792, "USD.JPY": 15016059}


def ibapi_contract(symbol):
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = {
        "AAPL": ("AAPL", "STK", "SMART", "USD"),
        "ESZ6": ("ES", "FUT", "CME", "USD"),
        "EUR.USD": ("EUR", "CASH", "IDEALPRO", "USD"),
        "USD.JPY": ("USD", "CASH", "IDEALPRO", "JPY"),
    }[symbol]
    if symbol == "ESZ6":
        contract.lastTradeDateOrContractMonth = "202612"
    return contract


def ib_async_contract(symbol):
    return {
        "AAPL": lambda: Stock("AAPL", "SMART", "USD"),
        "ESZ6": lambda: Future("ES", "202612", "CME", currency="USD"),
        "EUR.USD": lambda: Forex("EURUSD"),
        "USD.JPY": lambda: Forex("USDJPY"),
    }[symbol]()


@dataclass
class Leg:
    """One market order and what IB's clients must decode after its fill."""
    symbol: str
    action: str
    quantity: int
    price: float  # the fill: the ask for a buy, the bid for a sell
    commission: float
    realized: float | None  # commissionReport.realizedPNL; None: unset (the fill opened)
    position: tuple  # (quantity, avgCost) after the fill
    mark: float  # the portfolio line's marketPrice
    unrealized: float  # the portfolio line's unrealizedPNL, in the instrument's currency
    line_realized: float  # the portfolio line's realizedPNL, in the instrument's currency
    account: dict  # account values after the fill, (key, currency) -> value
    currency: str = "USD"  # the commission's

    @property
    def pin(self):
        """The price to pin so the order fills at `price` (see the module's docstring)."""
        return self.price if self.action == "BUY" else self.price + TICK[self.symbol]


@dataclass
class Scenario:
    legs: list
    pnl_realized: float | None  # reqPnL's realizedPnL at the end, base; None: not checked here
    extra: dict = field(default_factory=dict)


def usd(**values):
    return {(key, "USD"): value for key, value in values.items()}


SHORT = Scenario(legs=[
    # IB fixed: 100 x 0.005 = 0.50, under the 1.00 minimum -> 1.00.
    Leg("AAPL", "SELL", 100, price=10.00, commission=1.00, realized=None,
        position=(-100, 9.99),  # (100 x 10.00 - 1.00) / 100: a short's avgCost is its proceeds less commission
        mark=10.01,  # last, pinned at 10.01 for a 10.00 bid
        unrealized=-2.00,  # -100 x 10.01 - (-999.00)
        line_realized=0.00,
        account=usd(TotalCashValue=1_000_999.00,  # 1,000,000 + 1,000.00 - 1.00
                    GrossPositionValue=1_001.00,  # |-100 x 10.01|
                    NetLiquidation=999_998.00,  # 1,000,999.00 - 1,001.00
                    UnrealizedPnL=-2.00, RealizedPnL=0.00)),
    Leg("AAPL", "BUY", 100, price=10.00, commission=1.00,
        realized=-2.00,  # 100 x (9.99 - 10.00) - 1.00 = -1.00 - 1.00: both commissions, none of the price
        position=(0, 0.0), mark=10.00, unrealized=0.00,
        line_realized=-2.00,
        account=usd(TotalCashValue=999_998.00,  # 1,000,999.00 - 1,000.00 - 1.00
                    GrossPositionValue=0.00, NetLiquidation=999_998.00, UnrealizedPnL=0.00, RealizedPnL=-2.00)),
], pnl_realized=-2.00)

FLIP = Scenario(legs=[
    Leg("AAPL", "BUY", 100, price=10.00, commission=1.00, realized=None,
        position=(100, 10.01),  # (100 x 10.00 + 1.00) / 100
        mark=10.00, unrealized=-1.00,  # 100 x 10.00 - 1,001.00
        line_realized=0.00,
        account=usd(TotalCashValue=998_999.00,  # 1,000,000 - 1,000.00 - 1.00
                    GrossPositionValue=1_000.00, NetLiquidation=999_999.00,  # 998,999.00 + 100 x 10.00
                    UnrealizedPnL=-1.00, RealizedPnL=0.00)),
    # Sell 300: 300 x 0.005 = 1.50 (over the 1.00 minimum, under 1 % of 3,600). It closes 100
    # (with 100/300 of the commission: 0.50) and opens a short of 200 (with the other 1.00).
    Leg("AAPL", "SELL", 300, price=12.00, commission=1.50,
        realized=198.50,  # 100 x 12.00 - 1,001.00 - 0.50
        position=(-200, 11.995),  # (200 x 12.00 - 1.00) / 200
        mark=12.01,
        unrealized=-3.00,  # -200 x 12.01 - (-2,399.00)
        line_realized=198.50,
        account=usd(TotalCashValue=1_002_597.50,  # 998,999.00 + 300 x 12.00 - 1.50
                    GrossPositionValue=2_402.00,  # |-200 x 12.01|
                    NetLiquidation=1_000_195.50,  # 1,002,597.50 - 2,402.00 = 1,000,000 + 198.50 - 3.00
                    UnrealizedPnL=-3.00, RealizedPnL=198.50)),
], pnl_realized=198.50)

EUR_USD = Scenario(legs=[
    # 0.2 bp of the USD value: 0.00002 x 20,000 x 1.085 = 0.43, under the 2.00 USD minimum.
    Leg("EUR.USD", "BUY", 20_000, price=1.08500, commission=2.00, realized=None,
        position=(20_000, 1.0851),  # (20,000 x 1.085 + 2.00) / 20,000 = 21,702.00 / 20,000
        mark=1.084975,  # the mid: (1.08495 + 1.08500) / 2
        unrealized=-2.50,  # 20,000 x 1.084975 - 21,702.00 = 21,699.50 - 21,702.00
        line_realized=0.00,
        account={**usd(TotalCashValue=999_997.50,  # USD 1,000,000 - 21,702.00 + EUR 20,000 x 1.084975
                       GrossPositionValue=0.00,  # a forex balance is cash, not a position's value
                       NetLiquidation=999_997.50, UnrealizedPnL=-2.50, RealizedPnL=0.00),
                 ("ExchangeRate", "EUR"): 1.084975, ("ExchangeRate", "BASE"): 1.00}),
    Leg("EUR.USD", "SELL", 20_000, price=1.08600, commission=2.00,  # 0.00002 x 21,720 = 0.43 -> 2.00
        realized=16.00,  # 20,000 x 1.086 - 2.00 - 21,702.00 = 21,720.00 - 21,704.00
        position=(0, 0.0), mark=1.086025, unrealized=0.00, line_realized=16.00,
        account={**usd(TotalCashValue=1_000_016.00, GrossPositionValue=0.00, NetLiquidation=1_000_016.00,
                       UnrealizedPnL=0.00, RealizedPnL=16.00),
                 ("ExchangeRate", "EUR"): 1.086025}),  # (1.08600 + 1.08605) / 2
], pnl_realized=16.00)

USD_JPY = Scenario(legs=[
    # USD is the pair's base: the USD value is the quantity, 0.00002 x 20,000 = 0.40 -> 2.00 USD.
    Leg("USD.JPY", "BUY", 20_000, price=150.000, commission=2.00, realized=None,
        position=(20_000, 150.015),  # (20,000 x 150 + 2.00 USD x 150 JPY/USD) / 20,000 = 3,000,300 JPY / 20,000
        mark=149.9975,  # (149.995 + 150.000) / 2
        unrealized=-350.00,  # JPY: 20,000 x 149.9975 - 3,000,300 = 2,999,950 - 3,000,300
        line_realized=0.00,
        account={**usd(TotalCashValue=999_997.67,  # 1,000,000 - 350 JPY / 149.9975 = 1,000,000 - 2.3334
                       GrossPositionValue=0.00, NetLiquidation=999_997.67,
                       UnrealizedPnL=-2.33, RealizedPnL=0.00),
                 ("ExchangeRate", "JPY"): 1 / 149.9975}),
    Leg("USD.JPY", "SELL", 20_000, price=151.000, commission=2.00,
        realized=19_398.00,  # JPY: 20,000 x 151 - 2.00 x 151 - 3,000,300 = 3,020,000 - 302 - 3,000,300
        position=(0, 0.0), mark=151.0025, unrealized=0.00, line_realized=19_398.00,
        # NetLiquidation and RealizedPnL in USD: see test_usd_jpy_commission_stays_in_usd.
        account={**usd(GrossPositionValue=0.00, UnrealizedPnL=0.00), ("ExchangeRate", "JPY"): 1 / 151.0025}),
], pnl_realized=None)

ES = Scenario(legs=[
    Leg("ESZ6", "BUY", 1, price=5_450.00, commission=0.85, realized=None,  # 0.85 a contract
        position=(1, 272_500.85),  # per contract: 5,450 x 50 + 0.85
        mark=5_450.00, unrealized=-0.85,  # 1 x 5,450 x 50 - 272,500.85
        line_realized=0.00,
        account=usd(TotalCashValue=999_999.15,  # a future moves cash by commission and PnL: 1,000,000 - 0.85
                    GrossPositionValue=0.00,  # futures are not in it
                    NetLiquidation=999_999.15, UnrealizedPnL=-0.85, RealizedPnL=0.00)),
    Leg("ESZ6", "SELL", 1, price=5_460.00, commission=0.85,
        realized=498.30,  # (5,460 - 5,450) x 50 - 0.85 - 0.85 = 500.00 - 1.70
        position=(0, 0.0), mark=5_460.25, unrealized=0.00, line_realized=498.30,
        account=usd(TotalCashValue=1_000_498.30, GrossPositionValue=0.00, NetLiquidation=1_000_498.30,
                    UnrealizedPnL=0.00, RealizedPnL=498.30)),
], pnl_realized=498.30)

SCENARIOS = {"short": SHORT, "flip": FLIP, "eur_usd": EUR_USD, "usd_jpy": USD_JPY, "es": ES}


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG)
    return path


def start(config, *args):
    return Gateway("--config", str(config), "--clock", "manual", *args)


# ---------------------------------------------------------------- what the clients decode

@dataclass
class Seen:
    """One leg as a client decoded it."""
    side: str
    shares: float
    price: float
    local_symbol: str
    commission: float
    currency: str
    realized: float  # as decoded: ibapi UNSET_DOUBLE, ib_async 0.0 when unset
    position: tuple | None  # (quantity, avgCost); None: the client holds no line for it
    portfolio: tuple | None  # (position, marketPrice, averageCost, unrealizedPNL, realizedPNL)
    account: dict  # (key, currency) -> value text


class MoneyApp(App):
    """ibapi, recording the account and PnL callbacks too."""

    def updatePortfolio(self, contract, position, marketPrice, marketValue, averageCost, unrealizedPNL, realizedPNL, accountName):
        self._add("updatePortfolio", contract, position, marketPrice, marketValue, averageCost, unrealizedPNL, realizedPNL)

    def updateAccountValue(self, key, val, currency, accountName): self._add("updateAccountValue", key, val, currency)
    def accountDownloadEnd(self, accountName): self._add("accountDownloadEnd", accountName)
    def pnl(self, reqId, dailyPnL, unrealizedPnL, realizedPnL): self._add("pnl", reqId, dailyPnL, unrealizedPnL, realizedPnL)

    def pnlSingle(self, reqId, pos, dailyPnL, unrealizedPnL, realizedPnL, value):
        self._add("pnlSingle", reqId, pos, dailyPnL, unrealizedPnL, realizedPnL, value)

    def account_values(self):
        return {(key, currency): value for key, value, currency in self.of("updateAccountValue")}


class IbapiDriver:
    def __init__(self, gateway, client_id=7):
        self.gateway = gateway
        self.app = MoneyApp()
        self.app.connect("127.0.0.1", gateway.port, client_id)
        self.thread = threading.Thread(target=self.app.run, daemon=True)
        self.thread.start()
        app = self.app
        app.wait(lambda: app.of("nextValidId"), what="nextValidId")
        self.next_id = app.of("nextValidId")[0][0]
        app.reqAccountUpdates(True, ACCOUNT)
        app.wait(lambda: app.of("accountDownloadEnd"), what="accountDownloadEnd")
        app.reqPositions()
        app.wait(lambda: app.of("positionEnd"), what="positionEnd")

    def close(self):
        self.app.disconnect()
        self.thread.join(timeout=10)

    def trade(self, leg):
        app = self.app
        order_id, self.next_id = self.next_id, self.next_id + 1
        positions_before = len(app.of("position"))
        assert self.gateway.control(f"price {leg.symbol} {leg.pin}").startswith("ok")
        order = Order()
        order.action, order.orderType, order.totalQuantity = leg.action, "MKT", Decimal(leg.quantity)
        app.placeOrder(order_id, ibapi_contract(leg.symbol), order)

        def execution():
            return next((a for a in app.of("execDetails") if a[2].orderId == order_id), None)

        def report():
            found = execution()
            return found and next((r[0] for r in app.of("commissionReport") if r[0].execId == found[2].execId), None)
        # The gateway sends the commission report, then the account values and portfolio line,
        # then the position: once the position came, everything of this fill has.
        app.wait(lambda: report() and len(app.of("position")) > positions_before, what=f"the fill of {leg.action} {leg.symbol}")
        # 399 is a warning (a forex order under IdealPro's 20,000 minimum goes as an odd lot).
        errors = [e for e in app.errors() if e[0] == order_id and e[2] != 399]
        assert not errors, errors
        _, contract, exe = execution()
        commission = report()
        position = [a for a in app.of("position") if a[1].localSymbol == leg.symbol][-1]
        line = [a for a in app.of("updatePortfolio") if a[0].localSymbol == leg.symbol][-1]
        return Seen(side=exe.side, shares=float(exe.shares), price=exe.price, local_symbol=contract.localSymbol,
                    commission=commission.commissionAndFees, currency=commission.currency, realized=commission.realizedPNL,
                    position=(float(position[2]), position[3]), portfolio=(float(line[1]), *line[2:3], *line[4:7]),
                    account=app.account_values())

    def pnl(self):
        app = self.app
        app.reqPnL(9001, ACCOUNT, "")
        app.wait(lambda: [a for a in app.of("pnl") if a[0] == 9001], what="pnl")
        return [a for a in app.of("pnl") if a[0] == 9001][-1][3]

    def pnl_single(self, symbol):
        app = self.app
        app.reqPnLSingle(9002, ACCOUNT, "", CON_ID[symbol])
        app.wait(lambda: [a for a in app.of("pnlSingle") if a[0] == 9002], what="pnlSingle")
        return [a for a in app.of("pnlSingle") if a[0] == 9002][-1][4]


def run_ibapi(gateway, scenario):
    driver = IbapiDriver(gateway)
    try:
        seen = [driver.trade(leg) for leg in scenario.legs]
        return seen, driver.pnl(), driver.pnl_single(scenario.legs[-1].symbol)
    finally:
        driver.close()


async def _wait_for(predicate, what, timeout=15):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _run_ib_async(gateway, scenario):
    ib = IB()
    await ib.connectAsync("127.0.0.1", gateway.port, clientId=8, timeout=20)
    try:
        seen = []
        for leg in scenario.legs:
            positions = []
            listener = lambda position: positions.append(position)  # noqa: E731
            ib.positionEvent += listener
            assert gateway.control(f"price {leg.symbol} {leg.pin}").startswith("ok")
            trade = ib.placeOrder(ib_async_contract(leg.symbol), MarketOrder(leg.action, leg.quantity))
            await _wait_for(lambda: trade.isDone() and trade.fills and all(f.commissionReport.execId for f in trade.fills)
                            and any(p.contract.localSymbol == leg.symbol for p in positions), f"the fill of {leg.action} {leg.symbol}")
            ib.positionEvent -= listener
            assert trade.orderStatus.status == "Filled", trade.log
            [fill] = trade.fills
            held = {p.contract.localSymbol: p for p in ib.positions(ACCOUNT)}
            lines = {p.contract.localSymbol: p for p in ib.portfolio(ACCOUNT)}
            position, line = held.get(leg.symbol), lines.get(leg.symbol)
            seen.append(Seen(side=fill.execution.side, shares=float(fill.execution.shares), price=fill.execution.price,
                             local_symbol=fill.contract.localSymbol, commission=fill.commissionReport.commission,
                             currency=fill.commissionReport.currency, realized=fill.commissionReport.realizedPNL,
                             position=position and (float(position.position), position.avgCost),
                             portfolio=line and (float(line.position), line.marketPrice, line.averageCost, line.unrealizedPNL,
                                                 line.realizedPNL),
                             account={(v.tag, v.currency): v.value for v in ib.accountValues(ACCOUNT)}))
        pnl = ib.reqPnL(ACCOUNT)
        await _wait_for(lambda: not math.isnan(pnl.realizedPnL), "pnl")
        single = ib.reqPnLSingle(ACCOUNT, "", CON_ID[scenario.legs[-1].symbol])
        await _wait_for(lambda: not math.isnan(single.realizedPnL), "pnlSingle")
        return seen, pnl.realizedPnL, single.realizedPnL
    finally:
        ib.disconnect()


def run_ib_async(gateway, scenario):
    return asyncio.run(asyncio.wait_for(_run_ib_async(gateway, scenario), 90))


# ---------------------------------------------------------------- the checks

def money_close(seen, expected, what, places=0.005):
    """Account values are text with cents; the rest are floats worked to the cent or better."""
    assert seen is not None, f"{what}: missing"
    assert abs(float(seen) - expected) <= places + 1e-9, f"{what}: {seen} (expected {expected})"


def check(client, scenario, seen, pnl_realized, single_realized):
    for number, (leg, got) in enumerate(zip(scenario.legs, seen, strict=True), 1):
        what = f"{client}, leg {number} ({leg.action} {leg.quantity} {leg.symbol} @ {leg.price})"
        assert (got.side, got.shares, got.local_symbol) == ("BOT" if leg.action == "BUY" else "SLD", leg.quantity, leg.symbol), what
        assert got.price == pytest.approx(leg.price, abs=1e-9), f"{what}: execution price"
        assert got.commission == pytest.approx(leg.commission, abs=1e-9), f"{what}: commission"
        assert got.currency == leg.currency, f"{what}: commission currency"
        if leg.realized is None:
            # Unset: ibapi shows TWS's UNSET_DOUBLE, ib_async's wrapper replaces it with 0.0.
            assert got.realized == (UNSET_DOUBLE if client == "ibapi" else 0.0), f"{what}: realizedPNL should be unset, is {got.realized}"
        else:
            money_close(got.realized, leg.realized, f"{what}: commissionReport.realizedPNL")
        quantity, avg_cost = leg.position
        flat_gone = client == "ib_async" and quantity == 0  # ib_async drops a flat position and portfolio line
        if flat_gone:
            assert got.position is None and got.portfolio is None, f"{what}: ib_async keeps a flat line {got.position} {got.portfolio}"
        else:
            assert got.position[0] == quantity, f"{what}: position"
            assert got.position[1] == pytest.approx(avg_cost, rel=1e-9, abs=1e-9), f"{what}: position avgCost"
            position, mark, line_cost, unrealized, line_realized = got.portfolio
            assert position == quantity, f"{what}: portfolio position"
            assert mark == pytest.approx(leg.mark, abs=1e-9), f"{what}: portfolio marketPrice"
            assert line_cost == pytest.approx(avg_cost, rel=1e-9, abs=1e-9), f"{what}: portfolio averageCost"
            money_close(unrealized, leg.unrealized, f"{what}: portfolio unrealizedPNL")
            money_close(line_realized, leg.line_realized, f"{what}: portfolio realizedPNL")
        for (key, currency), value in leg.account.items():
            text = got.account.get((key, currency))
            if key == "ExchangeRate":
                assert text is not None and float(text) == pytest.approx(value, rel=1e-9), f"{what}: ExchangeRate {currency} = {text}"
            else:
                money_close(text, value, f"{what}: account {key} ({currency})")
    if scenario.pnl_realized is not None:
        money_close(pnl_realized, scenario.pnl_realized, f"{client}: reqPnL realizedPnL")
        # The one instrument traded: its reqPnLSingle realizedPnL is all of it (base).
        money_close(single_realized, scenario.pnl_realized, f"{client}: reqPnLSingle realizedPnL")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_ibapi_money(config, name):
    with start(config) as gateway:
        seen, pnl, single = run_ibapi(gateway, SCENARIOS[name])
    check("ibapi", SCENARIOS[name], seen, pnl, single)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_ib_async_money(config, name):
    with start(config) as gateway:
        seen, pnl, single = run_ib_async(gateway, SCENARIOS[name])
    check("ib_async", SCENARIOS[name], seen, pnl, single)


# ---------------------------------------------------------------- a restart

def test_restart_keeps_cash_per_currency_and_average_costs(config, tmp_path):
    """The state file keeps each currency's cash (JPY revalues at the new rate after the
    restart, it is not frozen in USD at the old one), every average cost (the close after the
    restart realizes against it) and the realized PnL so far."""
    state = tmp_path / "paper.sqlite"
    before = Scenario(legs=[
        Leg("AAPL", "SELL", 100, price=10.00, commission=1.00, realized=None, position=(-100, 9.99), mark=10.01,
            unrealized=-2.00, line_realized=0.00, account={}),  # as in SHORT
        Leg("EUR.USD", "BUY", 20_000, price=1.08500, commission=2.00, realized=None, position=(20_000, 1.0851),
            mark=1.084975, unrealized=-2.50, line_realized=0.00, account={}),  # as in EUR_USD
        # Half of it back: 0.00002 x 10,000 x 1.086 = 0.22 -> the 2.00 USD minimum.
        Leg("EUR.USD", "SELL", 10_000, price=1.08600, commission=2.00,
            realized=7.00,  # 10,000 x 1.086 - 2.00 - 21,702.00 x 10,000 / 20,000 = 10,860 - 2 - 10,851
            position=(10_000, 1.0851),  # 10,851.00 / 10,000: the rest keeps its average cost
            mark=1.086025, unrealized=9.25,  # 10,000 x 1.086025 - 10,851.00
            line_realized=7.00, account=usd(RealizedPnL=7.00)),
        Leg("USD.JPY", "BUY", 20_000, price=150.000, commission=2.00, realized=None, position=(20_000, 150.015),
            mark=149.9975, unrealized=-350.00, line_realized=0.00, account={}),  # as in USD_JPY
        Leg("ESZ6", "BUY", 1, price=5_450.00, commission=0.85, realized=None, position=(1, 272_500.85), mark=5_450.00,
            unrealized=-0.85, line_realized=0.00, account={}),  # as in ES
    ], pnl_realized=None)
    with start(config, "--state-file", str(state)) as gateway:
        driver = IbapiDriver(gateway)
        try:
            check("ibapi", before, [driver.trade(leg) for leg in before.legs], None, None)
        finally:
            driver.close()

    # Cash per currency now: USD 1,000,000 + 999.00 (the short: 1,000.00 - 1.00) - 21,702.00 (EUR.USD bought)
    # + 10,858.00 (half sold: 10,860.00 - 2.00) - 272,500.85 (ES as the ledger books it)
    # - 2.00 (the USD.JPY buy's commission, debited in USD as IB does) = 717,652.15;
    # JPY -3,000,000 (20,000 x 150).
    usd_cash, jpy_cash = 717_652.15, -3_000_000.00
    with start(config, "--state-file", str(state)) as gateway:
        # The restarted market starts at its start prices: pin them, USD.JPY 10 yen lower.
        for symbol, price in (("AAPL", 10.01), ("EUR.USD", 1.08605), ("USD.JPY", 140.0), ("ESZ6", 5_450.0)):
            assert gateway.control(f"price {symbol} {price}").startswith("ok")
        jpy_rate = 1 / 139.9975  # USD.JPY's mid: (139.995 + 140.000) / 2
        driver = IbapiDriver(gateway)
        try:
            app = driver.app
            held = {a[1].localSymbol: (float(a[2]), a[3]) for a in app.of("position")}
            assert held["AAPL"] == (-100, pytest.approx(9.99, rel=1e-12))
            assert held["EUR.USD"] == (10_000, pytest.approx(1.0851, rel=1e-12))
            assert held["USD.JPY"] == (20_000, pytest.approx(150.015, rel=1e-12))
            assert held["ESZ6"] == (1, pytest.approx(272_500.85, rel=1e-12))
            values = app.account_values()
            # TWS's cash: USD, JPY at the new rate, the EUR balance (10,000 x 1.086025), the USD
            # bought with yen (20,000 USD) and the future's notional the ledger took out of cash.
            cash = usd_cash + jpy_cash * jpy_rate + 10_000 * 1.086025 + 20_000 + 5_450 * 50
            money_close(values[("TotalCashValue", "USD")], cash, "TotalCashValue after the restart")
            money_close(values[("NetLiquidation", "USD")], cash - 100 * 10.01, "NetLiquidation after the restart")  # less the short
            money_close(values[("RealizedPnL", "USD")], 7.00, "RealizedPnL kept across the restart")
            # The yen position closed after the restart realizes against its restored average cost.
            close = Leg("USD.JPY", "SELL", 20_000, price=140.000, commission=2.00,
                        realized=-200_580.00,  # JPY: 20,000 x 140 - 2.00 x 140 - 3,000,300 = 2,800,000 - 280 - 3,000,300
                        position=(0, 0.0), mark=140.0025, unrealized=0.00, line_realized=-200_580.00,
                        account=usd(RealizedPnL=7.00 - 200_580 / 140.0025))  # 7.00 - 1,432.69 (JPY at the mid of the close)
            check("ibapi", Scenario(legs=[close], pnl_realized=None), [driver.trade(close)], None, None)
        finally:
            driver.close()


# ---------------------------------------------------------------- commissions in their own currency, the schedule by config

def test_usd_jpy_commission_stays_in_usd(config):
    """IB debits the 2.00 USD commissions from USD cash. After buying 20,000 USD.JPY at 150
    and selling at 151: USD 1,000,000 - 2.00 - 2.00 = 999,996.00; JPY -3,000,000 + 3,020,000 =
    20,000 at the mid 151.0025: 132.45. NetLiquidation 999,996.00 + 132.448 = 1,000,128.45.
    The realized PnL is booked in the pair's currency with the commissions in it at the fills'
    prices (as IB's average cost holds them: 150.015): 20,000 - 300 - 302 = 19,398 JPY, in USD at
    the rate when realized (the mid, 151.0025): 128.46. The 0.01 between the two is the yen the
    commissions were counted in (602 JPY is 3.99 USD at 151, not 4.00)."""
    with start(config) as gateway:
        seen, pnl, _ = run_ibapi(gateway, USD_JPY)
    values = seen[-1].account
    money_close(values[("NetLiquidation", "USD")], 999_996.00 + 20_000 / 151.0025, "NetLiquidation")
    realized = 19_398 / 151.0025
    money_close(values[("RealizedPnL", "USD")], realized, "RealizedPnL")
    money_close(pnl, realized, "reqPnL realizedPnL")
    money_close(values[("CashBalance", "USD")], 999_996.00 + 20_000 / 151.0025, "CashBalance")


def test_open_order_names_the_commission_currency(config):
    """The filled order's openOrder carries the commission and its currency, as the report does."""
    with start(config) as gateway:
        driver = IbapiDriver(gateway)
        try:
            driver.trade(USD_JPY.legs[0])
            app = driver.app
            app.wait(lambda: any(a[3].status == "Filled" for a in app.of("openOrder")), what="the filled openOrder")
            state = [a[3] for a in app.of("openOrder") if a[3].status == "Filled"][-1]
        finally:
            driver.close()
    assert (state.commissionAndFees, state.commissionAndFeesCurrency) == (pytest.approx(2.00), "USD")


def test_config_chooses_the_commission_schedule(tmp_path):
    """`paper_gateway.fills.commission: ib-tiered`: 100 shares pay 0.0035 x 100 = 0.35 (the
    tiered minimum), not the fixed 1.00."""
    path = tmp_path / "tiered.yaml"
    path.write_text(CONFIG.replace("    partial_fills: false\n", "    partial_fills: false\n    commission: ib-tiered\n"))
    leg = Leg("AAPL", "BUY", 100, price=10.00, commission=0.35, realized=None,
              position=(100, 10.0035),  # (1,000.00 + 0.35) / 100
              mark=10.00, unrealized=-0.35, line_realized=0.00, account=usd(NetLiquidation=999_999.65))
    with start(path) as gateway:
        driver = IbapiDriver(gateway)
        try:
            seen = driver.trade(leg)
        finally:
            driver.close()
    check("ibapi", Scenario(legs=[leg], pnl_realized=None), [seen], None, None)
