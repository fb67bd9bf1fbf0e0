"""Log rotation end to end, through `moonwire run` (README, "Logs": every line goes to the
day's log file `logs/moonwire_YYYY-MM-DD.log`, "rotated past `logging.max_mb` (10) into
`.1.log`, `.2.log` ..., and deleted after `logging.keep_days` (7)"; the files 0600; LogFile:
old files are deleted at start and at each rotation).

A run with `logging.max_mb` of about 4 KB writes 400 numbered strategy lines: the day's file
is rotated into `.1.log`, `.2.log`, ... each past the cap by at most one line, and reading them
in order (.1, .2, ..., then the day's file) gives every line once, in order. A log file older
than `keep_days` is deleted at the start, one made old during the run at the next rotation; a
younger one and a file that is not Moonwire's log stay.

The day's change cannot be driven from outside (the file's day is the wall clock's, and no
setting or variable moves it): it is not tested here."""
import datetime
import os
import re
import shutil
import signal
import subprocess
import time

from cli_e2e import short_folder, stop, wait_after
from cli_helpers import ChildOutput, environment
from gateway_process import BINARY

MAX_MB = 0.004
CAP = int(MAX_MB * 1_048_576)  # 4194 bytes
LINES = 400

READY = """
function on_start() print("ready to log") end
"""

# Logs LINES numbered lines, 20 every 20 ms, once reloaded (`moonwire reload`): the test sets
# up the folder between the start and the reload.
LOGGER = f"""
local pad = string.rep("x", 60)
function on_reload()
  local n = 0
  local ticking
  ticking = timer.every(0.02, function()
    for _ = 1, 20 do
      n = n + 1
      log.info(string.format("line %04d %s", n, pad))
    end
    if n >= {LINES} then
      timer.cancel(ticking)
      print("logged {LINES} lines")
    end
  end)
end
"""

DAY_FILE = re.compile(r"moonwire_(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.log$")


def age(path, days):
    """Gives `path` a modification time `days` ago."""
    when = time.time() - days * 86_400
    os.utime(path, (when, when))


def written_in_order(logs, since_day):
    """The day files from `since_day` on, in the order they were written: for each day its
    rotated files .1, .2, ... then the day's file itself."""
    found = []
    for name in os.listdir(logs):
        match = DAY_FILE.match(name)
        if match and match.group(1) >= since_day:
            number = int(match.group(2)) if match.group(2) else float("inf")
            found.append((match.group(1), number, name))
    return [logs / name for _, _, name in sorted(found)]


def test_the_days_log_is_rotated_by_size_keeping_every_line_and_deleting_old_files():
    folder = short_folder("mw-logs-")
    logs = folder / "logs"
    logs.mkdir(mode=0o700)
    # Before the run: one log older than keep_days (deleted at start), one younger (kept), a
    # file that is not Moonwire's log (never touched).
    stale, recent, other = logs / "moonwire_2020-01-01.log", logs / "moonwire_2020-01-02.log", logs / "notes.txt"
    for path in (stale, recent, other):
        path.write_text("from before\n")
    age(stale, 10)
    age(recent, 1)
    age(other, 10)
    (folder / "run.yaml").write_text(f"logging:\n  folder: {logs}\n  max_mb: {MAX_MB}\n  keep_days: 2\n")
    strategy = folder / "r.lua"
    strategy.write_text(READY)
    day_before = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    run = None
    try:
        run = subprocess.Popen([str(BINARY), "run", str(strategy), "--config", str(folder / "run.yaml"), "--journal", str(folder / "journal.sqlite"),
                                "--no-watch", "--status-every", "0"],
                               cwd=folder, env=environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = ChildOutput(run)
        wait_after(output, r"ready to log", "stderr", 0, timeout=90)
        assert not stale.exists(), "a log file older than logging.keep_days is deleted when the run starts"
        assert recent.exists() and other.exists()
        # Made old while the run goes: deleted at the next rotation.
        aged_later = logs / "moonwire_2020-01-03.log"
        aged_later.write_text("from before\n")
        age(aged_later, 10)

        strategy.write_text(LOGGER)
        reload = subprocess.run([str(BINARY), "reload", "--journal", str(folder / "journal.sqlite")], cwd=folder, env=environment(folder),
                                capture_output=True, text=True, timeout=60)
        assert reload.returncode == 0 and "r: reloaded" in reload.stdout, reload.stdout + reload.stderr
        wait_after(output, rf"logged {LINES} lines", "stderr", 0, timeout=60)
        run.send_signal(signal.SIGINT)
        status = output.finish(timeout=60)
        err = output.text("stderr")
        assert status == 130, f"Ctrl-C ends the run with 130, got {status}\n{err[-3000:]}"
    finally:
        stop(run)

    try:
        files = written_in_order(logs, day_before)
        names = [path.name for path in files]
        day = DAY_FILE.match(names[-1]).group(1)
        assert names[-1] == f"moonwire_{day}.log", names
        rotated = [name for name in names if DAY_FILE.match(name).group(2)]
        # About 48 KB of lines in files of about 4 KB: many rotations, numbered from 1 up.
        assert len(rotated) >= 5, f"the day's log was not rotated past logging.max_mb ({CAP} bytes): {names}"
        per_day = {}
        for name in rotated:
            per_day.setdefault(DAY_FILE.match(name).group(1), []).append(int(DAY_FILE.match(name).group(2)))
        for numbers in per_day.values():
            assert numbers == list(range(1, len(numbers) + 1)), f"rotated files are .1.log, .2.log, ... with none missing: {names}"

        texts = [path.read_text() for path in files]
        longest = max(len(line.encode()) + 1 for text in texts for line in text.splitlines())
        for path, text in zip(files, texts):
            size = len(text.encode())
            assert size == path.stat().st_size
            assert oct(path.stat().st_mode & 0o777) == "0o600", f"{path.name} is {oct(path.stat().st_mode & 0o777)}: log files are 0600"
            if path.name != names[-1]:
                # Rotated past the cap: at least the cap, and past it by one line at most.
                assert CAP <= size <= CAP + longest, f"{path.name}: {size} bytes, cap {CAP}, longest line {longest}"
            else:
                assert size <= CAP + longest, f"{path.name}: {size} bytes, cap {CAP}"

        # Every line once, in order, across the files read in the order they were written.
        numbered = [int(match.group(1)) for text in texts for match in re.finditer(r"\[r\] line (\d{4}) x{60}$", text, re.MULTILINE)]
        assert numbered == list(range(1, LINES + 1)), (
            f"lines lost, repeated or out of order across the rotated files: "
            f"missing {sorted(set(range(1, LINES + 1)) - set(numbered))[:20]}, {len(numbered)} found")
        joined = "".join(texts)
        assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO +\S+ \[r\] line 0001 x{60}$", joined, re.MULTILINE), \
            "a log line: UTC time to the millisecond, the level, the component, the strategy"
        # The run's own lines are in the files too, to its end.
        assert "ready to log" in joined and "summary of r after" in joined, joined[-2000:]

        assert not aged_later.exists(), "a log file older than logging.keep_days is deleted at a rotation"
        assert recent.exists(), "a log file younger than logging.keep_days is kept"
        assert other.exists() and other.read_text() == "from before\n", "only Moonwire's log files are deleted"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
