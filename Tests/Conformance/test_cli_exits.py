"""How commands end, seen from a shell: `moonwire quote AAPL | head -1` ends when `head` goes
away (it redrew into the closed pipe for ever); `moonwire gateway` exits 130 after Ctrl-C and
143 after SIGTERM like every other command (it exited 0); `moonwire quote NOTREAL --once` is an
error on standard error with exit 1 (it exited 0, the failure only a row of the table); a
negative number for a numeric option reaches the option's range check (ArgumentParser read
`-5` as an option and said "Missing value"); a `--bar` nobody can mean lists the sizes there are."""
import os
import re
import signal
import subprocess

import pytest

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY


def moonwire(tmp_path, *args, timeout=60):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def end(process):
    """Ends a child that is still running (by its pid), bounded."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_a_quote_stream_ends_when_its_reader_goes_away(tmp_path):
    read, write = os.pipe()
    quote = subprocess.Popen([str(BINARY), "quote", "AAPL"], cwd=tmp_path, env=environment(tmp_path), stdout=write,
                             stderr=subprocess.PIPE)
    os.close(write)
    try:
        # `head -1`: the first line, then the reader goes away.
        with os.fdopen(read, "rb") as reader:
            first = reader.readline()
        assert first.startswith(b"instrument"), first
        # Before: it redrew every second into the closed pipe and never exited.
        _, stderr = quote.communicate(timeout=30)
        text = stderr.decode(errors="replace")
        assert quote.returncode == 0, f"exit {quote.returncode}: {text[-2000:]}"
        assert "Fatal error" not in text and "Illegal instruction" not in text, text[-2000:]
    finally:
        end(quote)


@pytest.mark.parametrize("name,number,expected", [("SIGINT", signal.SIGINT, 130), ("SIGTERM", signal.SIGTERM, 143)])
def test_the_gateway_exits_128_plus_the_signal(tmp_path, name, number, expected):
    gateway = subprocess.Popen([str(BINARY), "gateway", "--host", "127.0.0.1", "--port", "0"], cwd=tmp_path,
                               env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = gateway.stdout.readline()
        assert "listening on" in line, line + gateway.stderr.read()
        gateway.send_signal(number)
        out, err = gateway.communicate(timeout=30)
        assert gateway.returncode == expected, f"{name}: 128 + {int(number)} = {expected}, got {gateway.returncode}: {err[-2000:]}"
        assert "paper gateway stopping" in out, out
    finally:
        end(gateway)


def test_an_unknown_instrument_is_one_error_line_and_exit_1(tmp_path):
    alone = moonwire(tmp_path, "quote", "NOTREAL", "--once")
    assert alone.returncode == 1, (alone.returncode, alone.stdout, alone.stderr)
    errors = alone.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and "NOTREAL" in errors[0], alone.stderr

    # With a known one: its quotes on standard output, the unknown one named on standard error.
    mixed = moonwire(tmp_path, "quote", "AAPL", "NOTREAL", "--once")
    assert mixed.returncode == 1, (mixed.returncode, mixed.stdout, mixed.stderr)
    assert re.search(r"^AAPL\s+\d+\.\d\d\s+\d+\.\d\d", mixed.stdout, re.M), mixed.stdout
    errors = mixed.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and "NOTREAL" in errors[0], mixed.stderr


def test_a_stream_of_nothing_known_ends_at_once_with_exit_1(tmp_path):
    # Before: it drew a table of errors until --seconds (here longer than the test waits).
    done = moonwire(tmp_path, "quote", "NOTREAL", "--seconds", "600", timeout=60)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("error: ") and "NOTREAL" in done.stderr, done.stderr


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    (tmp_path / "bars.csv").write_text(HAND_BARS)
    return tmp_path


BACKTEST = ("backtest", "s.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03", "--offline",
            "--store", "bars.sqlite")
IMPORT = ("history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")

# (the command line, the usage it must show, what the message must say)
NEGATIVES = [
    (("quote", "AAPL", "--seconds", "-5"), "moonwire quote", "--seconds must be more than 0"),
    (("quote", "AAPL", "--client-id", "-1"), "moonwire quote", "--client-id must be between 0 and 2147483647, got -1"),
    (("gateway", "--port", "-1"), "moonwire gateway", "--port must be between 0 and 65535, got -1"),
    (("gateway", "--control-port", "-2"), "moonwire gateway", "--control-port must be between 0 and 65535, got -2"),
    (("gateway", "--tick-interval-ms", "-1"), "moonwire gateway", "--tick-interval-ms must be between 0 and"),
    (BACKTEST + ("--cash", "-5"), "moonwire backtest", "--cash must be between 1 and"),
    (BACKTEST + ("--jobs", "-2"), "moonwire backtest", "--jobs must be between 1 and 256, got -2"),
    (BACKTEST + ("--slippage", "-1"), "moonwire backtest", "--slippage must be between 0 and 1000, got -1"),
    (BACKTEST + ("--tick", "-0.5"), "moonwire backtest", "--tick must be more than 0"),
    (("history", "AAPL", "--from", "2024-01-02", "--client-id", "-3"), "moonwire history download",
     "--client-id must be between 0 and 2147483647, got -3"),
    (IMPORT + ("--tick", "-1"), "moonwire history import", "--tick must be"),
    (IMPORT + ("--multiplier", "-50"), "moonwire history import", "--multiplier must be"),
]


@pytest.mark.parametrize("args,usage,message", NEGATIVES, ids=[" ".join(n[0][:2]) + " " + n[2][:20] for n in NEGATIVES])
def test_a_negative_number_reaches_the_range_check(workspace, args, usage, message):
    done = moonwire(workspace, *args)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert "Missing value" not in done.stderr, done.stderr
    assert message in done.stderr, done.stderr
    assert f"Usage: {usage} " in done.stderr, done.stderr


IB_SIZES = "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, 30 mins, " \
           "1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1 week, 1 month"


@pytest.mark.parametrize("bar", ["1 minute", "0 mins", "5", "min"])
def test_a_backtest_bar_size_nobody_can_mean_lists_the_sizes(workspace, bar):
    done = moonwire(workspace, *BACKTEST[:-3], "--bar", bar)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert f"--bar '{bar}' is not a bar size" in done.stderr and IB_SIZES in done.stderr, done.stderr
    assert "Usage: moonwire backtest " in done.stderr, done.stderr


def test_an_import_bar_size_lists_ibs_sizes(workspace):
    done = moonwire(workspace, *IMPORT[:-4], "--bar", "7 mins")
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert f"--bar '7 mins' is not one of IB's bar sizes ({IB_SIZES})" in done.stderr, done.stderr
    assert "Usage: moonwire history import " in done.stderr, done.stderr
