"""Edge values on the command line and in the config: every numeric option of backtest, run,
history, quote, gateway and connect, and the numeric config keys, given NaN, +-inf, 0, -1,
1e300, 2^31, 2^63-1 and dates out of range. Each is refused with one line naming the option
(or key) and the value: exit 64 for a usage mistake, 1 for a config file that cannot be used;
never a crash (a negative return code, 132 SIGILL, 134 SIGABRT, 139 SIGSEGV) and never a
result made of them (a 104,904 % drawdown on no starting cash). Every process is bounded."""
import re
import subprocess

import pytest

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY

CRASHES = {132, 134, 139}
TIMEOUT = 60

STRATEGY = """
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b) end
"""


def moonwire(tmp_path, *args):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def assert_refused(run, names, codes=(64,)):
    """Refused as a usage or config error, on a line that names one of `names`; no crash."""
    output = run.stdout + run.stderr
    assert run.returncode >= 0 and run.returncode not in CRASHES, f"crashed ({run.returncode}):\n{output[-3000:]}"
    assert "Fatal error" not in output and "Program crashed" not in output, output[-3000:]
    assert run.returncode in codes, f"exit {run.returncode}, wanted {codes}:\n{output[-3000:]}"
    lines = [line for line in run.stderr.splitlines() if line.lower().startswith("error")]
    assert lines, f"no error line:\n{output[-3000:]}"
    assert any(name in lines[0] for name in names), f"the error line does not name {names}: {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A strategy file and a bar store with the six hand bars of 2024-01-02."""
    folder = tmp_path_factory.mktemp("edges")
    (folder / "bars.csv").write_text(HAND_BARS)
    (folder / "s.lua").write_text(STRATEGY)
    imported = moonwire(folder, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return folder


def backtest(folder, *args):
    return moonwire(folder, "backtest", "s.lua", "--instruments", "AAPL", "--from", "2024-01-02 14:30", "--to", "2024-01-02 14:36",
                    "--store", "bars.sqlite", "--offline", "--out", "out", *args)


BACKTEST_CASES = [
    ("--cash", value) for value in ["nan", "inf", "-inf", "0", "-0", "-1", "1e300", "1e13", "1e-300", "0.5"]
] + [
    ("--jobs", value) for value in ["0", "-1", "257", "2147483648", "9223372036854775807"]
] + [
    ("--slippage", value) for value in ["-1", "1001", "9223372036854775807", "-9223372036854775808"]
] + [
    ("--tick", value) for value in ["nan", "inf", "0", "-1", "1e300"]
] + [
    ("--client-id", value) for value in ["-1", "2147483648", "9223372036854775807"]
] + [
    ("--commission", value) for value in ["per-unit:nan", "per-unit:inf", "per-unit:1e300", "per-unit:-1"]
] + [
    ("--multiplier", value) for value in ["AAPL=nan", "AAPL=inf", "AAPL=1e300", "AAPL=0"]
] + [
    ("--from", value) for value in ["0001-01-01", "1899-12-31", "99999-01-01", "2024-13-45", "-2024-01-01"]
]


@pytest.mark.parametrize("option,value", BACKTEST_CASES, ids=[f"{o}={v}" for o, v in BACKTEST_CASES])
def test_backtest_refuses(workspace, option, value):
    run = backtest(workspace, f"{option}={value}")
    assert_refused(run, [option])


def test_backtest_jobs_zero_in_a_sweep(workspace):
    # The sweep took --jobs 0 as "one at a time" (or crashed): it is a usage mistake.
    run = backtest(workspace, "--param", "a=1,2", "--jobs=0")
    line = assert_refused(run, ["--jobs"])
    assert "--jobs must be between 1 and 256, got 0" in line


def test_backtest_cash_zero_is_refused_not_a_huge_drawdown(workspace):
    run = backtest(workspace, "--cash=0")
    assert "--cash must be between 1 and" in assert_refused(run, ["--cash"])
    assert "%" not in run.stdout


def test_backtest_to_out_of_range(workspace):
    run = moonwire(workspace, "backtest", "s.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to=9999-12-31",
                   "--store", "bars.sqlite", "--offline", "--out", "out")
    assert_refused(run, ["--to"])


RUN_CASES = [
    ("--duration", value) for value in ["nan", "inf", "-inf", "0", "-1", "1e300"]
] + [
    ("--status-every", value) for value in ["nan", "inf", "-1", "1e300", "1e-300", "0.01"]
] + [
    ("--client-id", value) for value in ["-1", "2147483648", "9223372036854775807"]
]


@pytest.mark.parametrize("option,value", RUN_CASES, ids=[f"{o}={v}" for o, v in RUN_CASES])
def test_run_refuses(workspace, option, value):
    run = moonwire(workspace, "run", "s.lua", f"{option}={value}")
    assert_refused(run, [option])


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "1e300", "1000001"])
def test_run_replay_speed(workspace, value):
    run = moonwire(workspace, "run", "s.lua", "--duration", "1", "--replay", "AAPL", "--replay-from", "2024-01-02",
                   "--replay-store", "bars.sqlite", f"--speed={value}")
    assert_refused(run, ["--speed"])


