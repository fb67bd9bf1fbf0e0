"""Two strategies in one `moonwire run` share one connection; another client (ib_async, as
TWS would show it) sees each order and execution named by the strategy that placed it."""
import asyncio
import subprocess

from ib_async import IB

from gateway_process import BINARY, Gateway

BUYER = """
function on_start() market.subscribe(params.symbol) end
function on_quote(q)
  if store.done or not q.bid then return end
  store.done = true
  orders.buy(params.symbol, params.qty)
  orders.buy(params.symbol, 1, { limit = math.floor(q.bid * 50) / 100, tif = "GTC" })
end
function on_fill(f) print(string.format("%s filled %g", f.symbol, f.qty)) end
"""


def test_ib_async_sees_which_strategy_placed_each_order(tmp_path):
    (tmp_path / "apple.lua").write_text(BUYER)
    (tmp_path / "micro.lua").write_text(BUYER)
    config = tmp_path / "moonwire.yaml"
    with Gateway("--seed", "5", "--tick-interval-ms", "50") as gateway:
        config.write_text(
            "strategies:\n"
            f"  - file: {tmp_path / 'apple.lua'}\n    params: {{ symbol: AAPL, qty: 4 }}\n"
            f"  - file: {tmp_path / 'micro.lua'}\n    params: {{ symbol: MSFT, qty: 6 }}\n")
        run = subprocess.run([str(BINARY), "run", "--config", str(config), "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "7",
                              "--journal", str(tmp_path / "journal.sqlite"), "--duration", "4"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=90)
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
        assert "AAPL filled 4" in run.stderr and "MSFT filled 6" in run.stderr, run.stderr[-3000:]
        # The summary says what each leaves behind: its resting order and its position.
        for name, symbol, qty in (("apple", "AAPL", 4), ("micro", "MSFT", 6)):
            block = run.stdout.split(f"summary of {name}")[1].split("summary of")[0]
            assert f"BUY 1 {symbol} LMT" in block, block
            assert f"{qty} {symbol} at" in block, block
        assert "leaves risk on" in run.stdout

        async def look():
            ib = IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=31, timeout=20)
            try:
                trades = await ib.reqAllOpenOrdersAsync()
                fills = await ib.reqExecutionsAsync()
                return ([(t.contract.symbol, t.order.orderRef, t.order.clientId) for t in trades],
                        [(f.contract.symbol, f.execution.orderRef, f.execution.shares) for f in fills])
            finally:
                ib.disconnect()

        open_orders, executions = asyncio.run(asyncio.wait_for(look(), 60))
    owner = {"AAPL": "mw:apple:", "MSFT": "mw:micro:"}
    assert sorted(symbol for symbol, _, _ in open_orders) == ["AAPL", "MSFT"], open_orders
    for symbol, ref, client in open_orders:
        assert ref.startswith(owner[symbol]), (symbol, ref)
        assert client == 7
    assert {(symbol, shares) for symbol, _, shares in executions} == {("AAPL", 4), ("MSFT", 6)}, executions
    for symbol, ref, _ in executions:
        assert ref.startswith(owner[symbol]), (symbol, ref)
