"""One log, through a closed pipe: a `moonwire run` whose standard output's reader goes away
after the first byte keeps trading, reloads and halts by command; its day's log file holds
every component's lines (the connection, the strategy, the reload, the halt, the summary) and
its journal the whole order and fill."""
import os
import re
import sqlite3
import subprocess
import time

from cli_helpers import environment
from gateway_process import BINARY

V1 = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if bought or not q.ask then return end
  bought = orders.buy("AAPL", 1)
end
function on_fill(f) log.info("filled " .. f.qty .. " at " .. f.price) end
"""

V2 = V1 + """
function on_reload() log.info("v2 loaded by command") end
"""


def wait_for(path, pattern, timeout=60):
    """Waits for a line matching `pattern` in the file at `path` (the run's stderr)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{text[-3000:]}")


def test_a_run_without_its_stdout_logs_every_component_and_journals_everything(tmp_path):
    (tmp_path / "r.lua").write_text(V1)
    journal = tmp_path / "journal.sqlite"
    err_path = tmp_path / "run.err"
    read, write = os.pipe()
    with open(err_path, "w") as err:
        run = subprocess.Popen([str(BINARY), "run", "r.lua", "--no-watch", "--journal", str(journal)],
                               stdout=write, stderr=err, env=environment(tmp_path), cwd=tmp_path)
    os.close(write)
    try:
        os.read(read, 1)  # the first byte of its output, then the reader goes away
        os.close(read)
        wait_for(err_path, r"r: filled 1 at ")
        (tmp_path / "r.lua").write_text(V2)
        reload = subprocess.run([str(BINARY), "reload", "--journal", str(journal)], cwd=tmp_path, env=environment(tmp_path),
                                capture_output=True, text=True, timeout=30)
        assert reload.returncode == 0 and "r: reloaded" in reload.stdout, reload.stdout + reload.stderr
        wait_for(err_path, r"v2 loaded by command")
        halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=tmp_path, env=environment(tmp_path),
                              capture_output=True, text=True, timeout=30)
        assert halt.returncode == 0, halt.stdout + halt.stderr
        status = run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    console = err_path.read_text(errors="replace")
    assert status == 0, f"exit {status}: {console[-3000:]}"
    assert "Fatal error" not in console, console[-3000:]

    logs = sorted((tmp_path / "data" / "logs").glob("moonwire_*.log"))
    assert logs, f"no day's log in {tmp_path / 'data' / 'logs'}"
    log = "".join(path.read_text() for path in logs)
    # Each component's lines, in the order they happened.
    expected = [
        ("the connection", r"moonwire +connecting to 127\.0\.0\.1:\d+ .*\n.*moonwire +connected in [\d.]+ s: account \w+"),
        ("the strategy", r"strategy \[r\] filled 1 at "),
        ("the new code's on_reload", r"strategy \[r\] v2 loaded by command"),
        ("the reload", r"moonwire +reloaded r\.lua"),
        ("the halt", r"moonwire +halt: cancelling every open order"),
        ("the summary", r"moonwire +summary of r after"),
        ("the account's figures", r"account pnl: "),
    ]
    position = 0
    for what, pattern in expected:
        found = re.compile(pattern).search(log, position)
        assert found, f"{what} ({pattern!r}) is not in the day's log after position {position}:\n{log[-4000:]}"
        position = found.end()

    with sqlite3.connect(journal) as db:
        orders = db.execute("SELECT status FROM orders").fetchall()
        executions = db.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
    assert orders == [("filled",)], orders
    assert executions == 1
