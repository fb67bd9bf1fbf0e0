"""`moonwire run` trades a future, forex and an option on the built-in paper gateway: the
journal holds each fill under the strategy's name for the instrument, and the run's PnL
counts the future's multiplier."""
import re
import sqlite3
import subprocess

from gateway_process import BINARY

STRATEGY = """
function on_start()
  for _, s in ipairs({ "ES 202612", "EUR.USD", "AAPL 20261218 C 190", "^SPX" }) do market.subscribe(s) end
end
local bought = {}
function on_quote(q)
  if bought[q.symbol] or not q.bid or q.symbol == "^SPX" then return end
  bought[q.symbol] = true
  local qty = ({ ["ES 202612"] = 1, ["EUR.USD"] = 25000, ["AAPL 20261218 C 190"] = 2 })[q.symbol]
  orders.buy(q.symbol, qty)
end
function on_fill(f)
  print(string.format("fill %s %s %d", f.symbol, f.side, f.qty))
  if f.symbol == "ES 202612" and f.side == "BUY" then orders.sell("ES 202612", 1) end
end
"""

CONFIG = """
risk: { max_order_quantity: 50000, max_position: 50000, max_order_notional: 500000 }
account_risk: { max_position: 50000 }
"""


def test_each_type_trades_end_to_end_and_the_multiplier_counts(tmp_path):
    (tmp_path / "multi.lua").write_text(STRATEGY)
    (tmp_path / "moonwire.yaml").write_text(CONFIG)
    journal = tmp_path / "journal.sqlite"
    run = subprocess.run([str(BINARY), "run", "multi.lua", "--config", "moonwire.yaml", "--journal", str(journal), "--duration", "4"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=90, env={"MOONWIRE_DATA": str(tmp_path / "data"),
                                                                                       "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for line in ("fill ES 202612 SELL 1", "fill EUR.USD BUY 25000", "fill AAPL 20261218 C 190 BUY 2"):
        assert line in run.stderr, run.stderr[-3000:]
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT symbol, side, shares, price FROM executions ORDER BY sequence").fetchall()
        es_commissions = sum(row[0] for row in db.execute(
            "SELECT c.commission FROM commissions c JOIN executions e ON e.exec_id = c.exec_id WHERE e.symbol = 'ES 202612'"))
    symbols = {row[0] for row in rows}
    assert symbols == {"ES 202612", "EUR.USD", "AAPL 20261218 C 190"}, rows
    es = {side: price for symbol, side, shares, price in rows if symbol == "ES 202612"}
    # The run's realized PnL is the future's round trip, 50 x the points, less its two
    # commissions (0.85 each); the forex and option positions are still open, so their
    # commissions are in their cost, not realized (IB's rule, docs/money.md).
    realized = float(re.search(r"realized pnl\s+(-?[\d.]+)", run.stdout).group(1))
    assert es_commissions == 1.70, rows
    assert realized == round((es["SLD"] - es["BOT"]) * 50 - es_commissions, 2), (run.stdout, rows, es_commissions)
    # One realized PnL: the account's, as TWS (the paper gateway, a fresh account) counts it,
    # is the strategy's to the cent: one money model, not -8.00 beside -7.00 for the same fills.
    account = re.search(r"account pnl: daily (\S+), unrealized (\S+), realized (-?[\d.]+)", run.stdout)
    assert account and float(account.group(3)) == realized, run.stdout
    assert re.search(r"positions\s+.*25000 EUR\.USD", run.stdout) and "2 AAPL 20261218 C 190" in run.stdout, run.stdout
