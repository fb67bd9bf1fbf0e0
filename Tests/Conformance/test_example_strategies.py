"""Every example strategy runs against the built-in paper gateway, and the fills it reports
are the fills its journal holds."""
import re
import sqlite3
import subprocess

import pytest

from gateway_process import BINARY, ROOT

EXAMPLES = {
    # strategy: (params, must it have traded within the run?)
    "hello": ([], False),
    "sma_cross": (["--param", "fast=1", "--param", "slow=2"], True),
    "mean_reversion": (["--param", "window=10"], False),
    "bracket": ([], True),
}
SECONDS = 40


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    processes = {}
    for name, (params, _) in EXAMPLES.items():
        journal = folder / f"{name}.sqlite"
        processes[name] = (journal, subprocess.Popen(
            [str(BINARY), "run", f"Strategies/{name}.lua", "--gateway", "paper", "--duration", str(SECONDS), "--journal", str(journal), *params],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = {}
    for name, (journal, process) in processes.items():
        out, err = process.communicate(timeout=SECONDS + 120)
        results[name] = (process.returncode, out, err, journal)
    return results


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_and_its_fills_are_journaled(runs, name):
    code, out, err, journal = runs[name]
    assert code == 0, f"{name} failed:\n{out}\n{err[-3000:]}"
    summary = re.search(r"fills\s+(\d+) \(", out)
    assert summary, out
    reported = int(summary.group(1))
    assert re.search(r"errors\s+0 \(0 failing handlers\)", out), out
    events = int(re.search(r"events delivered\s+(\d+)", out).group(1))
    assert events > 10, out
    with sqlite3.connect(journal) as db:
        journaled = db.execute(
            "SELECT COUNT(*) FROM executions e JOIN orders o ON o.order_id = e.order_id WHERE o.strategy = ?", (name,)).fetchone()[0]
        duplicates = db.execute("SELECT COUNT(*) - COUNT(DISTINCT exec_id) FROM executions").fetchone()[0]
    assert journaled == reported, f"{name}: the summary reports {reported} fills, the journal holds {journaled}"
    assert duplicates == 0
    if EXAMPLES[name][1]:
        assert reported > 0, f"{name} did not trade in {SECONDS} s:\n{out}"
