"""The kill switch works while a strategy is stuck in a C function: `moonwire halt` cancels the
three orders the strategy rests, checked through a separate TWS client (ib_async), leaves
that client's own order alone, and the run ends within its bound."""
import asyncio
import itertools
import os
import subprocess
import time

from ib_async import IB, LimitOrder, Stock

from cli_helpers import ChildOutput
from gateway_process import BINARY, Gateway
from serve_process import wait_until

STRATEGY = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = true
  for i = 1, 3 do orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 }) end
  timer.after(0.5, function() print("entering C") testing.block_in_c(300) end)
end
"""


def open_orders(port, client_id):
    async def ask():
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=20)
        try:
            trades = await ib.reqAllOpenOrdersAsync()
            return [(t.order.clientId, t.order.orderId, t.orderStatus.status) for t in trades]
        finally:
            ib.disconnect()
    return asyncio.run(asyncio.wait_for(ask(), 40))


_asker_ids = itertools.count(50)  # a fresh client id per question: no wait for the last one's disconnect


def orders_of_client(port, client_id, count):
    """The open orders of `client_id` at the gateway when there are `count` of them, else None."""
    orders = [o for o in open_orders(port, next(_asker_ids)) if o[0] == client_id]
    return orders if len(orders) == count else None


def open_orders_when(port, done, timeout):
    """Asks the gateway for its open orders until `done(orders)` or `timeout` s; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        orders = open_orders(port, next(_asker_ids))
        if done(orders) or time.monotonic() >= deadline:
            return orders
        time.sleep(0.3)


def place_own_order(port, client_id):
    """Another client (ib_async) rests its own order: a buy of 1 AAPL at 1.00."""
    async def place():
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=20)
        [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00))
        await asyncio.sleep(1)
        ib.disconnect()
    asyncio.run(asyncio.wait_for(place(), 40))


def test_halt_cancels_the_orders_of_a_strategy_stuck_in_c(tmp_path):
    (tmp_path / "rest_then_hang.lua").write_text(STRATEGY)
    # The watchdog would cancel them itself after its hard limit: make it too late, so that
    # the kill switch is what cancels them.
    (tmp_path / "moonwire.yaml").write_text("strategy:\n  hard_limit_ms: 600000\n")
    journal = tmp_path / "journal.sqlite"
    with Gateway("--seed", "5", "--tick-interval-ms", "100") as gateway:
        place_own_order(gateway.port, 31)

        run = subprocess.Popen([str(BINARY), "run", str(tmp_path / "rest_then_hang.lua"), "--gateway", f"127.0.0.1:{gateway.port}",
                                "--client-id", "1", "--config", str(tmp_path / "moonwire.yaml"), "--journal", str(journal)],
                               cwd=tmp_path, env=dict(os.environ, MOONWIRE_TEST_API="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = ChildOutput(run)
        try:
            deadline = time.monotonic() + 40
            ours = []
            while time.monotonic() < deadline:
                ours = [o for o in open_orders(gateway.port, next(_asker_ids)) if o[0] == 1]
                if len(ours) == 3:
                    break
                time.sleep(0.5)
            assert len(ours) == 3, f"the strategy rests three orders: {ours}"
            output.wait_for(r"entering C", "stderr", timeout=30)  # printed just before the C call
            assert run.poll() is None
            halted = time.monotonic()
            halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=tmp_path, capture_output=True, text=True,
                                  timeout=30)
            assert halt.returncode == 0, halt.stderr
            run.wait(timeout=30)
            took = time.monotonic() - halted
            output.finish(timeout=30)
            out, err = output.text("stdout"), output.text("stderr")
            assert run.returncode == 0, err[-3000:]
            assert "halt: cancelling every open order" in out
            assert took < 8, f"halt took {took:.1f} s to end the run"
            left = open_orders(gateway.port, next(_asker_ids))
            assert [o for o in left if o[0] == 1] == [], f"our orders are cancelled: {left}"
            assert [o for o in left if o[0] == 31], f"the other client's order is left alone: {left}"
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()


def test_halt_all_also_cancels_other_clients_orders(tmp_path):
    """`moonwire halt --all` sends TWS's global cancel: the order another client placed goes too."""
    (tmp_path / "rest.lua").write_text(STRATEGY.replace('timer.after(0.5, function() print("entering C") testing.block_in_c(300) end)', ""))
    journal = tmp_path / "journal.sqlite"
    with Gateway("--seed", "6", "--tick-interval-ms", "100") as gateway:
        place_own_order(gateway.port, 41)
        run = subprocess.Popen([str(BINARY), "run", str(tmp_path / "rest.lua"), "--gateway", f"127.0.0.1:{gateway.port}",
                                "--client-id", "2", "--journal", str(journal)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ours = wait_until(lambda: orders_of_client(gateway.port, 2, 3), timeout=40, interval=0.5,
                              what="the strategy's three orders rest at the gateway")
            assert len(ours) == 3, ours
            assert orders_of_client(gateway.port, 41, 1), "the other client's order rests before the halt"
            halt = subprocess.run([str(BINARY), "halt", "--all", "--journal", str(journal)], cwd=tmp_path, capture_output=True,
                                  text=True, timeout=30)
            assert halt.returncode == 0, halt.stderr
            run.communicate(timeout=30)
            assert run.returncode == 0
            # The run ends once its own orders are gone; the global cancel reaches the other
            # client's order at the gateway's pace: wait (bounded) for the account to have none.
            left = open_orders_when(gateway.port, lambda orders: orders == [], timeout=15)
            assert left == [], f"every open order of the account is cancelled: {left}"
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