@pytest.mark.parametrize("args", [
    ["--from=0001-01-01"], ["--from=2024-01-01", "--to=2200-01-02"], ["--from=2024-01-01", "--client-id=-1"],
    ["--from=2024-01-01", "--client-id=2147483648"],
], ids=["from", "to", "client-id-negative", "client-id-2^31"])
def test_history_refuses(workspace, args):
    run = moonwire(workspace, "history", "AAPL", "--store", "bars.sqlite", *args)
    assert_refused(run, [args[-1].split("=")[0]])


@pytest.mark.parametrize("option,value", [("--seconds", v) for v in ["nan", "inf", "0", "-1", "1e300"]]
                         + [("--client-id", v) for v in ["-1", "2147483648"]])
def test_quote_refuses(workspace, option, value):
    run = moonwire(workspace, "quote", "AAPL", f"{option}={value}")
    assert_refused(run, [option])


@pytest.mark.parametrize("option,value", [("--port", v) for v in ["-1", "65536", "9223372036854775807"]]
                         + [("--control-port", v) for v in ["-1", "65536"]]
                         + [("--tick-interval-ms", v) for v in ["nan", "inf", "-1", "1e300"]])
def test_gateway_refuses(workspace, option, value):
    run = moonwire(workspace, "gateway", f"{option}={value}")
    assert_refused(run, [option])


@pytest.mark.parametrize("value", ["-1", "2147483648", "9223372036854775807"])
def test_connect_refuses(workspace, value):
    run = moonwire(workspace, "connect", f"--client-id={value}")
    assert_refused(run, ["--client-id"])


def test_an_option_that_is_no_number(workspace):
    # Past Int64 or no number at all: ArgumentParser's own usage error, still 64.
    for args in (["--jobs=9223372036854775808"], ["--cash=lots"], ["--slippage=1.5"]):
        run = backtest(workspace, *args)
        assert_refused(run, [args[0].split("=")[0]])


