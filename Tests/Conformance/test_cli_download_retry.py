"""Retries in `moonwire history` downloads, through the binary against `moonwire gateway`
(README, "Connecting, quotes and history": a pacing error (162, 366, 420) is waited out and
the request sent again; "a request that times out or that TWS cancels is retried with
backoff"; TWSClient: "a 162 from TWS is retried after a pause").

Two temporary failures the paper gateway can be made to produce, each on a download of 12
windows of 5-second bars (8,640 bars, paced by IB's small-bar rules, so the download is still
going when the failure comes):

* pacing errors from TWS: another client (ib_async) uses up the gateway's budget of 60
  small-bar requests in the window first (the gateway's `pacing.historical_window_seconds`
  shortens IB's 10 minutes to 12 s), so the download's requests get 162 until it frees up;
* requests lost with the connection: the gateway holds every request (`hold 600 all`) once
  the first windows are in, the next ones reach it and wait unanswered, then the connection
  drops (`drop`): those requests fail in flight and must be asked again after the reconnect.

Each download must end with every bar stored, no gap, exit 0, and say that it retried. The
last check fails today, deliberately kept: `moonwire history` gives its TWS client a logger at
error level (DataConnection.swift), so the scheduler's "pacing error from TWS ...; retrying in
15 s" warning is never shown, and the downloader retries a lost window without a word; the
user sees the progress stop for 15 s and nothing says why.

(A request timeout, the third retryable failure, cannot be produced in reasonable time: the
`hang` fault leaves requests unanswered, but a history request times out only after 120 s,
which no option shortens.)"""
import asyncio
import re
import sqlite3
import subprocess
import time

from cli_helpers import ChildOutput, environment
from gateway_process import BINARY, Gateway

# 2024-03-01 12:00 to 24:00 UTC in 5-second bars: 12 one-hour windows (IB's step for 5 secs).
SPAN = ("AAPL", "--from", "2024-03-01 12:00", "--to", "2024-03-02", "--bar", "5 secs")
BARS = 12 * 720

# The lines that say a request is sent again, and when: after a pacing error from TWS, and
# after a failure worth retrying (with backoff: each wait twice the one before).
PACING_RETRY = re.compile(r"pacing error from TWS on .*; retrying in [\d.]+ s")
RETRY = re.compile(r": .*; asking again in ([\d.]+) s \(retry (\d+) of (\d+)\)")


def retry_said(text, tmp_path):
    """Whether `text` (the command's output) says a request was sent again (its own line, not
    the scheduler's ordinary pacing wait); the test's own folder is left out."""
    text = text.replace(str(tmp_path), "FOLDER")
    return PACING_RETRY.search(text) or RETRY.search(text)


def history_command(tmp_path, port):
    return [str(BINARY), "history", *SPAN, "--gateway", f"127.0.0.1:{port}", "--store", str(tmp_path / "bars.sqlite")]


def stored_bars(tmp_path):
    with sqlite3.connect(f"file:{tmp_path / 'bars.sqlite'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*), COUNT(DISTINCT time) FROM bars WHERE instrument = 'AAPL' AND bar_size = '5 secs'").fetchone()


def use_up_the_pacing_budget(port):
    """60 small-bar requests from another client (2 each of MIDPOINT, BID and ASK for ten
    stocks: no contract gets 6 in 2 s), then one more, which TWS must refuse with 162 (more
    than 60 in the window). Returns that refusal."""
    from ib_async import IB, Stock

    async def flood():
        ib = IB()
        refusals = []
        # Only the historical data service's answers (not the farm notices 2104, 2106, 2158).
        ib.errorEvent += lambda reqId, code, message, contract: code == 162 and refusals.append((code, message))
        await ib.connectAsync("127.0.0.1", port, clientId=41, timeout=20)
        try:
            symbols = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "SPY", "QQQ", "IWM"]
            contracts = await ib.qualifyContractsAsync(*[Stock(symbol, "SMART", "USD") for symbol in symbols])
            for what in ("MIDPOINT", "BID", "ASK"):
                for contract in contracts:
                    for hour in (10, 11):
                        bars = await ib.reqHistoricalDataAsync(contract, f"20240301-{hour:02d}:00:00", "1800 S", "1 secs", what, False)
                        assert len(bars) == 1800, (contract.symbol, what, hour, len(bars), refusals)
            assert not refusals, refusals
            await ib.reqHistoricalDataAsync(contracts[1], "20240301-09:00:00", "1800 S", "1 secs", "TRADES", False)
            return refusals
        finally:
            ib.disconnect()

    return asyncio.run(asyncio.wait_for(flood(), 120))


