"""IB's own client (ibapi-stable) and ib_async trade futures, forex and options on the paper
gateway, see an index quoted, and place brackets and OCA groups, with the statuses IB gives."""
import asyncio
import time
from decimal import Decimal

import pytest
from ib_async import IB, Forex, Future, Index, LimitOrder, MarketOrder, Option, Stock
from ibapi.contract import Contract
from ibapi.order import Order

from gateway_process import Gateway
from test_gateway_ibapi import connect


@pytest.fixture(scope="module")
def gateway():
    # The market moves only when told: every fill below is the test's doing.
    with Gateway("--seed", "13", "--clock", "manual") as gw:
        yield gw


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_ib_async_trades_a_future_forex_and_an_option_and_sees_an_index(gateway):
    async def scenario():
        ib = IB()
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=41, timeout=20)
        try:
            es, eur, call, spx = Future("ES", "202612", "CME"), Forex("EURUSD"), Option("AAPL", "20261218", 190, "C", "SMART"), Index("SPX", "CBOE")
            qualified = await ib.qualifyContractsAsync(es, eur, call, spx)
            assert [c.conId for c in qualified] == [637533641, 12087792, qualified[2].conId, 416904] and qualified[2].conId > 0
            assert es.multiplier == "50" and es.lastTradeDateOrContractMonth == "20261218" and es.localSymbol == "ESZ6"
            assert call.multiplier == "100" and call.right == "C"
            ambiguous = await ib.reqContractDetailsAsync(Future("ES", exchange="CME"))
            assert sorted(d.contract.lastTradeDateOrContractMonth for d in ambiguous) == ["20261218", "20270319"]

            tickers = [ib.reqMktData(c, "", False, False) for c in (es, eur, call, spx)]
            gateway.control("step")
            for _ in range(50):
                await asyncio.sleep(0.1)
                if all(t.bid == t.bid and t.bid > 0 for t in tickers):
                    break
            assert all(t.bid > 0 and t.ask > t.bid for t in tickers), tickers
            assert tickers[1].last != tickers[1].last, "forex quotes have no last"
            assert tickers[3].bid > 5000, "the index"

            trades = [ib.placeOrder(es, MarketOrder("BUY", 2)), ib.placeOrder(eur, MarketOrder("BUY", 25000)),
                      ib.placeOrder(call, MarketOrder("BUY", 3)), ib.placeOrder(spx, MarketOrder("BUY", 1))]
            for _ in range(50):
                await asyncio.sleep(0.1)
                if all(t.isDone() for t in trades):
                    break
            assert [t.orderStatus.status for t in trades] == ["Filled", "Filled", "Filled", "Inactive"], [t.log for t in trades]
            assert any("index" in entry.message and entry.errorCode == 201 for entry in trades[3].log), trades[3].log
            def total(symbol, field):
                return sum(field(f) for f in ib.fills() if f.contract.localSymbol == symbol)
            # (a future may fill in parts: the book shows a few contracts at a time)
            assert total("ESZ6", lambda f: f.execution.shares) == 2 and total("EUR.USD", lambda f: f.execution.shares) == 25000
            assert total("ESZ6", lambda f: f.commissionReport.commission) == pytest.approx(1.70), "0.85 a contract"
            assert total("EUR.USD", lambda f: f.commissionReport.commission) == pytest.approx(2.00), "the 2.00 minimum"
            es_fill = next(f for f in ib.fills() if f.contract.localSymbol == "ESZ6")
            assert es_fill.contract.multiplier == "50"
            positions = {p.contract.localSymbol: p for p in await ib.reqPositionsAsync()}
            # IB's average cost of a future is per contract: price x multiplier.
            assert positions["ESZ6"].avgCost == pytest.approx(es_fill.execution.price * 50, rel=1e-3)
            summary = {v.tag: float(v.value) for v in await ib.accountSummaryAsync() if v.tag in ("InitMarginReq", "GrossPositionValue")}
            assert summary["InitMarginReq"] > 0.06 * 2 * 50 * 5000, "futures margin counts"
        finally:
            ib.disconnect()
    run(scenario())


def test_ib_async_bracket_statuses(gateway):
    async def scenario():
        ib = IB()
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=42, timeout=20)
        try:
            stock = Stock("MSFT", "SMART", "USD")
            await ib.qualifyContractsAsync(stock)
            assert gateway.control("price MSFT 400").startswith("ok")
            parent, profit, loss = ib.bracketOrder("BUY", 10, 400.5, 405, 395)
            trades = [ib.placeOrder(stock, order) for order in (parent, profit, loss)]
            for _ in range(50):
                await asyncio.sleep(0.1)
                if trades[0].orderStatus.status == "Filled" and trades[2].orderStatus.status in ("Submitted", "PreSubmitted"):
                    break
            assert trades[0].orderStatus.status == "Filled", trades[0].log
            assert trades[1].order.parentId == trades[0].order.orderId
            assert gateway.control("price MSFT 406").startswith("ok")
            for _ in range(50):
                await asyncio.sleep(0.1)
                if trades[1].isDone() and trades[2].isDone():
                    break
            assert trades[1].orderStatus.status == "Filled"
            assert trades[2].orderStatus.status == "Cancelled"
        finally:
            ib.disconnect()
    run(scenario())


