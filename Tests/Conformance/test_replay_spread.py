"""`--replay-spread` and `--replay-what`: a bad value is refused naming the option, on `run` and
`gateway` alike; at a spread of 0 a strategy on the replay is quoted bid = ask = last, so its market
orders fill at the replayed price as a backtest's fill at the bar's (docs/backtest.md, "Parity
with the replay"; BacktestReplayParityTests.swift holds the fills themselves)."""
import re
import subprocess

import pytest

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY

QUOTES = """
function on_start() market.subscribe("TSLA") end
function on_quote(q)
  if q.last and q.bid and q.ask then print(string.format("quote %.4f %.4f %.4f", q.bid, q.ask, q.last)) end
end
"""


def moonwire(tmp_path, *args, timeout=60):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def replay_args(store, *extra):
    return ["--replay", "TSLA", "--replay-from", "2024-01-02 14:30", "--replay-store", str(store), *extra]


@pytest.fixture
def store(tmp_path):
    (tmp_path / "bars.csv").write_text(HAND_BARS)
    (tmp_path / "watch.lua").write_text(QUOTES)
    store = tmp_path / "bars.sqlite"
    done = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "TSLA", "--bar", "1 min", "--store", str(store))
    assert done.returncode == 0, done.stderr
    return store


@pytest.mark.parametrize("option", ["--replay-spread=-1", "--replay-spread=101", "--replay-spread=1.5", "--replay-spread=nan",
                                    "--replay-spread=99999999999999999999", "--replay-what=FOO", "--replay-what="])
def test_bad_values_are_refused_naming_the_option(tmp_path, store, option):
    name = option.split("=")[0]
    for command in (["run", "watch.lua", "--duration", "1"], ["gateway", "--port", "0"]):
        done = moonwire(tmp_path, *command, *replay_args(store, option))
        assert done.returncode == 64, (command, done.returncode, done.stderr[-2000:])
        assert "Fatal error" not in done.stderr and name in done.stderr, done.stderr[-2000:]


def quotes(tmp_path, store, *extra):
    run = moonwire(tmp_path, "run", "watch.lua", *replay_args(store, "--speed", "60", "--duration", "3", "--journal",
                                                                  str(tmp_path / "journal.sqlite"), *extra), timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    seen = [tuple(map(float, found)) for found in re.findall(r"quote (\d+\.\d+) (\d+\.\d+) (\d+\.\d+)", run.stderr)]
    assert len(seen) > 5, run.stderr[-2000:]
    return run, seen


def mostly(seen, holds):
    """True for all but a tenth of `seen`: the client coalesces the ticks it reads together, and a
    read may (rarely) end between the bid, ask and last of one update."""
    return sum(1 for quote in seen if not holds(*quote)) <= len(seen) // 10


def test_a_spread_of_0_quotes_the_replayed_price_itself(tmp_path, store):
    run, seen = quotes(tmp_path, store, "--replay-spread", "0")
    assert "quoted at the bars' own prices (no spread)" in run.stdout, run.stdout
    assert mostly(seen, lambda bid, ask, last: bid == ask == last), seen[:20]
    assert all(98.0 <= price <= 102.5 for quote in seen for price in quote), seen[:20]
    # The default: a tick either side, a market order pays the spread.
    run, seen = quotes(tmp_path, store)
    assert "no spread" not in run.stdout
    assert mostly(seen, lambda bid, ask, last: bid < last < ask), seen[:20]