CONFIG_CASES = [
    ("trading:\n  client_id: 1e300\n", "trading.client_id"),
    ("trading:\n  client_id: .nan\n", "trading.client_id"),
    ("trading:\n  client_id: 99999999999999999999\n", "trading.client_id"),
    ("trading:\n  client_id: -1\n", "trading.client_id"),
    ("risk:\n  max_open_orders: .inf\n", "risk.max_open_orders"),
    ("risk:\n  max_open_orders: 1e300\n", "risk.max_open_orders"),
    ("risk:\n  max_orders_per_minute: 2.5\n", "risk.max_orders_per_minute"),
    ("risk:\n  max_order_quantity: .inf\n", "risk.max_order_quantity"),
    ("risk:\n  max_daily_loss: 1e300\n", "risk.max_daily_loss"),
    ("account_risk:\n  max_open_orders: -5\n", "account_risk.max_open_orders"),
    ("strategy:\n  memory_mb: 1e300\n", "strategy.memory_mb"),
    ("strategy:\n  budget_ms: .nan\n", "strategy.budget_ms"),
    ("strategy:\n  hard_limit_ms: .inf\n", "strategy.hard_limit_ms"),
    ("strategy:\n  max_consecutive_errors: 9223372036854775807\n", "strategy.max_consecutive_errors"),
    ("logging:\n  keep_days: .inf\n", "logging.keep_days"),
    ("logging:\n  max_mb: 1e300\n", "logging.max_mb"),
    ("strategies:\n  - file: s.lua\n    risk:\n      max_position: .inf\n", "strategies[0].risk.max_position"),
    # Quantity limits by instrument type: a type Moonwire does not trade, and edge values per type.
    ("risk:\n  max_order_quantity: {STK: 10, CFD: 5}\n", "risk.max_order_quantity.CFD"),
    ("risk:\n  max_position: {FUT: .inf}\n", "risk.max_position.FUT"),
    ("risk:\n  max_order_quantity: {OPT: -1}\n", "risk.max_order_quantity.OPT"),
    ("account_risk:\n  max_position: {CASH: 1e300}\n", "account_risk.max_position.CASH"),
    ("risk:\n  max_position_notional: 1e300\n", "risk.max_position_notional"),
    ("paper_gateway:\n  starting_cash: .nan\n", "paper_gateway.starting_cash"),
    ("paper_gateway:\n  starting_cash: 1e300\n", "paper_gateway.starting_cash"),
    ("paper_gateway:\n  starting_cash: .inf\n", "paper_gateway.starting_cash"),
    ("paper_gateway:\n  market:\n    tick_interval_ms: .inf\n", "paper_gateway.market.tick_interval_ms"),
    ("paper_gateway:\n  market:\n    tick_interval_ms: 1e300\n", "paper_gateway.market.tick_interval_ms"),
    ("paper_gateway:\n  pacing:\n    max_market_data_lines: 99999999999999999999\n", "paper_gateway.pacing.max_market_data_lines"),
    ("paper_gateway:\n  pacing:\n    historical_window_seconds: .nan\n", "paper_gateway.pacing.historical_window_seconds"),
    ("paper_gateway:\n  port: 9223372036854775807\n", "paper_gateway.port"),
    ("paper_gateway:\n  faults: ['stall 1e300']\n", "paper_gateway.faults"),
    ("paper_gateway:\n  faults: ['step 1e300']\n", "paper_gateway.faults"),
    ("paper_gateway:\n  faults: ['slow-cancels .inf']\n", "paper_gateway.faults"),
    ("paper_gateway:\n  instruments:\n    - {symbol: X, con_id: 1, primary_exchange: NYSE, start_price: 1e300}\n",
     "paper_gateway.instruments[0] (X).start_price"),
    ("paper_gateway:\n  instruments:\n    - {symbol: X, con_id: 1, primary_exchange: NYSE, start_price: 10, lot: 9223372036854775807}\n",
     "paper_gateway.instruments[0] (X).lot"),
    ("paper_gateway:\n  instruments:\n    - {symbol: X, con_id: 1, primary_exchange: NYSE, start_price: 10, multiplier: .inf}\n",
     "paper_gateway.instruments[0] (X).multiplier"),
    ("paper_gateway:\n  instruments:\n    - {symbol: X, con_id: 9223372036854775807, primary_exchange: NYSE, start_price: 10}\n",
     "paper_gateway.instruments[0] (X).con_id"),
    ("paper_gateway:\n  instruments:\n    - {symbol: X, con_id: 1, primary_exchange: NYSE, start_price: 10, tick_size: .nan}\n",
     "paper_gateway.instruments[0] (X).tick_size"),
]


@pytest.mark.parametrize("yaml,key", CONFIG_CASES, ids=[key + ":" + yaml.strip().split(":")[-1].strip() for yaml, key in CONFIG_CASES])
def test_config_values_refused(workspace, yaml, key):
    (workspace / "bad.yaml").write_text(yaml)
    command = ["gateway", "--port", "0"] if yaml.startswith("paper_gateway") else ["run", "s.lua", "--duration", "1"]
    run = moonwire(workspace, *command, "--config", "bad.yaml")
    # A config file that cannot be used: 1 from run (a runtime failure), 64 from gateway.
    line = assert_refused(run, [key], codes=(1, 64))
    assert re.search(r"must|should|not|got", line), line
