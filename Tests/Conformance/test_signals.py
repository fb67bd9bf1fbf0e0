"""Signals to the binary, as the README promises them: SIGTERM ends `moonwire run` with 143 after
its summary and shutdown, leaving open orders open (README: "Open orders stay open": `halt` is
what cancels); `kill -USR1` halts it (cancels the strategy's orders, exit 0); `kill -HUP`
reloads its strategies; Ctrl-C (SIGINT) ends a run with 130, and a backtest with 130 and the
summary of the bars run so far ("INTERRUPTED"), SIGTERM a backtest with 143.

Every wait is on an output line or a condition, each bounded; only processes this file
starts are signalled or killed."""
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import pathlib

import pytest

from cli_helpers import ChildOutput as Output, environment
from gateway_process import BINARY, Gateway


def stop(process):
    """Kills `process` (one this test started) if it still runs."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def working(gateway):
    """The number of working orders at the paper gateway (its control port's `status`)."""
    reply = gateway.control("status")
    match = re.search(r"\bworking=(\d+)", reply)
    assert match, reply
    return int(match.group(1))


# Rests one buy of 1 AAPL at half the bid (it never fills) and says so once TWS has it.
REST_ONE = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
end
function on_order(o)
  if o.id == placed and o.status == "submitted" and not told then told = true; print("resting " .. o.id) end
end
function on_stop() print("on_stop ran") end
"""


def short_folder():
    """A folder under /tmp whose journal path leaves room for the control socket beside it
    (pytest's own folders can be too long), so registration and socket are both in
    JOURNAL.control/."""
    return pathlib.Path(tempfile.mkdtemp(prefix="mw-sig-", dir="/tmp"))


def start_run(folder, gateway, *extra, source=REST_ONE, name="rest"):
    (folder / f"{name}.lua").write_text(source)
    process = subprocess.Popen([str(BINARY), "run", str(folder / f"{name}.lua"), "--gateway", f"127.0.0.1:{gateway.port}",
                                "--client-id", "1", "--journal", str(folder / "journal.sqlite"), "--no-watch",
                                "--status-every", "0", *extra],
                               cwd=folder, env=environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, Output(process)


def test_sigterm_ends_a_run_with_143_after_the_summary_and_leaves_the_order_open():
    folder = short_folder()
    with Gateway("--seed", "11", "--tick-interval-ms", "50") as gateway:
        run, output = start_run(folder, gateway)
        try:
            order = output.wait_for(r"resting (\d+)", "stderr").group(1)
            assert working(gateway) == 1, "TWS works the order before the strategy is told it is submitted"
            assert list((folder / "journal.sqlite.control").glob("*.run")), "the run registers its control channel"
            run.send_signal(signal.SIGTERM)
            status = output.finish(timeout=60)
            out, err = output.text("stdout"), output.text("stderr")
            assert status == 143, f"SIGTERM: 128 + 15, got {status}\n{out}\n{err[-3000:]}"
            # Progress, then the summary, in that order, on stdout.
            assert "terminated: stopping" in out and "summary of rest after" in out, out
            assert out.index("terminated: stopping") < out.index("summary of rest after"), out
            assert re.search(rf"left open\s+order {order} BUY 1 AAPL LMT ", out), out
            assert "warning: the run leaves risk on" in out, out
            # Shutdown: the strategy's on_stop ran, the control channel is gone.
            assert "on_stop ran" in err, err[-3000:]
            assert not list((folder / "journal.sqlite.control").glob("*")), "the run removes its socket and registration"
            # Open orders stay open after SIGTERM: only a halt (or USR1) cancels them.
            assert working(gateway) == 1, "the order is still working at TWS"
        finally:
            stop(run)
            shutil.rmtree(folder, ignore_errors=True)


def test_usr1_halts_a_run_cancelling_its_orders():
    folder = short_folder()
    with Gateway("--seed", "12", "--tick-interval-ms", "50") as gateway:
        run, output = start_run(folder, gateway)
        try:
            output.wait_for(r"resting \d+", "stderr")
            assert working(gateway) == 1
            run.send_signal(signal.SIGUSR1)
            status = output.finish(timeout=60)
            out, err = output.text("stdout"), output.text("stderr")
            assert status == 0, f"a run ended by the kill switch exits 0, got {status}\n{out}\n{err[-3000:]}"
            assert "halt: cancelling every open order and stopping" in out, out
            assert out.index("halt: cancelling every open order") < out.index("summary of rest after"), out
            assert re.search(r"left open\s+no orders", out), out
            assert working(gateway) == 0, "the kill switch cancelled the strategy's order at TWS"
        finally:
            stop(run)
            shutil.rmtree(folder, ignore_errors=True)


def test_hup_reloads_the_strategies_and_ctrl_c_then_ends_the_run_with_130():
    folder = short_folder()
    with Gateway("--seed", "13", "--tick-interval-ms", "50") as gateway:
        run, output = start_run(folder, gateway, source="function on_start() print('v1 started') end\n", name="r")
        try:
            output.wait_for(r"v1 started", "stderr")
            # --no-watch: saving does nothing by itself; the signal reloads.
            (folder / "r.lua").write_text("function on_reload(store) print('v2 reloaded by HUP') end\n")
            run.send_signal(signal.SIGHUP)
            output.wait_for(r"v2 reloaded by HUP", "stderr")
            output.wait_for(r"reloaded r\.lua", "stdout")
            assert run.poll() is None, "HUP reloads; it does not end the run"
            run.send_signal(signal.SIGINT)
            status = output.finish(timeout=60)
            out = output.text("stdout")
            assert status == 130, f"Ctrl-C: 128 + 2, got {status}\n{out}"
            assert out.index("interrupted: stopping") < out.index("summary of r after"), out
            assert out.count("reloaded r.lua") == 1, out
        finally:
            stop(run)
            shutil.rmtree(folder, ignore_errors=True)


# Its top level takes a moment (some 0.3 s of arithmetic, which `run` checks before connecting
# and runs again when it loads the strategy): a HUP sent then comes before any strategy runs.
SLOW_TOP = """
local x = 0
for i = 1, 20000000 do x = x + i end
function on_start() print("v1 started") end
function on_reload() print("reloaded after the early HUP") end
"""


def test_a_hup_while_the_run_checks_its_strategy_reloads_it_once_it_runs():
    # Before, SIGHUP was caught only once the strategies ran: one as early as this ended the
    # process (129), with nothing said.
    folder = short_folder()
    (folder / "slow.lua").write_text(SLOW_TOP)
    run = subprocess.Popen([str(BINARY), "run", str(folder / "slow.lua"), "--duration", "4", "--no-watch",
                            "--journal", str(folder / "j.sqlite")],
                           cwd=folder, env=environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = Output(run)
    try:
        output.wait_for(r"no config file", "stdout")
        run.send_signal(signal.SIGHUP)
        status = output.finish(timeout=60)
        out, err = output.text("stdout"), output.text("stderr")
        assert status == 0, f"a HUP never ends a run, got {status}\n{out}\n{err[-2000:]}"
        assert "connecting to" in out and out.index("connecting to") < out.index("reloaded slow.lua"), out
        assert "v1 started" in err and "reloaded after the early HUP" in err, err
    finally:
        stop(run)
        shutil.rmtree(folder, ignore_errors=True)


# A backtest far longer than any test waits: 20,160 one-minute bars (two weeks), each costing
# its handler about a millisecond (some 25 s in all; well inside the 50 ms handler budget on a
# loaded machine). The first bar says it has started (--verbose shows the strategy's lines);
# the signal comes right after, so the run stops with almost all bars unrun.
SLOW_BARS = 20_160
SLOW = """
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  if not started then started = true; log.info("first bar handled") end
  local x = 0
  for i = 1, 100000 do x = x + i end
end
"""


@pytest.fixture
def slow_backtest(tmp_path):
    start = 1_704_067_200  # 2024-01-01 00:00 UTC
    rows = ["time,open,high,low,close,volume"]
    for i in range(SLOW_BARS):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 60 * i))
        rows.append(f"{stamp},100.00,100.50,99.50,100.20,1000")
    (tmp_path / "bars.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "slow.lua").write_text(SLOW)
    imported = subprocess.run([str(BINARY), "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min",
                               "--store", "bars.sqlite"], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                              timeout=120)
    assert imported.returncode == 0, imported.stdout + imported.stderr

    def start_backtest(*extra):
        process = subprocess.Popen([str(BINARY), "backtest", "slow.lua", "--instruments", "AAPL", "--from", "2024-01-01",
                                    "--to", "2024-01-15", "--store", "bars.sqlite", "--offline", "--out", "cut", "--verbose", *extra],
                                   cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return process, Output(process)
    return start_backtest


@pytest.mark.parametrize("name, number, expected", [("SIGINT", signal.SIGINT, 130), ("SIGTERM", signal.SIGTERM, 143)])
def test_a_signal_ends_a_backtest_with_the_summary_of_the_bars_run(slow_backtest, tmp_path, name, number, expected):
    process, output = slow_backtest()
    try:
        output.wait_for(r"first bar handled", "stderr", timeout=120)
        process.send_signal(number)
        status = output.finish(timeout=60)
        out, err = output.text("stdout"), output.text("stderr")
        assert status == expected, f"{name}: 128 + {int(number)} = {expected}, got {status}\n{out}\n{err[-3000:]}"
        bars = re.search(r"INTERRUPTED after (\d+) bars: the figures cover only those", out)
        assert bars, out
        assert 0 < int(bars.group(1)) < SLOW_BARS, out
        assert re.search(rf"bars processed\s+{bars.group(1)}\b", out), out
        assert (tmp_path / "cut" / "report.html").exists(), "the report of the bars run is written"
        assert "report: " in out and out.index("INTERRUPTED") < out.index("report: "), out
    finally:
        stop(process)


def test_sigterm_ends_a_parameter_sweep_with_143_after_its_table(slow_backtest):
    process, output = slow_backtest("--param", "n=1,2", "--jobs", "2")
    try:
        output.wait_for(r"first bar handled", "stderr", timeout=120)
        process.send_signal(signal.SIGTERM)
        status = output.finish(timeout=60)
        out, err = output.text("stdout"), output.text("stderr")
        assert status == 143, f"SIGTERM: 143, got {status}\n{out}\n{err[-3000:]}"
        assert "(interrupted)" in out and "table: " in out, out
    finally:
        stop(process)
