"""ib_async 2.1.0 (negotiating 178) trades against the paper gateway."""
import asyncio

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock

from gateway_process import Gateway


@pytest.fixture(scope="module")
def gateway():
    with Gateway("--seed", "11", "--tick-interval-ms", "100") as gw:
        yield gw


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_ib_async_scenario(gateway):
    async def scenario():
        ib = IB()
        errors = []
        ib.errorEvent += lambda reqId, code, message, contract: errors.append((reqId, code, message))
        # The full startup sync: positions, open and completed orders, account updates
        # (single and multi), executions; connect() fails if any of it times out.
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=21, timeout=20)
        try:
            assert ib.client.serverVersion() == 178
            assert ib.managedAccounts() == ["DU1234567"]
            assert ib.accountValues(), "account values arrived at startup"

            stock = Stock("AAPL", "SMART", "USD")
            details = await ib.reqContractDetailsAsync(stock)
            assert len(details) == 1 and details[0].contract.conId == 265598
            [qualified] = await ib.qualifyContractsAsync(stock)

            ticker = ib.reqMktData(qualified, "", False, False)
            bids = set()
            for _ in range(100):
                await asyncio.sleep(0.1)
                if ticker.bid == ticker.bid and ticker.bid > 0:
                    bids.add(ticker.bid)
                if len(bids) >= 3 and ticker.ask > ticker.bid and ticker.last == ticker.last:
                    break
            assert len(bids) >= 3, f"quotes did not move: {bids}"
            assert ticker.ask > ticker.bid > 0 and ticker.last > 0

            # "1 D" to a Friday's 16:00: Thursday 16:00-20:00 and Friday 04:00-16:00 New York
            # (the paper history keeps trading hours).
            bars = await ib.reqHistoricalDataAsync(qualified, "20240105 16:00:00 US/Eastern", "1 D", "1 min", "TRADES", False)
            assert len(bars) == 240 + 720

            live = ib.reqRealTimeBars(qualified, 5, "TRADES", False)
            for _ in range(120):
                await asyncio.sleep(0.1)
                if live:
                    break
            assert live, "no 5-second bar arrived"

            resting = ib.placeOrder(qualified, LimitOrder("BUY", 100, 100.0))
            for _ in range(50):
                await asyncio.sleep(0.1)
                if resting.orderStatus.status == "Submitted":
                    break
            assert resting.orderStatus.status == "Submitted"
            ib.cancelOrder(resting.order)
            for _ in range(50):
                await asyncio.sleep(0.1)
                if resting.orderStatus.status == "Cancelled":
                    break
            assert resting.orderStatus.status == "Cancelled"

            trade = ib.placeOrder(qualified, MarketOrder("BUY", 100))
            for _ in range(100):
                await asyncio.sleep(0.1)
                if trade.isDone() and trade.fills and all(f.commissionReport.execId for f in trade.fills):
                    break
            assert trade.orderStatus.status == "Filled"
            assert sum(f.execution.shares for f in trade.fills) == 100
            assert abs(sum(f.commissionReport.commission for f in trade.fills) - 1.0) < 1e-9

            await asyncio.sleep(0.3)
            positions = {p.contract.symbol: p.position for p in ib.positions()}
            assert positions.get("AAPL") == 100
            summary = {v.tag: v.value for v in await ib.accountSummaryAsync()}
            assert float(summary["TotalCashValue"]) < 1_000_000

            # Pacing (small bars, 30 seconds or less: IB lifted it for larger ones): an
            # identical history request inside 15 s gets 162.
            await ib.reqHistoricalDataAsync(qualified, "", "1800 S", "30 secs", "TRADES", False, timeout=10)
            await ib.reqHistoricalDataAsync(qualified, "", "1800 S", "30 secs", "TRADES", False, timeout=5)
            assert any(code == 162 for _, code, _ in errors), errors

            # A second connection with the same client id is refused (326).
            twin = IB()
            twin_errors = []
            twin.errorEvent += lambda reqId, code, message, contract: twin_errors.append(code)
            with pytest.raises(Exception) as refused:
                await twin.connectAsync("127.0.0.1", gateway.port, clientId=21, timeout=5)
            twin.disconnect()
            # TWS's refusal, not a connect timeout.
            assert 326 in twin_errors or "326" in str(refused.value) or "already in use" in str(refused.value), (twin_errors, refused.value)
        finally:
            ib.disconnect()

    run(scenario())
