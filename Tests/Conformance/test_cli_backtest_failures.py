"""A backtest whose strategy fails to load exits non-zero with one line saying why; a sweep
whose combinations fail to load did exit 0 after a table of errors."""
import subprocess

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY


def moonwire(tmp_path, *args, timeout=120):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def backtest(tmp_path, strategy, *args):
    return moonwire(tmp_path, "backtest", strategy, "--instruments", "AAPL", "--from", "2024-01-02 14:30", "--to", "2024-01-02 14:36",
                    "--store", "bars.sqlite", "--offline", "--out", "out", *args)


def prepare(tmp_path):
    (tmp_path / "bars.csv").write_text(HAND_BARS)
    imported = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")
    assert imported.returncode == 0, imported.stderr
    (tmp_path / "top.lua").write_text('error("boom at load")\n')


def test_a_strategy_that_fails_to_load_fails_the_backtest_in_one_line(tmp_path):
    prepare(tmp_path)
    done = backtest(tmp_path, "top.lua")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stderr == "error: top.lua:1: boom at load\n", done.stderr


def test_a_sweep_whose_runs_fail_to_load_fails(tmp_path):
    prepare(tmp_path)
    done = backtest(tmp_path, "top.lua", "--param", "a=1,2")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    # The table still says which combination failed how, and is written.
    assert "error: top.lua:1: boom at load" in done.stdout, done.stdout
    assert (tmp_path / "out" / "sweep.csv").exists()
    # Said last, on one line (above it only the sweep's progress lines).
    assert done.stderr.splitlines()[-1] == "error: 2 of 2 combinations failed (the first: top.lua:1: boom at load)", done.stderr
