"""Usage mistakes show the usage of the command that was mistyped, exit 64 (EX_USAGE); a failure
while running stays one line `error: ...`, exit 1. Before: a mistake found while a command ran
(`--param n`, `--to` before `--from`, `--commission bogus`) printed `Usage: moonwire <subcommand>`,
and `--gateway foo` was a one-line runtime error with exit 1."""
import pytest

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY

import subprocess


def moonwire(tmp_path, *args, timeout=60):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    return tmp_path


BACKTEST = ("backtest", "s.lua", "--instruments", "AAPL", "--offline", "--store", "bars.sqlite")

# (the command line, the usage line it must show, what the message must say)
MISTAKES = [
    (("run", "s.lua", "--param", "n"), "moonwire run", "--param 'n' is not key=value"),
    (("run", "s.lua", "--gateway", "foo"), "moonwire run", "--gateway 'foo' is not HOST:PORT"),
    (("run", "s.lua", "--quiet", "--verbose"), "moonwire run", "--verbose and --quiet contradict each other"),
    (BACKTEST + ("--from", "2024-01-03", "--to", "2024-01-02"), "moonwire backtest", "--to must come after --from"),
    (BACKTEST + ("--from", "2024-01-02", "--to", "2024-01-03", "--commission", "bogus"), "moonwire backtest",
     "--commission must be ib-fixed, ib-tiered, none or per-unit:AMOUNT"),
    (BACKTEST + ("--from", "2024-01-02", "--to", "2024-01-03", "--gateway", "foo"), "moonwire backtest",
     "--gateway 'foo' is not HOST:PORT"),
    (("history", "AAPL", "--from", "2024-01-03", "--to", "2024-01-02"), "moonwire history download", "--to must come after --from"),
    (("history", "export", "AAPL", "--bar", "1 min", "--from", "yesterday"), "moonwire history export", "--from 'yesterday' is not a date: YYYY-MM-DD"),
    (("connect", "--gateway", "foo"), "moonwire connect", "--gateway 'foo' is not HOST:PORT"),
    (("quote", "AAPL", "--gateway", "foo"), "moonwire quote", "--gateway 'foo' is not HOST:PORT"),
]


@pytest.mark.parametrize("args,usage,message", MISTAKES, ids=[" ".join(m[0][:3]) + " " + m[2][:24] for m in MISTAKES])
def test_a_usage_mistake_shows_that_commands_usage_and_exits_64(files, args, usage, message):
    done = moonwire(files, *args)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert message in done.stderr, done.stderr
    # The mistyped command's own usage (its options), never the top level's list of subcommands.
    assert f"Usage: {usage} " in done.stderr, done.stderr
    assert "<subcommand>" not in done.stderr, done.stderr
    assert f"See '{usage} --help'" in done.stderr, done.stderr
    # Said once.
    assert done.stderr.count(message) == 1, done.stderr
    assert done.stdout == "", done.stdout


def test_a_runtime_failure_is_one_line_and_exits_1(files):
    missing = moonwire(files, "run", "nowhere.lua")
    assert missing.returncode == 1, (missing.returncode, missing.stderr)
    assert missing.stderr == "error: nowhere.lua: no such strategy file\n", missing.stderr
    (files / "bars.csv").write_text(HAND_BARS)
    imported = moonwire(files, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")
    assert imported.returncode == 0, imported.stderr
    nothing = moonwire(files, "history", "export", "MSFT", "--bar", "1 min", "--store", "bars.sqlite")
    assert nothing.returncode == 1, (nothing.returncode, nothing.stderr)
    assert nothing.stderr.startswith("error: no bars of MSFT") and nothing.stderr.count("\n") == 1, nothing.stderr
    assert "Usage" not in nothing.stderr
