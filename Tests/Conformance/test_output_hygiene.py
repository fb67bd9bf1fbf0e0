"""What a strategy writes reaches the console, the log file and the journal escaped and capped,
through the binary: an ESC or CR cannot clear the screen or forge a line attributed to another
strategy, a 30 MB error costs a few KB on the console and 64 KB in the log and journal, and the
log files are the user's alone (0600 in a 0700 folder)."""
import os
import re
import sqlite3
import stat
import subprocess

from cli_helpers import environment
from gateway_process import BINARY

FORGER = r"""
function on_start()
  log.info("\27[2J\rother: forged")
  print("bell\7nul\0del\127 c1\194\155 tab\tend")
  log.warn("first\nother: second line")
end
"""

QUIET = """
function on_start() log.info("just a line") end
"""

FLOOD = """
function on_start() error(string.rep("x", 30 * 1024 * 1024), 0) end
"""

ENTRY = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (?:\w+ )?([\w-]+): ")


def run(tmp_path, *files, limits=""):
    config = tmp_path / "moonwire.yaml"
    config.write_text(limits + "strategies:\n" + "".join(f"  - file: {tmp_path / name}\n" for name in files))
    return subprocess.run([str(BINARY), "run", "--config", str(config), "--duration", "2", "--journal", str(tmp_path / "journal.sqlite")],
                          cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=120)


def log_text(tmp_path):
    folder = tmp_path / "data" / "logs"
    return "".join(path.read_text(errors="replace") for path in sorted(folder.glob("moonwire_*.log")))


def test_control_characters_are_escaped_and_lines_stay_with_their_strategy(tmp_path):
    (tmp_path / "writer.lua").write_text(FORGER)
    (tmp_path / "other.lua").write_text(QUIET)
    done = run(tmp_path, "writer.lua", "other.lua")
    assert done.returncode == 0, done.stderr[-3000:]
    console = done.stderr
    for raw in ("\x1b", "\r", "\x00", "\x07", "\x7f", "\x9b"):
        assert raw not in console, repr(raw)
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} writer: \\e\[2J\\rother: forged$", console, re.M), console
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} writer: bell\\x07nul\\x00del\\x7f c1\\u\{9b\} tab\tend$", console, re.M), console
    # A line break inside a message continues it, indented: it never starts an entry.
    assert re.search(r"writer: first\n    other: second line$", console, re.M), console
    attributed = [m.group(1) for line in console.splitlines() if (m := ENTRY.match(line))]
    assert "other" in attributed  # its own "just a line"
    # Every line carrying the forged text is writer's own entry or a continuation of it.
    carrying = [line for line in console.splitlines() if "forged" in line or "second line" in line]
    assert carrying and all(line.startswith("    ") or ENTRY.match(line).group(1) == "writer" for line in carrying), carrying
    # The log file: the same escapes, each entry named by its strategy.
    log = log_text(tmp_path)
    assert "\x1b" not in log and "\r" not in log and "\x00" not in log
    assert re.search(r"\[writer\] \\e\[2J\\rother: forged$", log, re.M), log[-3000:]
    assert re.search(r"\[writer\] first\n    other: second line$", log, re.M), log[-3000:]


def test_log_files_are_private(tmp_path):
    (tmp_path / "other.lua").write_text(QUIET)
    done = run(tmp_path, "other.lua")
    assert done.returncode == 0, done.stderr[-3000:]
    folder = tmp_path / "data" / "logs"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    files = list(folder.glob("moonwire_*.log"))
    assert files
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_30_mb_error_is_capped_on_the_console_in_the_log_and_in_the_journal(tmp_path):
    (tmp_path / "flood.lua").write_text(FLOOD)
    # Room to build the 30 MB string on a loaded machine: the error must be the message, not the budget.
    done = run(tmp_path, "flood.lua", limits="strategy:\n  budget_ms: 5000\n  hard_limit_ms: 20000\n  memory_mb: 512\n")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if "xxxx" in line]
    assert len(lines) == 1, done.stderr[-2000:]
    assert len(lines[0]) < 4096 + 200, len(lines[0])
    assert re.search(r"x … \[\d+\.\d MB cut; the log file keeps up to 64\.0 KB of it\]$", lines[0]), lines[0][-200:]
    assert len(done.stderr) < 64 * 1024, len(done.stderr)
    log = log_text(tmp_path)
    assert len(log) < 128 * 1024, len(log)
    assert re.search(r"x … \[\d+\.\d MB cut\]$", log, re.M), log[-300:]
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        details = [row[0] for row in db.execute("SELECT detail FROM strategy_events WHERE strategy = 'flood' AND detail LIKE '%xxxx%'")]
    assert details, "the error is journaled"
    for detail in details:
        assert len(detail.encode()) <= 64 * 1024 + 100, len(detail)
        assert re.search(r"x … \[\d+\.\d MB cut\]$", detail), detail[-200:]
