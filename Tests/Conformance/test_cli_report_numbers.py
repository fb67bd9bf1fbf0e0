"""The numbers a backtest writes for scripts (summary.json, sweep.csv) are the decimals a trader
means, not the sums' rounding: 7 bought at 100.30 and sold at 101.10 less 2.00 commission made
3.60, which summary.json wrote as `"netPnL" : 3.599999999991269` and `"finalEquity" :
100003.59999999999` (and the return as 3.599999999992498e-05)."""
import csv
import json
import re
import subprocess

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY

# Bought at the second bar's open (100.30), sold at the fourth's (101.10): 7 * 0.80 - 2.00 = 3.60.
ROUND_TRIP = """
local n = 0
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if n == 1 then orders.buy("AAPL", 7) end
  if n == 3 then orders.sell("AAPL", 7) end
end
"""



def moonwire(tmp_path, *args):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=120)


def significant_digits(number):
    mantissa = re.split(r"[eE]", number)[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def test_summary_json_and_the_sweep_table_hold_no_arithmetic_noise(tmp_path):
    (tmp_path / "bars.csv").write_text(HAND_BARS)
    (tmp_path / "s.lua").write_text(ROUND_TRIP)
    imported = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")
    assert imported.returncode == 0, imported.stderr
    span = ("--instruments", "AAPL", "--from", "2024-01-02 14:30", "--to", "2024-01-02 14:36", "--store", "bars.sqlite", "--offline")

    run = moonwire(tmp_path, "backtest", "s.lua", *span, "--out", "one")
    assert run.returncode == 0, run.stdout + run.stderr
    text = (tmp_path / "one" / "summary.json").read_text()
    summary = json.loads(text)
    assert summary["netPnL"] == 3.6 and summary["finalEquity"] == 100003.6, text
    assert summary["maxDrawdown"] == 1.7 and summary["commissions"] == 2, text
    assert summary["totalReturn"] == 3.6e-05, text
    # Every number as written: no figure carries more than 12 significant digits.
    numbers = re.findall(r":\s*(-?[\d.]+(?:[eE][-+]?\d+)?)", text)
    assert numbers and all(significant_digits(n) <= 12 for n in numbers), text

    sweep = moonwire(tmp_path, "backtest", "s.lua", *span, "--param", "n=1,2", "--jobs", "1", "--out", "sweep")
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    rows = list(csv.DictReader((tmp_path / "sweep" / "sweep.csv").read_text().splitlines()))
    assert len(rows) == 2, rows
    for row in rows:
        assert row["return"] == "3.6e-05" and row["net_pnl"] == "3.60", row
        for name in ("return", "cagr", "sharpe", "sortino", "win_rate", "profit_factor"):
            assert row[name] == "" or significant_digits(row[name]) <= 12, (name, row)
