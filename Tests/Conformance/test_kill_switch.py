"""`moonwire halt` cancels every open order of a running `moonwire run` and stops it."""
import sqlite3
import subprocess
import time

from gateway_process import BINARY, ROOT


def open_orders(journal):
    if not journal.exists():
        return 0
    try:
        # Read-only: connecting must not create the file (an empty journal is refused).
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM orders WHERE status IN ('pending', 'submitted')").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_halt_cancels_open_orders_and_stops(tmp_path):
    journal = tmp_path / "halt.sqlite"
    run = subprocess.Popen([str(BINARY), "run", "Strategies/mean_reversion.lua", "--param", "window=5", "--param", "band=1.0",
                            "--journal", str(journal)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and open_orders(journal) == 0:
            time.sleep(0.2)
        assert open_orders(journal) > 0, "the strategy rests a limit order far below the market"
        halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert halt.returncode == 0, halt.stderr
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err[-2000:]
        assert "halt: cancelling every open order" in out
        assert open_orders(journal) == 0
        assert "summary of mean_reversion" in out
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
