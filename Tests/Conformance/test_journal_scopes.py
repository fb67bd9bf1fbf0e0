"""One journal serves every account and keeps each apart: a user's second and third run on
the default journal (the data folder, not the current folder) start and trade; a position
the journal cannot explain is refused with a message naming `moonwire reconcile`, which
shows it and, with --acknowledge, accepts it."""
import os
import re
import sqlite3
import subprocess

from gateway_process import BINARY, Gateway

BUY_ONCE = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if bought or not q.ask then return end
  bought = orders.buy("AAPL", 10)
end
function on_fill(f) print("filled " .. f.qty .. " " .. f.exec_id) end
"""


def run_once(tmp_path, env, *extra):
    return subprocess.run([str(BINARY), "run", str(tmp_path / "buy_once.lua"), "--duration", "4", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def test_second_and_third_runs_on_the_default_journal_start_and_trade(tmp_path):
    (tmp_path / "buy_once.lua").write_text(BUY_ONCE)
    env = dict(os.environ, MOONWIRE_DATA=str(tmp_path / "data"))
    exec_ids = []
    for attempt in range(3):
        run = run_once(tmp_path, env)
        assert run.returncode == 0, f"run {attempt + 1}:\n{run.stdout}\n{run.stderr[-2000:]}"
        assert "Usage" not in run.stdout + run.stderr
        fills = re.findall(r"filled 10\S* (\S+)", run.stderr)
        assert len(fills) == 1, f"run {attempt + 1} traded once and its fill reached on_fill:\n{run.stderr[-2000:]}"
        exec_ids += fills
        summary = re.search(r"fills\s+(\d+) \(", run.stdout)
        assert summary and summary.group(1) == "1", f"the summary counts this run's fills only:\n{run.stdout}"
    assert len(set(exec_ids)) == 3, f"each paper account numbers its own executions: {exec_ids}"
    journal = tmp_path / "data" / "journal.sqlite"
    assert journal.exists() and not list(tmp_path.glob("*.sqlite")), "the journal is in the data folder, not the current one"
    with sqlite3.connect(journal) as db:
        scopes = db.execute("SELECT COUNT(DISTINCT scope) FROM executions").fetchone()[0]
    assert scopes == 3, "each embedded paper account has its own scope"


def test_an_unexplained_position_is_refused_then_reconciled_and_acknowledged(tmp_path):
    (tmp_path / "buy_once.lua").write_text(BUY_ONCE)
    journal = tmp_path / "journal.sqlite"
    env = dict(os.environ, MOONWIRE_DATA=str(tmp_path / "data"))
    with Gateway("--seed", "3", "--tick-interval-ms", "100") as gateway:
        assert "ok" in gateway.control("position MSFT 25 400").lower()
        refused = run_once(tmp_path, env, "--gateway", f"127.0.0.1:{gateway.port}", "--journal", str(journal))
        assert refused.returncode == 3, "refused by a safety check: " + refused.stdout + refused.stderr
        assert "Usage" not in refused.stdout + refused.stderr, "a runtime refusal prints no usage text"
        assert "position MSFT: TWS 25.0, journal 0.0" in refused.stderr
        assert "moonwire reconcile" in refused.stderr

        command = [str(BINARY), "reconcile", "--gateway", f"127.0.0.1:{gateway.port}", "--journal", str(journal), "--client-id", "9"]
        look = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert look.returncode == 0, look.stderr
        assert "MSFT: TWS 25.0, journal 0.0" in look.stdout and "--acknowledge" in look.stdout
        accept = subprocess.run(command + ["--acknowledge"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert accept.returncode == 0, accept.stderr
        assert "acknowledged" in accept.stdout

        again = run_once(tmp_path, env, "--gateway", f"127.0.0.1:{gateway.port}", "--journal", str(journal))
        assert again.returncode == 0, again.stdout + again.stderr[-2000:]
        assert re.search(r"filled 10\S* ", again.stderr), again.stderr[-2000:]