def test_ibapi_oca_group_and_bracket(gateway):
    app, thread = connect(gateway.port, 43)
    try:
        app.wait(lambda: app.of("nextValidId"), what="nextValidId")
        first = app.of("nextValidId")[0][0]
        contract = Contract()
        contract.symbol, contract.secType, contract.exchange, contract.currency = "GOOGL", "STK", "SMART", "USD"
        assert gateway.control("price GOOGL 170").startswith("ok")

        def limit(action, quantity, price, **fields):
            order = Order()
            order.action, order.orderType, order.totalQuantity, order.lmtPrice = action, "LMT", Decimal(quantity), price
            for key, value in fields.items():
                setattr(order, key, value)
            return order

        # Two buys in one group (cancel the others on a fill): the first to fill cancels the second.
        app.placeOrder(first, contract, limit("BUY", 5, 169.0, ocaGroup="dip", ocaType=1))
        app.placeOrder(first + 1, contract, limit("BUY", 5, 168.0, ocaGroup="dip", ocaType=1))
        assert gateway.control("price GOOGL 168.9").startswith("ok")

        def status(order_id):
            states = [s for s in app.of("orderStatus") if s[0] == order_id]
            return states[-1][1] if states else None

        app.wait(lambda: status(first) == "Filled" and status(first + 1) == "Cancelled", what="OCA: filled and cancelled")

        # A bracket: parent staged (transmit false), children with parentId, the last transmits.
        parent = limit("BUY", 5, 169.5, transmit=False)
        profit = limit("SELL", 5, 175.0, parentId=first + 2, transmit=False)
        loss = Order()
        loss.action, loss.orderType, loss.totalQuantity, loss.auxPrice, loss.parentId = "SELL", "STP", Decimal(5), 165.0, first + 2
        app.placeOrder(first + 2, contract, parent)
        app.placeOrder(first + 3, contract, profit)
        # The child's status comes after the parent's: the parent was handled by then.
        app.wait(lambda: status(first + 2) is not None and status(first + 3) is not None, what="the staged parent and child acknowledged")
        assert status(first + 2) == "PreSubmitted", "a staged parent waits for its last child"
        app.placeOrder(first + 4, contract, loss)
        app.wait(lambda: status(first + 2) == "Filled", what="the bracket's parent fills")
        assert gateway.control("price GOOGL 164").startswith("ok")
        app.wait(lambda: status(first + 4) == "Filled" and status(first + 3) == "Cancelled", what="stop-loss filled, take-profit cancelled")
    finally:
        app.disconnect()
        thread.join(timeout=5)


def test_ibapi_trades_a_future_forex_and_an_option(gateway):
    app, thread = connect(gateway.port, 44)
    try:
        app.wait(lambda: app.of("nextValidId"), what="nextValidId")
        next_id = app.of("nextValidId")[0][0]

        def contract(**fields):
            c = Contract()
            for key, value in fields.items():
                setattr(c, key, value)
            return c

        future = contract(symbol="ES", secType="FUT", exchange="CME", currency="USD", lastTradeDateOrContractMonth="202612")
        forex = contract(symbol="EUR", secType="CASH", exchange="IDEALPRO", currency="USD")
        option = contract(symbol="AAPL", secType="OPT", exchange="SMART", currency="USD", lastTradeDateOrContractMonth="20261218",
                          strike=190.0, right="C", multiplier="100")
        app.reqContractDetails(900, future)
        app.wait(lambda: any(r == 900 for (r,) in app.of("contractDetailsEnd")), what="the future's details")
        details = next(d for r, d in app.of("contractDetails") if r == 900)
        assert details.contract.multiplier == "50" and details.contractMonth == "202612" and details.minTick == 0.25

        for offset, (c, quantity) in enumerate([(future, 1), (forex, 30000), (option, 2)]):
            order = Order()
            order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(quantity)
            app.placeOrder(next_id + offset, c, order)
        gateway.control("step")

        def filled(order_id):
            return sum(float(e[2].shares) for e in app.of("execDetails") if e[2].orderId == order_id)

        for _ in range(20):
            if all(filled(next_id + k) == q for k, q in enumerate([1, 30000, 2])):
                break
            gateway.control("step")
            time.sleep(0.1)
        assert [filled(next_id + k) for k in range(3)] == [1, 30000, 2]
        kinds = {e[1].secType for e in app.of("execDetails") if e[2].orderId >= next_id}
        assert kinds == {"FUT", "CASH", "OPT"}
    finally:
        app.disconnect()
        thread.join(timeout=5)
