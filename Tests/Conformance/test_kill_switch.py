"""`moonwire halt` cancels every open order of a running `moonwire run` and stops it: the journal
says so, and so does the gateway, asked by another TWS client (ib_async)."""
import itertools
import sqlite3
import subprocess

from cli_e2e import open_orders_at_gateway
from gateway_process import BINARY, ROOT, Gateway
from serve_process import wait_until

_asker_ids = itertools.count(70)  # a fresh client id per question: no wait for the last one's disconnect


def open_orders(journal):
    """The journal's open orders. An unreadable journal raises (it must not read as "none open")."""
    # Read-only: connecting must not create the file (an empty journal is refused).
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM orders WHERE status IN ('pending', 'submitted')").fetchone()[0]


def resting_in_journal_and_at_gateway(journal, port):
    """(journal count, gateway orders) once both show a resting order, else None. Until the run
    has created the journal and its tables, reading it fails: that is "not yet" here, and a
    journal that stays unreadable fails the test at the strict read after the wait."""
    if not journal.exists():
        return None
    try:
        in_journal = open_orders(journal)
    except sqlite3.Error:
        return None
    at_gateway = open_orders_at_gateway(port, client_id=next(_asker_ids))
    return (in_journal, at_gateway) if in_journal > 0 and at_gateway else None


def test_halt_cancels_open_orders_and_stops(tmp_path):
    journal = tmp_path / "halt.sqlite"
    with Gateway("--seed", "4", "--tick-interval-ms", "100") as gateway:
        run = subprocess.Popen([str(BINARY), "run", "Strategies/mean_reversion.lua", "--param", "window=5", "--param", "band=1.0",
                                "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "1", "--journal", str(journal)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            try:
                wait_until(lambda: resting_in_journal_and_at_gateway(journal, gateway.port), timeout=60, interval=0.2,
                           what="the strategy rests a limit order far below the market (journal and gateway)")
            except AssertionError:
                # Which side is missing: a journal that cannot be read fails here with its own error.
                assert open_orders(journal) > 0, "the journal shows no resting order"
                raise
            halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=ROOT, capture_output=True, text=True, timeout=30)
            assert halt.returncode == 0, halt.stderr
            out, err = run.communicate(timeout=60)
            assert run.returncode == 0, err[-2000:]
            assert "halt: cancelling every open order" in out
            assert open_orders(journal) == 0
            assert "summary of mean_reversion" in out
            # The run waited for the gateway's confirmations before it ended: none is left there.
            left = open_orders_at_gateway(gateway.port, client_id=next(_asker_ids))
            assert left == [], f"every order of the run is cancelled at the gateway: {left}"
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
