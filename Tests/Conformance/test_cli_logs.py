"""One log, through the binary: a backtest writes the strategy's lines at their simulated time
into `log.txt` beside its report, a failing handler's traceback whole there; `moonwire run`
shows a handler's failure as one console line while the day's log file and the journal keep
its whole traceback (and `--log-format json` stays one object a line)."""
import json
import re
import sqlite3
import subprocess

from cli_helpers import environment
from gateway_process import BINARY
from test_backtest import backtest, prepare

# Logs every bar, a timer at 14:31:30 on the simulated clock, and fails once, two calls deep.
LOGGING = """
local n = 0
local function check(b)
  if n == 3 then error("bad bar " .. b.close) end
end
function on_start()
  market.subscribe("AAPL", { bars = "1 min" })
  timer.after(90, function() log.info("timer fired") end)
end
function on_bar(b)
  n = n + 1
  log.info("bar " .. n .. " close " .. b.close)
  check(b)
end
"""

ENTRY = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\w+) +backtest \[logging\] (.*)$")


def entries(text):
    """(time, level, message) of each entry of a log; continuation lines (four spaces) join their entry."""
    found = []
    for line in text.splitlines():
        if line.startswith("    ") and found:
            found[-1] = (found[-1][0], found[-1][1], found[-1][2] + "\n" + line[4:])
            continue
        match = ENTRY.match(line)
        assert match, f"not a log entry: {line!r}\n{text}"
        found.append(match.groups())
    return found


def test_a_backtest_logs_the_strategy_at_simulated_times_into_log_txt(tmp_path):
    store = prepare(tmp_path)
    (tmp_path / "logging.lua").write_text(LOGGING)
    quiet = backtest(tmp_path, store, strategy="logging.lua")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "log.txt beside it" in quiet.stdout, quiet.stdout
    log = (tmp_path / "out" / "log.txt").read_text()
    logged = entries(log)
    # Every entry at a time inside the backtest's span (2024-01-02 14:30 to 14:36), not today.
    assert logged and all("2024-01-02T14:30:00.000Z" <= time <= "2024-01-02T14:36:00.000Z" for time, _, _ in logged), log
    # on_bar of the bar starting 14:3N runs when it has closed: at 14:3(N+1) on the simulated clock.
    bars = [(time, message) for time, _, message in logged if message.startswith("bar ")]
    assert [time for time, _ in bars] == [f"2024-01-02T14:3{n}:00.000Z" for n in range(1, 7)], log
    assert ("2024-01-02T14:31:30.000Z", "INFO", "timer fired") in logged, log
    # The failure, whole: the message with its place, then the traceback through both functions.
    failures = [(time, level, message) for time, level, message in logged if "on_bar failed" in message]
    assert len(failures) == 1, log
    time, level, message = failures[0]
    assert time == "2024-01-02T14:33:00.000Z" and level == "ERROR", failures
    head, traceback = message.split("\n", 1)
    assert head == "on_bar failed: logging.lua:4: bad bar 101.2", head
    assert traceback.startswith("stack traceback:"), traceback
    assert re.search(r"logging\.lua:4: in ", traceback) and re.search(r"logging\.lua:13: in ", traceback), traceback
    # Without --verbose the console has the strategy's errors only, the failure in one line.
    assert "logging: bar 1 close" not in quiet.stderr and "stack traceback" not in quiet.stderr, quiet.stderr
    shown = [line for line in quiet.stderr.splitlines() if "on_bar failed" in line]
    assert len(shown) == 1 and shown[0].endswith("error logging: on_bar failed: logging.lua:4: bad bar 101.2"), quiet.stderr

    # --verbose shows the lines on the console too; the rerun into the same folder writes the
    # same log again (not appended to the first: the simulated clock gives the same times).
    verbose = backtest(tmp_path, store, "--verbose", strategy="logging.lua")
    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    # At the bar's simulated time, as log.txt has it (not the wall clock's).
    assert re.search(r"^2024-01-02T14:36:00Z logging: bar 6 close 102(?:\.0)?$", verbose.stderr, re.M), verbose.stderr
    assert "stack traceback" not in verbose.stderr, verbose.stderr
    assert (tmp_path / "out" / "log.txt").read_text() == log


BOOM = """
local function check(x)
  error("bad tick " .. x)
end
function on_start()
  check(1)
end
"""


def run_boom(tmp_path, *args):
    (tmp_path / "boom.lua").write_text(BOOM)
    return subprocess.run([str(BINARY), "run", "boom.lua", "--duration", "2", "--journal", str(tmp_path / "journal.sqlite"), *args],
                          cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=120)


def day_log(tmp_path):
    return "".join(path.read_text() for path in sorted((tmp_path / "data" / "logs").glob("moonwire_*.log")))


def test_a_handler_failure_is_one_console_line_and_whole_in_the_log_and_journal(tmp_path):
    done = run_boom(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # The console: exactly one line for the failure, naming the handler and the strategy's line.
    failure = [line for line in done.stderr.splitlines() if "failed" in line or "traceback" in line or "boom.lua:" in line]
    assert len(failure) == 1, done.stderr
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} error boom: on_start failed: boom\.lua:3: bad tick 1", failure[0]), failure
    # The day's log file: the whole traceback under the entry.
    log = day_log(tmp_path)
    entry = re.search(r"ERROR +strategy \[boom\] on_start failed: boom\.lua:3: bad tick 1\n((?:    .*\n)+)", log)
    assert entry, log[-3000:]
    traceback = entry.group(1)
    assert traceback.startswith("    stack traceback:"), traceback
    assert "boom.lua:3: in " in traceback and "boom.lua:6: in " in traceback, traceback
    # The journal too.
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        details = [row[0] for row in db.execute("SELECT detail FROM strategy_events WHERE strategy = 'boom' AND kind = 'error'")]
    assert len(details) == 1 and "stack traceback:" in details[0] and "boom.lua:6: in " in details[0], details


def test_a_handler_failure_stays_one_json_object_with_log_format_json(tmp_path):
    done = run_boom(tmp_path, "--log-format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    objects = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    failures = [o for o in objects if "on_start failed" in o.get("message", "")]
    assert len(failures) == 1 and failures[0]["level"] == "error" and failures[0]["strategy"] == "boom", objects
    assert failures[0]["message"].startswith("on_start failed: boom.lua:3: bad tick 1\nstack traceback:"), failures
    logged = [json.loads(line) for line in day_log(tmp_path).splitlines() if "on_start failed" in line]
    assert len(logged) == 1 and "boom.lua:6: in " in logged[0]["message"], logged
