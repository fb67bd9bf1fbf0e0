"""Replay: the paper gateway takes its market from the bar store. Any TWS client (here ib_async)
sees the stored prices through the real socket, and history up to the replay's now, never
beyond it; `moonwire run --replay` gives a strategy the same through its embedded gateway."""
import asyncio
import re
import subprocess
import time

from ib_async import IB, Stock

from cli_helpers import HAND_BARS as BARS, environment
from gateway_process import BINARY, Gateway

START = 1_704_205_800  # 2024-01-02 14:30 UTC
CLOSES = [100.20, 100.90, 101.20, 99.00, 99.10, 102.00]


def store_bars(tmp_path, *symbols):
    (tmp_path / "bars.csv").write_text(BARS)
    store = tmp_path / "bars.sqlite"
    for symbol in symbols:
        done = subprocess.run([str(BINARY), "history", "import", "bars.csv", "--instrument", symbol, "--bar", "1 min", "--store", str(store)],
                              cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    return store


def test_any_client_sees_the_stored_market_and_no_later_history(tmp_path):
    store = store_bars(tmp_path, "AAPL", "TSLA")
    # Thirty times real speed: the six minutes take twelve seconds.
    with Gateway("--replay", "AAPL,TSLA", "--replay-from", "2024-01-02 14:30", "--speed", "30", "--replay-store", str(store),
                 "--tick-interval-ms", "50") as gateway:
        async def watch():
            ib = IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=41, timeout=20)
            try:
                prices = {"AAPL": [], "TSLA": []}
                tickers = {}
                for symbol in prices:
                    contract = Stock(symbol, "SMART", "USD")
                    await ib.qualifyContractsAsync(contract)
                    tickers[symbol] = ib.reqMktData(contract, "", False, False)
                deadline = time.time() + 4
                while time.time() < deadline:
                    await asyncio.sleep(0.1)
                    for symbol, ticker in tickers.items():
                        if ticker.last == ticker.last and ticker.last:  # not NaN
                            prices[symbol].append(ticker.last)
                contract = Stock("AAPL", "SMART", "USD")
                await ib.qualifyContractsAsync(contract)
                bars = await ib.reqHistoricalDataAsync(contract, endDateTime="", durationStr="3600 S", barSizeSetting="1 min",
                                                       whatToShow="TRADES", useRTH=False, formatDate=2)
                server_time = await ib.reqCurrentTimeAsync()
                return prices, bars, server_time
            finally:
                ib.disconnect()

        prices, bars, server_time = asyncio.run(asyncio.wait_for(watch(), 60))
    for symbol, seen in prices.items():
        assert len(seen) > 5, (symbol, seen)
        # AAPL's simulated walk starts near 187: every price seen is the stored bars' instead.
        assert all(98.0 <= price <= 102.5 for price in seen), (symbol, seen)
    # History: the stored bars that had ended by the replay's now, exactly, none later.
    assert 1 <= len(bars) <= 6, bars
    for index, bar in enumerate(bars):
        assert int(bar.date.timestamp()) == START + 60 * index
        assert bar.close == CLOSES[index]
    assert int(bars[-1].date.timestamp()) + 60 <= server_time.timestamp() + 1


REPLAY_WATCHER = """
function on_start() market.subscribe("TSLA") end
function on_quote(q)
  if q.last then print(string.format("last %.2f at %d", q.last, q.time)) end
end
"""


def test_run_replays_through_its_embedded_gateway(tmp_path):
    store = store_bars(tmp_path, "TSLA")
    (tmp_path / "watch.lua").write_text(REPLAY_WATCHER)
    run = subprocess.run([str(BINARY), "run", "watch.lua", "--replay", "TSLA", "--replay-from", "2024-01-02 14:30", "--speed", "60",
                          "--replay-store", str(store), "--duration", "3", "--journal", str(tmp_path / "journal.sqlite")],
                         cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "replaying TSLA from the bar store" in run.stdout
    seen = [(float(p), int(t)) for p, t in re.findall(r"last (\d+\.\d+) at (\d+)", run.stderr)]
    assert len(seen) > 5, run.stderr[-2000:]
    assert all(98.0 <= price <= 102.5 for price, _ in seen), seen
    # The quotes carry the replay's clock: January 2024, not today.
    assert all(START <= stamp <= START + 400 for _, stamp in seen), seen
    refused = subprocess.run([str(BINARY), "run", "watch.lua", "--replay", "MSFT", "--replay-from", "2024-01-02", "--replay-store", str(store),
                              "--duration", "1"], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "no stored 1 min bars of MSFT" in refused.stderr, refused.stderr
    no_start = subprocess.run([str(BINARY), "gateway", "--port", "0", "--replay", "TSLA", "--replay-store", str(store)],
                              cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=60)
    assert no_start.returncode == 64 and "--replay needs --replay-from" in no_start.stderr, no_start.stderr


REPLAY_CLOCK = """
function on_start()
  started = now()
  print(string.format("start now %.3f", started))
  timer.after(60, function() print(string.format("timer now %.3f after %.3f", now(), now() - started)) end)
end
"""


def test_a_replayed_strategy_lives_in_the_replays_time(tmp_path):
    """now() is the replay's market time (January 2024, not today), and a timer waits market
    time: at 60x, timer.after(60) fires a wall second later with now() a minute on."""
    store = store_bars(tmp_path, "TSLA")
    (tmp_path / "clock.lua").write_text(REPLAY_CLOCK)
    run = subprocess.run([str(BINARY), "run", "clock.lua", "--replay", "TSLA", "--replay-from", "2024-01-02 14:30", "--speed", "60",
                          "--replay-store", str(store), "--duration", "5", "--journal", str(tmp_path / "journal.sqlite")],
                         cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    start = re.search(r"start now (\d+\.\d+)", run.stderr)
    assert start, run.stderr[-2000:]
    assert START <= float(start.group(1)) <= START + 400, start.group(0)
    fired = re.search(r"timer now (\d+\.\d+) after (\d+\.\d+)", run.stderr)
    assert fired, "timer.after(60) did not fire within 5 wall seconds at 60x:\n" + run.stderr[-2000:]
    # A minute of market time, give or take what a loaded machine delays a timer (a second of
    # wall time is a minute here: 20 market seconds is a third of a wall second).
    assert 59.9 <= float(fired.group(2)) <= 80, fired.group(0)