def test_a_download_waits_out_pacing_errors_from_tws_and_stores_every_bar(tmp_path):
    config = tmp_path / "gateway.yaml"
    config.write_text("paper_gateway:\n  pacing:\n    historical_window_seconds: 12\n")
    with Gateway("--seed", "8", "--config", str(config)) as gateway:
        refusals = use_up_the_pacing_budget(gateway.port)
        assert any(code == 162 and "more than 60 requests" in message for code, message in refusals), refusals
        began = time.monotonic()
        result = subprocess.run(history_command(tmp_path, gateway.port), cwd=tmp_path, env=environment(tmp_path),
                                capture_output=True, text=True, timeout=240)
        took = time.monotonic() - began
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert f"AAPL: {BARS} bars in 12 requests, {BARS} stored in all" in result.stdout, said
    assert "gap:" not in said, said
    assert stored_bars(tmp_path) == (BARS, BARS), "every bar, once"
    # Unpaced, 12 windows take about 5 s (5 requests per 2.5 s); the first answers were 162
    # and the pause before asking again is 15 s.
    assert took >= 12, f"the download took {took:.1f} s: it cannot have waited out a pacing error\n{said}"
    assert retry_said(said, tmp_path), (
        f"PRODUCT GAP: the download was refused for pacing (162) and waited {took:.0f} s before asking again, "
        f"but its output says nothing of it (no line names the pacing error, the retry or the wait):\n{said}")


def test_a_download_asks_for_windows_lost_with_the_connection_once_reconnected(tmp_path):
    with Gateway("--seed", "8") as gateway:
        process = subprocess.Popen(history_command(tmp_path, gateway.port), cwd=tmp_path, env=environment(tmp_path),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = ChildOutput(process)
        try:
            # The first windows are in; the next wait for the small-bar pacing (2.5 s).
            first = output.wait_for(r"AAPL: (\d+)/12 requests", "stdout", timeout=60)
            assert int(first.group(1)) < 12, first.group(0)
            assert gateway.control("hold 600 all") == "ok hold 600.0 all"
            deadline = time.monotonic() + 30
            held = 0
            while time.monotonic() < deadline and held == 0:
                held = int(re.search(r"held=(\d+)", gateway.control("status")).group(1))
                time.sleep(0.05)
            assert held > 0, "the next windows reached the gateway (held, unanswered)"
            # The connection drops with them in flight; then the gateway answers again.
            assert gateway.control("drop") == "ok dropped 1"
            assert gateway.control("hold 0").startswith("ok hold 0")
            status = output.finish(timeout=180)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    said = output.text("stdout") + "\n" + output.text("stderr")
    assert status == 0, f"exit {status}\n{said}"
    assert f"AAPL: {BARS} bars in 12 requests, {BARS} stored in all" in said, said
    assert "gap:" not in said, f"a window lost with the connection was not asked again:\n{said}"
    assert stored_bars(tmp_path) == (BARS, BARS), "every bar, once"
    assert retry_said(said, tmp_path), (
        f"PRODUCT GAP: {held} history request(s) failed with the connection and were asked again after the reconnect "
        f"(with backoff), but the output says nothing of it (no line names the lost requests, the retry or the wait):\n{said}")
