"""IB's own client (ibapi-stable 10.50.2, negotiating 200) trades against the paper gateway."""
import threading
import time
from decimal import Decimal

import pytest
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel
from ibapi.wrapper import EWrapper

from gateway_process import Gateway


class App(EWrapper, EClient):
    """Records every callback; `wait` blocks until a condition holds."""

    def __init__(self):
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.events = []
        self.cond = threading.Condition()
        self.closed = False

    def _add(self, name, *args):
        with self.cond:
            self.events.append((name, args))
            self.cond.notify_all()

    def wait(self, predicate, timeout=15, what="condition"):
        deadline = time.time() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.time()
                if left <= 0:
                    names = sorted({e[0] for e in self.events})
                    raise AssertionError(f"timed out waiting for {what}; events seen: {names}")
                self.cond.wait(left)

    def of(self, name):
        return [args for n, args in self.events if n == name]

    def errors(self, code=None):
        return [a for a in self.of("error") if code is None or a[2] == code]

    # EWrapper callbacks we care about, all recorded.
    def nextValidId(self, orderId): self._add("nextValidId", orderId)
    def managedAccounts(self, accountsList): self._add("managedAccounts", accountsList)
    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
        self._add("error", reqId, errorTime, errorCode, errorString)
    def contractDetails(self, reqId, details): self._add("contractDetails", reqId, details)
    def contractDetailsEnd(self, reqId): self._add("contractDetailsEnd", reqId)
    def tickPrice(self, reqId, tickType, price, attrib): self._add("tickPrice", reqId, tickType, price)
    def tickSize(self, reqId, tickType, size): self._add("tickSize", reqId, tickType, size)
    def tickReqParams(self, reqId, minTick, bboExchange, snapshotPermissions): self._add("tickReqParams", reqId, minTick)
    def marketDataType(self, reqId, marketDataType): self._add("marketDataType", reqId, marketDataType)
    def historicalData(self, reqId, bar): self._add("historicalData", reqId, bar)
    def historicalDataEnd(self, reqId, start, end): self._add("historicalDataEnd", reqId, start, end)
    def realtimeBar(self, reqId, time_, open_, high, low, close, volume, wap, count):
        self._add("realtimeBar", reqId, time_, open_, high, low, close, volume, wap, count)
    def openOrder(self, orderId, contract, order, orderState): self._add("openOrder", orderId, contract, order, orderState)
    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, clientId, whyHeld, mktCapPrice):
        self._add("orderStatus", orderId, status, filled, remaining, avgFillPrice)
    def execDetails(self, reqId, contract, execution): self._add("execDetails", reqId, contract, execution)
    def execDetailsEnd(self, reqId): self._add("execDetailsEnd", reqId)
    def commissionAndFeesReport(self, report): self._add("commissionReport", report)
    def position(self, account, contract, position, avgCost): self._add("position", account, contract, position, avgCost)
    def positionEnd(self): self._add("positionEnd")
    def accountSummary(self, reqId, account, tag, value, currency): self._add("accountSummary", reqId, account, tag, value, currency)
    def accountSummaryEnd(self, reqId): self._add("accountSummaryEnd", reqId)
    def connectionClosed(self):
        self.closed = True
        self._add("connectionClosed")


def aapl():
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = "AAPL", "STK", "SMART", "USD"
    return contract


def connect(port, client_id):
    app = App()
    app.connect("127.0.0.1", port, client_id)
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    return app, thread


@pytest.fixture(scope="module")
def gateway():
    with Gateway("--seed", "7", "--tick-interval-ms", "100") as gw:
        yield gw


