"""Every attack of Tests/Hostile through `moonwire run --duration 3`, beside a well-behaved
strategy in the same process: the run exits as the attack's header says, within its bound,
reports what the header expects, and the well-behaved strategy kept receiving quotes.
(The Swift suite HostileCorpusTests runs the same corpus in-process.)"""
import os
import re
import subprocess
import time

import pytest

from cli_helpers import ChildOutput
from gateway_process import BINARY, ROOT

HOSTILE = ROOT / "Tests" / "Hostile"
DURATION = 3.0


def attacks():
    for path in sorted([*HOSTILE.glob("attack_*.lua"), *HOSTILE.glob("numbers_*.lua")]):
        lines = path.read_text().splitlines()

        def header(key):
            return [line[len(f"-- {key}:"):].strip() for line in lines if line.startswith(f"-- {key}:")]

        yield pytest.param(path, header("expect"), int((header("exit") or ["0"])[0]), "-- test-api" in lines,
                           float((header("budget_ms") or ["50"])[0]), header("params"), id=path.stem)


@pytest.mark.parametrize("path,expects,exit_code,test_api,budget_ms,params", list(attacks()))
def test_attack_through_moonwire_run(tmp_path, path, expects, exit_code, test_api, budget_ms, params):
    config = tmp_path / "moonwire.yaml"
    config.write_text(f"strategy:\n  budget_ms: {budget_ms}\n  hard_limit_ms: {max(2000.0, 2 * budget_ms)}\n"
                      "paper_gateway:\n  market:\n    tick_interval_ms: 50\n")
    env = dict(os.environ, MOONWIRE_TEST_API="1" if test_api else "0")
    command = [str(BINARY), "run", str(path), str(HOSTILE / "well_behaved.lua"), "--duration", str(DURATION),
               "--config", str(config), "--journal", str(tmp_path / "journal.sqlite")]
    for param in params:
        command += ["--param", param]
    started = time.monotonic()
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == exit_code, output[-3000:]
    for text in expects:
        assert text in output, f"{text!r} not reported:\n{output[-3000:]}"
    if exit_code != 0:
        return
    # Bounded: startup (about a second) + the duration + at most 5 s to stop, whatever the
    # attack is doing (the hung one is still spinning in C when the process exits).
    assert took < DURATION + 7, f"the run took {took:.1f} s"
    quotes = re.search(r"summary of well_behaved after [\d.]+ s:\n\s+events delivered\s+\d+ \(quotes (\d+)", run.stdout)
    assert quotes, run.stdout
    assert int(quotes.group(1)) >= 20, f"the well-behaved strategy got {quotes.group(1)} quotes:\n{run.stdout}"
    if test_api:
        assert "strategy declared hung" in run.stdout


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_run_whose_strategy_is_stuck_in_c(tmp_path, signal_name):
    """Ctrl-C and SIGTERM end the run within 5 s while a strategy spins in C (not yet
    declared hung: the hard limit is set far away), and the other strategy's summary is printed."""
    import signal
    config = tmp_path / "moonwire.yaml"
    config.write_text("strategy:\n  hard_limit_ms: 600000\npaper_gateway:\n  market:\n    tick_interval_ms: 50\n")
    run = subprocess.Popen([str(BINARY), "run", str(HOSTILE / "attack_hang_in_c.lua"), str(HOSTILE / "well_behaved.lua"),
                            "--config", str(config), "--journal", str(tmp_path / "journal.sqlite"), "--param", "block_seconds=600"],
                           cwd=tmp_path, env=dict(os.environ, MOONWIRE_TEST_API="1"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = ChildOutput(run)
        output.wait_for(r"running well_behaved", "stdout", timeout=30)
        output.wait_for(r"blocking in C", "stderr", timeout=30)  # printed just before the C call
        sent = time.monotonic()
        run.send_signal(getattr(signal, signal_name))
        run.wait(timeout=30)
        took = time.monotonic() - sent
        output.finish(timeout=30)
        out, err = output.text("stdout"), output.text("stderr")
        assert took < 5, f"{signal_name} took {took:.1f} s to end the run"
        assert "summary of well_behaved" in out, out + err[-2000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
