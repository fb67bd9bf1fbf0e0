"""Numbers as a trader reads them, through the release binary: `history export` prints the
shortest decimal of each price (`187.64`, it printed `187.64000000000001`), nothing prints a
negative zero (`-0.00` in trades.csv, `clock offset -0 s`), and a break-even trade (|PnL| below
half a cent) is counted apart, neither a win nor a loss."""
import csv
import json
import re
import subprocess

from cli_helpers import environment
from gateway_process import BINARY, Gateway

NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?:\.0+)?(?![\d.])")


def moonwire(tmp_path, *args, timeout=120):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def test_history_export_prints_each_price_as_its_shortest_decimal(tmp_path):
    store = str(tmp_path / "bars.sqlite")
    with Gateway("--seed", "8") as gateway:
        done = moonwire(tmp_path, "history", "AAPL", "--from", "2024-03-04", "--to", "2024-03-05", "--bar", "1 min",
                        "--gateway", f"127.0.0.1:{gateway.port}", "--store", store)
        assert done.returncode == 0, done.stdout + done.stderr
    exported = moonwire(tmp_path, "history", "export", "AAPL", "--bar", "1 min", "--store", store)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(exported.stdout.splitlines()))
    assert len(rows) == 900, "Monday 04:00-19:00 New York: the paper history keeps trading hours"
    # AAPL moves in cents: no price needs more than two decimals.
    cents = re.compile(r"^\d+(\.\d{1,2})?$")
    for row in rows:
        for column in ("open", "high", "low", "close", "wap"):
            assert cents.match(row[column]), (column, row)
    assert not NEGATIVE_ZERO.search(exported.stdout)


def test_connect_prints_the_clock_offset_of_one_clock_as_plus_0(tmp_path):
    with Gateway("--seed", "8") as gateway:
        # The gateway runs on this machine's clock, and TWS's time is whole seconds: the offset
        # printed "-1 s" or "-0 s" (a fraction below zero) for what is one clock.
        for _ in range(5):
            done = moonwire(tmp_path, "connect", "--gateway", f"127.0.0.1:{gateway.port}", timeout=60)
            assert done.returncode == 0, done.stdout + done.stderr
            offset = re.search(r"^clock offset\s+(\S+) s", done.stdout, re.M)
            assert offset, done.stdout
            assert offset.group(1) == "+0", offset.group(0)
            assert not NEGATIVE_ZERO.search(done.stdout), done.stdout


# Eight minutes of AAPL; the opens of the 2nd and 4th bars are equal (a round trip there breaks
# even before commission), the 7th opens higher than the 5th (a win).
BARS = """time,open,high,low,close,volume
2024-01-02T14:30:00Z,100.00,100.60,99.90,100.40,1000
2024-01-02T14:31:00Z,100.50,101.10,100.40,101.00,1000
2024-01-02T14:32:00Z,101.00,101.20,100.30,100.50,1000
2024-01-02T14:33:00Z,100.50,100.90,100.40,100.80,1000
2024-01-02T14:34:00Z,100.80,101.30,100.70,101.20,1000
2024-01-02T14:35:00Z,101.20,102.10,101.10,102.00,1000
2024-01-02T14:36:00Z,102.00,102.20,101.40,101.50,1000
2024-01-02T14:37:00Z,101.50,101.70,101.20,101.60,1000
"""

# Buys on the 1st bar and sells on the 3rd (fills at the opens of the 2nd and 4th: 100.50 both);
# with `params.win`, buys again on the 4th and sells on the 6th (100.80 -> 102.00).
STRATEGY = """
local n = 0
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if n == 1 then orders.buy("AAPL", 100) end
  if n == 3 then orders.sell("AAPL", 100) end
  if params.win == "yes" and n == 4 then orders.buy("AAPL", 100) end
  if params.win == "yes" and n == 6 then orders.sell("AAPL", 100) end
end
"""


def backtest(tmp_path, out, win):
    # A commission of 0.00002 a share: 0.002 a fill, so the flat round trip loses 0.004, less
    # than half a cent: break-even, not a loss (and never "-0.00").
    return moonwire(tmp_path, "backtest", "s.lua", "--instruments", "AAPL", "--from", "2024-01-02 14:30", "--to", "2024-01-02 14:38",
                    "--store", "bars.sqlite", "--offline", "--out", out, "--commission", "per-unit:0.00002", "--param", f"win={win}")


def test_break_even_trades_are_counted_apart_and_no_negative_zero_is_printed(tmp_path):
    (tmp_path / "bars.csv").write_text(BARS)
    (tmp_path / "s.lua").write_text(STRATEGY)
    imported = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite")
    assert imported.returncode == 0, imported.stderr

    flat = backtest(tmp_path, "flat", "no")
    assert flat.returncode == 0, flat.stdout + flat.stderr
    trades = list(csv.DictReader((tmp_path / "flat" / "trades.csv").read_text().splitlines()))
    assert len(trades) == 1 and trades[0]["pnl"] == "0.00", trades
    metrics = json.loads((tmp_path / "flat" / "summary.json").read_text())
    assert (metrics["wins"], metrics["losses"], metrics["evens"]) == (0, 0, 1), metrics
    assert re.search(r"trades\s+1 closed, win rate 0\.00 % \(0 won, 0 lost, 1 even\)", flat.stdout), flat.stdout
    # The whole run lost 0.004: no "-0.00" for the PnL, the return or CAGR, in any file.
    for text in [flat.stdout] + [(tmp_path / "flat" / name).read_text() for name in ("summary.txt", "trades.csv", "fills.csv", "equity.csv")]:
        assert not NEGATIVE_ZERO.search(text), NEGATIVE_ZERO.search(text).string

    both = backtest(tmp_path, "both", "yes")
    assert both.returncode == 0, both.stdout + both.stderr
    metrics = json.loads((tmp_path / "both" / "summary.json").read_text())
    assert (metrics["trades"], metrics["wins"], metrics["losses"], metrics["evens"]) == (2, 1, 0, 1), metrics
    # Win rate over every closed trade: the break-even one is not a win.
    assert metrics["winRate"] == 0.5, metrics
    assert re.search(r"win rate 50\.00 % \(1 won, 0 lost, 1 even\)", both.stdout), both.stdout


def test_a_port_out_of_range_names_whole_bounds(tmp_path):
    env = environment(tmp_path)
    env["IB_PORT"] = "70000"
    done = subprocess.run([str(BINARY), "connect"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "from 1 to 65535" in done.stderr + done.stdout, done.stderr + done.stdout
    assert "1.0" not in done.stderr + done.stdout