def test_ibapi_scenario(gateway):
    app, thread = connect(gateway.port, 11)
    try:
        app.wait(lambda: app.of("nextValidId") and app.of("managedAccounts"), what="nextValidId and managedAccounts")
        assert app.serverVersion() == 200
        assert app.of("managedAccounts")[0][0] == "DU1234567"
        app.wait(lambda: len(app.errors(2104)) and len(app.errors(2106)) and len(app.errors(2158)), what="farm notices")
        next_id = app.of("nextValidId")[0][0]

        # Contract details, and error 200 for an unknown symbol.
        app.reqContractDetails(1, aapl())
        app.wait(lambda: app.of("contractDetailsEnd"), what="contractDetailsEnd")
        details = app.of("contractDetails")[0][1]
        assert details.contract.conId == 265598 and details.contract.primaryExchange == "NASDAQ" and details.minTick == 0.01
        unknown = aapl()
        unknown.symbol = "NOSUCH"
        app.reqContractDetails(2, unknown)
        app.wait(lambda: app.errors(200), what="error 200")
        assert app.errors(200)[0][0] == 2

        # Streaming quotes: bid, ask and last arrive and move.
        app.reqMktData(3, aapl(), "", False, False, [])
        app.wait(lambda: len({p for r, t, p in app.of("tickPrice") if r == 3 and t == 1}) >= 3, timeout=20, what="moving bids")
        ticks = {t for r, t, p in app.of("tickPrice") if r == 3}
        assert {1, 2, 4}.issubset(ticks)
        assert app.of("tickReqParams")[0][:2] == (3, 0.01) and app.of("marketDataType")[0] == (3, 1)
        bids = [p for r, t, p in app.of("tickPrice") if r == 3 and t == 1]
        asks = [p for r, t, p in app.of("tickPrice") if r == 3 and t == 2]
        assert all(a > b for a, b in zip(asks, bids))

        # One day of 1-minute history, then the end marker (v >= 196). "1 D" to a Friday's
        # 16:00 is that trading day from the evening before: Thursday 16:00-20:00 and Friday
        # 04:00-16:00 (the paper history keeps trading hours, 04:00-20:00 New York).
        app.reqHistoricalData(4, aapl(), "20240105 16:00:00 US/Eastern", "1 D", "1 min", "TRADES", 0, 1, False, [])
        app.wait(lambda: app.of("historicalDataEnd"), what="historicalDataEnd")
        bars = [b for r, b in app.of("historicalData") if r == 4]
        assert len(bars) == 240 + 720
        assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)

        # 5-second bars.
        app.reqRealTimeBars(5, aapl(), 5, "TRADES", False, [])
        app.wait(lambda: app.of("realtimeBar"), timeout=15, what="a realtimeBar")
        bar = app.of("realtimeBar")[0]
        assert bar[1] % 5 == 0 and bar[3] >= bar[4]

        # A resting LMT far below the market, then cancel: Submitted, then Cancelled + 202.
        resting = Order()
        resting.action, resting.orderType, resting.totalQuantity, resting.lmtPrice, resting.tif = "BUY", "LMT", Decimal(100), 100.0, "DAY"
        app.placeOrder(next_id, aapl(), resting)
        app.wait(lambda: any(a[0] == next_id and a[1] == "Submitted" for a in app.of("orderStatus")), what="Submitted")
        assert any(a[0] == next_id for a in app.of("openOrder"))
        app.cancelOrder(next_id, OrderCancel())
        app.wait(lambda: any(a[0] == next_id and a[1] == "Cancelled" for a in app.of("orderStatus")), what="Cancelled")
        app.wait(lambda: any(e[0] == next_id for e in app.errors(202)), what="error 202")

        # A MKT that fills: openOrder, orderStatus Filled, execDetails, commissionReport.
        market = Order()
        market.action, market.orderType, market.totalQuantity, market.orderRef = "BUY", "MKT", Decimal(100), "scenario"
        app.placeOrder(next_id + 1, aapl(), market)
        app.wait(lambda: any(a[0] == next_id + 1 and a[1] == "Filled" for a in app.of("orderStatus")), what="Filled")
        app.wait(lambda: app.of("commissionReport"), what="commissionReport")
        executions = [a[2] for a in app.of("execDetails") if a[2].orderId == next_id + 1]
        assert sum(e.shares for e in executions) == Decimal(100)
        assert all(e.side == "BOT" and e.orderRef == "scenario" for e in executions)
        commissions = [r.commissionAndFees for r in (a[0] for a in app.of("commissionReport"))]
        assert abs(sum(commissions) - 1.0) < 1e-9  # 100 shares x 0.005 = 0.50, so the 1.00 minimum
        assert any(a[0] == next_id + 1 and a[3].status == "Filled" for a in app.of("openOrder"))
        fill_value = sum(float(e.shares) * e.price for e in executions)

        # Positions and account summary reflect the fill.
        app.reqPositions()
        app.wait(lambda: app.of("positionEnd"), what="positionEnd")
        holdings = {a[1].symbol: (a[2], a[3]) for a in app.of("position")}
        assert holdings["AAPL"][0] == Decimal(100)
        assert abs(holdings["AAPL"][1] - (fill_value + 1.0) / 100) < 1e-6
        app.reqAccountSummary(6, "All", "NetLiquidation,TotalCashValue,BuyingPower")
        app.wait(lambda: app.of("accountSummaryEnd"), what="accountSummaryEnd")
        summary = {a[2]: float(a[3]) for a in app.of("accountSummary") if a[0] == 6}
        assert abs(summary["TotalCashValue"] - (1_000_000 - fill_value - 1.0)) < 0.01

        # Executions on request, with the filter.
        flt = ExecutionFilter()
        flt.symbol = "AAPL"
        app.reqExecutions(7, flt)
        app.wait(lambda: app.of("execDetailsEnd"), what="execDetailsEnd")
        assert [a for a in app.of("execDetails") if a[0] == 7]

        # Pacing (small bars, 30 seconds or less: IB lifted it for larger ones): the same
        # history request again within 15 s is a violation (162).
        app.reqHistoricalData(80, aapl(), "", "1800 S", "30 secs", "TRADES", 0, 1, False, [])
        app.wait(lambda: [r for r in app.of("historicalDataEnd") if r[0] == 80], what="the first 30-second request's end")
        app.reqHistoricalData(8, aapl(), "", "1800 S", "30 secs", "TRADES", 0, 1, False, [])
        app.wait(lambda: app.errors(162), what="error 162")
        assert app.errors(162)[0][0] == 8

        # A second connection with the same client id gets 326 and is closed.
        twin, twin_thread = connect(gateway.port, 11)
        twin.wait(lambda: twin.errors(326), what="error 326")
        twin_thread.join(timeout=10)
        assert not twin.isConnected()
    finally:
        app.disconnect()
        thread.join(timeout=10)


def fill_prices(seed):
    """A MKT buy on a manual-clock gateway: the fill prices depend only on the seed."""
    with Gateway("--seed", str(seed), "--clock", "manual") as gw:
        gw.control("step 20")
        app, thread = connect(gw.port, 1)
        try:
            app.wait(lambda: app.of("nextValidId"), what="nextValidId")
            order = Order()
            order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(2000)
            app.placeOrder(app.of("nextValidId")[0][0], aapl(), order)
            for _ in range(10):
                gw.control("step 1")
            app.wait(lambda: any(a[1] == "Filled" for a in app.of("orderStatus")), what="Filled")
            return [(float(a[2].shares), a[2].price) for a in app.of("execDetails")]
        finally:
            app.disconnect()
            thread.join(timeout=10)


def test_same_seed_same_fills():
    first = fill_prices(99)
    assert first == fill_prices(99)
    assert len(first) > 1  # 2000 shares exceed the displayed size: partial fills
    assert first != fill_prices(100)
