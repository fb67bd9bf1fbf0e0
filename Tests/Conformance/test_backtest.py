"""`moonwire backtest`: a strategy file over stored bars, end to end through the command line.
Fills, PnL and commissions match a hand computation for each fill rule; the report renders in
a real browser (headless Chromium); sweeps run in parallel and repeat bit for bit; the same
bars give the same result from SQLite and from PostgreSQL; missing bars are fetched first when
a gateway is reachable; Ctrl-C ends with a summary of what ran."""
import csv
import datetime
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import string
import subprocess
import time

import pytest

from cli_helpers import HAND_BARS as BARS, environment
from gateway_process import BINARY, Gateway


# Buys 100 on the second bar, sells them on the fourth: market orders.
ROUND_TRIP = """
local n = 0
function on_start() market.subscribe(params.symbol or "AAPL", { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if n == 2 then orders.buy(b.symbol, 100) end
  if n == 4 then orders.sell(b.symbol, 100) end
end
"""


def moonwire(tmp_path, *args, timeout=120, **extra):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path, **extra),
                          capture_output=True, text=True, timeout=timeout)


def prepare(tmp_path, symbol="AAPL", store=None, bars=BARS):
    (tmp_path / "bars.csv").write_text(bars)
    (tmp_path / "round_trip.lua").write_text(ROUND_TRIP)
    store = store or str(tmp_path / "bars.sqlite")
    imported = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", symbol, "--bar", "1 min", "--store", store)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return store


def backtest(tmp_path, store, *args, symbol="AAPL", out="out", strategy="round_trip.lua"):
    return moonwire(tmp_path, "backtest", strategy, "--instruments", symbol, "--from", "2024-01-02 14:30", "--to", "2024-01-02 14:36",
                    "--store", store, "--offline", "--out", out, "--param", f"symbol={symbol}", *args)


def rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_fills_by_hand_for_each_rule(tmp_path):
    store = prepare(tmp_path)
    # Next bar's open (the default): bought at 14:32's open 101.00, sold at 14:34's open 98.50,
    # IB fixed commission max(0.005 * 100, 1.00) = 1.00 a side: (98.50 - 101.00) * 100 - 2.00.
    run = backtest(tmp_path, store)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"net PnL\s+-252\.00 \(-0\.25 % of 100,000\.00 USD\)", run.stdout), run.stdout
    assert re.search(r"trades\s+1 closed, win rate 0\.00 %", run.stdout), run.stdout
    assert re.search(r"commissions\s+2\.00 USD over 2 fills", run.stdout), run.stdout
    assert re.search(r"bars processed\s+6", run.stdout) and "data gaps           none" in run.stdout, run.stdout
    fills = rows(tmp_path / "out" / "fills.csv")
    assert [(f["time"], f["side"], f["quantity"], f["price"], f["commission"]) for f in fills] == [
        ("2024-01-02 14:32:00", "BUY", "100", "101", "1.00"), ("2024-01-02 14:34:00", "SELL", "100", "98.5", "1.00")]
    trades = rows(tmp_path / "out" / "trades.csv")
    assert len(trades) == 1 and trades[0]["pnl"] == "-252.00" and trades[0]["direction"] == "long"
    equity = rows(tmp_path / "out" / "equity.csv")
    assert len(equity) == 6 and equity[-1]["equity"] == "99748.00"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["netPnL"] == pytest.approx(-252.0) and summary["trades"] == 1 and summary["barsProcessed"] == 6

    # Same-bar close, two ticks of slippage against each fill, IB tiered (0.35 a side):
    # bought at 100.90 + 0.02, sold at 99.00 - 0.02: (98.98 - 100.92) * 100 - 0.70 = -194.70.
    run = backtest(tmp_path, store, "--fill", "same-close", "--slippage", "2", "--commission", "ib-tiered", out="same")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"net PnL\s+-194\.70", run.stdout), run.stdout
    assert [f["price"] for f in rows(tmp_path / "same" / "fills.csv")] == ["100.92", "98.98"]

    # A flat 0.01 a unit: 1.00 a side again, but stated as the user asked.
    run = backtest(tmp_path, store, "--commission", "per-unit:0.01", out="flat")
    assert run.returncode == 0 and re.search(r"net PnL\s+-252\.00", run.stdout), run.stdout


def test_report_renders_in_a_real_browser(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (Scripts/test installs Debian's chromium)"
    store = prepare(tmp_path)
    run = backtest(tmp_path, store)
    assert run.returncode == 0, run.stdout + run.stderr
    report = tmp_path / "out" / "report.html"
    assert "<script src" not in report.read_text() and "http" not in report.read_text().replace("http://www.w3.org", "")
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                          "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    # The page's own script ran to its end in the browser and drew every chart.
    assert 'data-rendered="ok"' in page, page[:2000]
    assert page.count('class="buy"') == 1 and page.count('class="sell"') == 1, page
    assert re.search(r'<svg id="equity"[^>]*>.*?<path d="M', page, re.S), page[:3000]
    assert re.search(r'<svg id="drawdown"[^>]*>.*?<path d="M', page, re.S)
    assert "AAPL: price and fills" in page and "-252.00" in page
    shot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                    "--window-size=1200,1600", f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


SMA = """
local fast_n, slow_n = params.fast, params.slow
local closes = {}
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  closes[#closes + 1] = b.close
  if #closes < slow_n then return end
  local function avg(n) local s = 0 for i = #closes - n + 1, #closes do s = s + closes[i] end return s / n end
  local held = (account.position("AAPL") or { qty = 0 }).qty
  if avg(fast_n) > avg(slow_n) and held == 0 then orders.buy("AAPL", 10)
  elseif avg(fast_n) < avg(slow_n) and held > 0 then orders.sell("AAPL", held) end
end
"""


def test_parameter_sweep_runs_in_parallel_and_repeats(tmp_path):
    with Gateway("--seed", "5") as gateway:
        # Two days of minute bars from the paper gateway's market.
        fetched = moonwire(tmp_path, "history", "AAPL", "--from", "2024-02-05", "--to", "2024-02-07", "--gateway", f"127.0.0.1:{gateway.port}",
                           "--store", "bars.sqlite")
        assert fetched.returncode == 0, fetched.stderr
    (tmp_path / "sma.lua").write_text(SMA)

    def sweep(out):
        return moonwire(tmp_path, "backtest", "sma.lua", "--instruments", "AAPL", "--from", "2024-02-05", "--to", "2024-02-07",
                        "--store", "bars.sqlite", "--offline", "--param", "fast=3,5", "--param", "slow=10,20", "--out", out)

    first = sweep("sweep1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sweeping 4 combinations, 2 at a time" in first.stdout
    table = [line for line in first.stdout.splitlines() if re.match(r"^[35]\s+(10|20)\s", line)]
    assert len(table) == 4, first.stdout
    assert re.search(r"best net PnL: fast=\d slow=\d+", first.stdout)
    lines = (tmp_path / "sweep1" / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("fast,slow,net_pnl") and len(lines) == 5
    second = sweep("sweep2")
    assert (tmp_path / "sweep2" / "sweep.csv").read_text() == (tmp_path / "sweep1" / "sweep.csv").read_text()
    # One combination alone gives the same figures as in the sweep.
    alone = moonwire(tmp_path, "backtest", "sma.lua", "--instruments", "AAPL", "--from", "2024-02-05", "--to", "2024-02-07",
                     "--store", "bars.sqlite", "--offline", "--param", "fast=3", "--param", "slow=10", "--out", "alone")
    row = next(r for r in rows(tmp_path / "sweep1" / "sweep.csv") if r["fast"] == "3" and r["slow"] == "10")
    assert json.loads((tmp_path / "alone" / "summary.json").read_text())["netPnL"] == pytest.approx(float(row["net_pnl"]), abs=0.005)
    assert second.returncode == 0
    # No note for params the strategy reads.
    assert "never mentions" not in first.stdout + alone.stdout

    # A misspelt name is said before the run, once, naming it; the rest still runs as given.
    typo = moonwire(tmp_path, "backtest", "sma.lua", "--instruments", "AAPL", "--from", "2024-02-05", "--to", "2024-02-07",
                    "--store", "bars.sqlite", "--offline", "--param", "fast=3", "--param", "fsat=3,5", "--param", "slow=10", "--out", "typo")
    assert typo.returncode == 0, typo.stdout + typo.stderr
    # sweep.csv has the fixed params too, a column each after the swept one.
    typo_rows = rows(tmp_path / "typo" / "sweep.csv")
    assert [(r["fsat"], r["fast"], r["slow"]) for r in typo_rows] == [("3", "3", "10"), ("5", "3", "10")]
    assert (tmp_path / "typo" / "sweep.csv").read_text().startswith("fsat,fast,slow,net_pnl,")
    notes = [line for line in typo.stdout.splitlines() if "never mentions" in line]
    assert notes == ["note: --param fsat: sma.lua never mentions 'fsat' (nor the modules it requires): a misspelt name? "
                     "It runs as if the param were not given"], typo.stdout
    assert typo.stdout.index("never mentions") < typo.stdout.index("backtesting ")

    # A name given twice, or a value twice, is refused: one of them would be dropped without a word.
    for args, said in ((["--param", "fast=3,5", "--param", "fast=7"], "--param fast is given twice"),
                       (["--param", "fast=3,3"], "--param fast: a value given twice in '3,3'")):
        twice = moonwire(tmp_path, "backtest", "sma.lua", "--instruments", "AAPL", "--from", "2024-02-05", "--to", "2024-02-07",
                         "--store", "bars.sqlite", "--offline", "--param", "slow=10", *args, "--out", "twice")
        assert twice.returncode == 64 and said in twice.stderr, twice.stderr


def test_missing_bars_are_fetched_first_when_connected(tmp_path):
    (tmp_path / "round_trip.lua").write_text(ROUND_TRIP)
    with Gateway("--seed", "3") as gateway:
        args = ["backtest", "round_trip.lua", "--instruments", "MSFT", "--from", "2024-02-05", "--to", "2024-02-06", "--param", "symbol=MSFT",
                "--store", "bars.sqlite", "--gateway", f"127.0.0.1:{gateway.port}", "--out", "fetched"]
        first = moonwire(tmp_path, *args)
        assert first.returncode == 0, first.stdout + first.stderr
        # Monday 04:00-19:00 New York: the paper history keeps a stock's trading hours.
        assert "MSFT: fetching the missing 1 min bars first" in first.stdout and "MSFT: 900 bars in 1 requests" in first.stdout, first.stdout
        assert re.search(r"bars processed\s+900", first.stdout) and re.search(r"trades\s+1 closed", first.stdout), first.stdout
        again = moonwire(tmp_path, *args)
        assert "fetching" not in again.stdout and again.returncode == 0
    # Offline, a span never downloaded is reported as a gap, not invented: Tuesday's regular
    # session (TWS's liquid hours, stored at download: 09:30-16:00 New York), not its night.
    gap = moonwire(tmp_path, "backtest", "round_trip.lua", "--instruments", "MSFT", "--from", "2024-02-05", "--to", "2024-02-07",
                   "--param", "symbol=MSFT", "--store", "bars.sqlite", "--offline", "--out", "gap")
    assert gap.returncode == 0, gap.stderr
    assert "data gaps           1 span(s) never downloaded" in gap.stdout and "MSFT: 2024-02-06 14:30 to 2024-02-06 21:00" in gap.stdout, gap.stdout


@pytest.mark.skipif(not os.environ.get("MOONWIRE_TEST_POSTGRES"), reason="Scripts/test starts PostgreSQL and sets MOONWIRE_TEST_POSTGRES")
def test_postgres_store_gives_the_same_backtest(tmp_path):
    url = os.environ["MOONWIRE_TEST_POSTGRES"]
    symbol = "Z" + "".join(random.choices(string.ascii_uppercase, k=6))  # the server's tables are shared
    prepare(tmp_path, symbol=symbol, store=url)
    on_postgres = backtest(tmp_path, url, symbol=symbol, out="pg")
    assert on_postgres.returncode == 0, on_postgres.stdout + on_postgres.stderr
    sqlite = prepare(tmp_path, symbol=symbol)
    on_sqlite = backtest(tmp_path, sqlite, symbol=symbol, out="sqlite")
    assert (tmp_path / "pg" / "fills.csv").read_text() == (tmp_path / "sqlite" / "fills.csv").read_text()
    assert (tmp_path / "pg" / "equity.csv").read_text() == (tmp_path / "sqlite" / "equity.csv").read_text()
    assert re.search(r"net PnL\s+-252\.00", on_postgres.stdout)
    exported = moonwire(tmp_path, "history", "export", symbol, "--bar", "1 min", "--store", url)
    assert exported.returncode == 0 and exported.stdout.count("\n") == 7, exported.stderr
    wrong = moonwire(tmp_path, "history", "export", symbol, "--bar", "1 min", "--store", "postgres://moonwire:secret@127.0.0.1:1/x")
    assert wrong.returncode == 1 and "127.0.0.1:1" in wrong.stderr and "secret" not in wrong.stderr


def test_bad_input_is_named(tmp_path):
    store = prepare(tmp_path)
    missing = backtest(tmp_path, store, strategy="nosuch.lua")
    assert missing.returncode == 64 and "nosuch.lua: no such strategy file" in missing.stderr
    bad_fill = backtest(tmp_path, store, "--fill", "mid")
    assert bad_fill.returncode == 64 and "--fill must be next-open or same-close" in bad_fill.stderr
    bad_commission = backtest(tmp_path, store, "--commission", "flat")
    assert bad_commission.returncode == 64 and "--commission must be ib-fixed, ib-tiered, none or per-unit:AMOUNT" in bad_commission.stderr
    bad_param = backtest(tmp_path, store, "--param", "fast")
    assert bad_param.returncode == 64 and "--param 'fast' is not name=value" in bad_param.stderr
    bad_bar = moonwire(tmp_path, "backtest", "round_trip.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                       "--bar", "7 mins", "--store", store, "--offline")
    assert bad_bar.returncode == 1 and "no stored 7 mins TRADES bars of AAPL" in bad_bar.stderr and "nothing to backtest" in bad_bar.stderr, bad_bar.stderr
    (tmp_path / "broken.lua").write_text("function on_bar(b)\n  if then\nend\n")
    broken = backtest(tmp_path, store, strategy="broken.lua")
    assert broken.returncode == 1 and "broken.lua:2" in broken.stderr, broken.stderr
    (tmp_path / "peek.lua").write_text(ROUND_TRIP.replace("orders.buy(b.symbol, 100)", "orders.buy(b.symbol, 5000)"))
    refused = backtest(tmp_path, store, strategy="peek.lua")
    assert refused.returncode == 0 and "orders refused by the risk gate: 1" in refused.stdout, refused.stdout


def test_ctrl_c_ends_with_a_summary_of_what_ran(tmp_path):
    with Gateway("--seed", "4") as gateway:
        fetched = moonwire(tmp_path, "history", "AAPL", "--from", "2024-02-05", "--to", "2024-02-08", "--gateway", f"127.0.0.1:{gateway.port}",
                           "--store", "bars.sqlite")
        assert fetched.returncode == 0, fetched.stderr
    # About 2 ms a bar: the 4,320 bars would take ~9 s. 137 shares: a move of whole cents can
    # never make up the 1.00 commission exactly (with 100, one cent up left the equity at the
    # starting cash, and the check below that the run did something failed).
    (tmp_path / "slow.lua").write_text("""
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          if not said then said = true orders.buy("AAPL", 137) print("first bar handled") end
          local x = 0 for i = 1, 400000 do x = x + i end
        end
        """)
    err_path = tmp_path / "backtest.err"
    with open(err_path, "w") as err_file:
        process = subprocess.Popen([str(BINARY), "backtest", "slow.lua", "--instruments", "AAPL", "--from", "2024-02-05", "--to", "2024-02-08",
                                    "--store", "bars.sqlite", "--offline", "--out", "cut", "--verbose"], cwd=tmp_path,
                                   env=environment(tmp_path), stdout=subprocess.PIPE, stderr=err_file, text=True)
    try:
        # Interrupted once a bar was handled (the strategy says so), not after a guessed sleep.
        deadline = time.time() + 30
        while "first bar handled" not in err_path.read_text() and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert "first bar handled" in err_path.read_text(), err_path.read_text()[-2000:]
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
        err = err_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    bars = int(re.search(r"INTERRUPTED after (\d+) bars", out).group(1))
    assert 0 < bars < 4320, out
    assert (tmp_path / "cut" / "report.html").exists()
    assert len(rows(tmp_path / "cut" / "equity.csv")) == bars
    # summary.json says so too (a script reads it, not the console).
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["barsProcessed"] == bars, summary
    # Its CAGR is over the part that ran: from the span's start to the end of the last bar run.
    last = rows(tmp_path / "cut" / "equity.csv")[-1]["time"]
    ran = (datetime.datetime.fromisoformat(last + "+00:00") - datetime.datetime(2024, 2, 5, tzinfo=datetime.timezone.utc)).total_seconds()
    expected = (summary["finalEquity"] / summary["initialCash"]) ** (365.25 * 86400 / ran) - 1
    assert summary["finalEquity"] != summary["initialCash"] and summary["cagr"] == pytest.approx(expected, rel=1e-6), (summary, last)


# Issue 22: the same money offline and online. Six ES minutes in 2026 (the paper gateway's ES
# 202612 has history from a year before its expiry): bought 1 at 14:32's open 4800.00, sold at
# 14:34's open 4810.00: +10 points of a 50-dollar contract, 500.00 less the two commissions.
ES_BARS = """time,open,high,low,close,volume
2026-01-05T14:30:00Z,4795.00,4797.00,4794.00,4796.00,100
2026-01-05T14:31:00Z,4798.00,4800.00,4797.00,4799.50,100
2026-01-05T14:32:00Z,4800.00,4802.00,4799.00,4801.00,100
2026-01-05T14:33:00Z,4805.00,4806.00,4803.00,4804.00,100
2026-01-05T14:34:00Z,4810.00,4811.00,4808.00,4809.00,100
2026-01-05T14:35:00Z,4812.00,4813.00,4811.00,4812.50,100
"""

# Buys params.qty of params.symbol on the second bar, sells them on the fourth.
QTY_ROUND_TRIP = """
local n = 0
-- tostring: a param that reads as a number (--param symbol=7203) comes as one.
function on_start() market.subscribe(tostring(params.symbol), { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if n == 2 then orders.buy(b.symbol, tonumber(params.qty)) end
  if n == 4 then orders.sell(b.symbol, tonumber(params.qty)) end
end
"""


def es_backtest(tmp_path, store, out, *args, symbol="ES 202612", qty=1, start="2026-01-05 14:30", end="2026-01-05 14:36"):
    (tmp_path / "qty.lua").write_text(QTY_ROUND_TRIP)
    return moonwire(tmp_path, "backtest", "qty.lua", "--instruments", symbol, "--from", start, "--to", end, "--store", store,
                    "--out", out, "--param", f"symbol={symbol}", "--param", f"qty={qty}", *args)


def money_of(tmp_path, out):
    summary = json.loads((tmp_path / out / "summary.json").read_text())
    return summary["netPnL"], summary["commissions"]


def import_bars(tmp_path, text, symbol, store, *args, name="bars.csv"):
    (tmp_path / name).write_text(text)
    return moonwire(tmp_path, "history", "import", name, "--instrument", symbol, "--bar", "1 min", "--store", store, *args)


def test_future_gives_the_same_money_downloaded_in_the_run_and_offline(tmp_path):
    source = str(tmp_path / "source.sqlite")
    assert import_bars(tmp_path, ES_BARS, "ES 202612", source, "--multiplier", "50", "--tick", "0.25").returncode == 0
    store = str(tmp_path / "bars.sqlite")
    # The paper gateway replays the six minutes (fast: its clock is past them at once) and
    # answers for ES 202612 as TWS does: multiplier 50, tick 0.25.
    with Gateway("--replay", "ES 202612", "--replay-from", "2026-01-05 14:30", "--replay-to", "2026-01-05 14:36", "--speed", "1000000",
                 "--replay-store", source) as gateway:
        online = es_backtest(tmp_path, store, "online", "--gateway", f"127.0.0.1:{gateway.port}")
        # `moonwire history` keeps TWS's answer beside the bars too (another span: IB paces identical requests 15 s apart).
        downloaded = moonwire(tmp_path, "history", "ES 202612", "--from", "2026-01-05 14:29", "--to", "2026-01-05 14:36",
                              "--gateway", f"127.0.0.1:{gateway.port}", "--store", "downloaded.sqlite")
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    assert online.returncode == 0, online.stdout + online.stderr
    assert "ES 202612: fetching the missing 1 min bars first" in online.stdout, online.stdout
    assert [f["price"] for f in rows(tmp_path / "online" / "fills.csv")] == ["4800", "4810"]
    net, commissions = money_of(tmp_path, "online")
    assert net + commissions == pytest.approx(500.0), online.stdout
    # The rerun finds every bar stored and builds ES from what TWS answered then.
    offline = es_backtest(tmp_path, store, "offline", "--offline")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "fetching" not in offline.stdout and "assumed" not in offline.stdout, offline.stdout
    assert money_of(tmp_path, "offline") == money_of(tmp_path, "online")
    assert (tmp_path / "offline" / "fills.csv").read_text() == (tmp_path / "online" / "fills.csv").read_text()
    for kept in (store, str(tmp_path / "downloaded.sqlite")):
        with sqlite3.connect(kept) as db:
            assert db.execute("SELECT sec_type, currency, exchange, multiplier, tick FROM instruments WHERE instrument = 'ES 202612'").fetchone() \
                == ("FUT", "USD", "CME", 50.0, 0.25)
    from_history = es_backtest(tmp_path, "downloaded.sqlite", "history", "--offline")
    assert from_history.returncode == 0 and money_of(tmp_path, "history") == money_of(tmp_path, "online"), from_history.stdout


def test_imported_details_give_the_future_its_money_offline(tmp_path):
    store = str(tmp_path / "bars.sqlite")
    imported = import_bars(tmp_path, ES_BARS, "ES 202612", store, "--multiplier", "50", "--tick", "0.25", "--exchange", "CME",
                           "--currency", "USD", "--sec-type", "FUT", "--time-zone", "US/Central", "--session", "17:00-16:00")
    assert imported.returncode == 0 and "note:" not in imported.stdout, imported.stdout + imported.stderr
    run = es_backtest(tmp_path, store, "out", "--offline")
    assert run.returncode == 0, run.stdout + run.stderr
    net, commissions = money_of(tmp_path, "out")
    assert net + commissions == pytest.approx(500.0), run.stdout
    assert "assumed" not in run.stdout


def test_missing_details_are_said_not_assumed_silently(tmp_path):
    store = str(tmp_path / "bars.sqlite")
    # A future's multiplier is never assumed at import: refused, naming what to give.
    refused = import_bars(tmp_path, ES_BARS, "ES 202612", store)
    assert refused.returncode == 1 and "ES 202612 is a future: its multiplier decides every PnL" in refused.stderr, refused.stderr
    imported = import_bars(tmp_path, ES_BARS, "ES 202612", store, "--multiplier", "50")
    assert imported.returncode == 0, imported.stderr
    assert "note: ES 202612: currency USD, tick 0.01 assumed" in imported.stdout, imported.stdout
    # A store from before details were kept (or another tool's): the backtest says what it assumes.
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM instruments")
    run = es_backtest(tmp_path, store, "out", "--offline")
    assert run.returncode == 0, run.stdout + run.stderr
    assert ("note: ES 202612: no stored instrument details: multiplier 1 and tick 0.01 assumed; "
            "import with --multiplier/--tick or download the bars once") in run.stdout, run.stdout
    # --multiplier on the command line still gives the contract its size.
    sized = es_backtest(tmp_path, store, "sized", "--offline", "--multiplier", "ES 202612=50")
    assert sized.returncode == 0 and "tick 0.01 assumed" in sized.stdout, sized.stdout
    net, commissions = money_of(tmp_path, "sized")
    assert net + commissions == pytest.approx(500.0)


def test_forex_fills_at_the_open_unrounded_without_slippage(tmp_path):
    eurusd = """time,open,high,low,close,volume
2024-01-02T14:30:00Z,1.08401,1.08420,1.08390,1.08410,0
2024-01-02T14:31:00Z,1.08410,1.08440,1.08400,1.08430,0
2024-01-02T14:32:00Z,1.08437,1.08460,1.08420,1.08450,0
2024-01-02T14:33:00Z,1.08450,1.08500,1.08440,1.08490,0
2024-01-02T14:34:00Z,1.08489,1.08510,1.08470,1.08500,0
2024-01-02T14:35:00Z,1.08500,1.08520,1.08480,1.08510,0
"""
    store = str(tmp_path / "bars.sqlite")
    assert import_bars(tmp_path, eurusd, "EUR.USD", store).returncode == 0
    run = es_backtest(tmp_path, store, "out", "--offline", symbol="EUR.USD", qty=1000, start="2024-01-02 14:30", end="2024-01-02 14:36")
    assert run.returncode == 0, run.stdout + run.stderr
    assert [f["price"] for f in rows(tmp_path / "out" / "fills.csv")] == ["1.08437", "1.08489"], run.stdout
    # One tick of slippage: EUR.USD's tick (0.00005), on its grid: 1.08437 + 0.00005 -> 1.0844.
    slipped = es_backtest(tmp_path, store, "slip", "--offline", "--slippage", "1", symbol="EUR.USD", qty=1000,
                          start="2024-01-02 14:30", end="2024-01-02 14:36")
    assert [f["price"] for f in rows(tmp_path / "slip" / "fills.csv")] == ["1.0844", "1.08485"], slipped.stdout


def test_a_currency_without_rates_refuses_naming_the_download(tmp_path):
    store = str(tmp_path / "bars.sqlite")
    toyota = BARS.replace("100.", "2500.").replace("101.", "2501.").replace("98.", "2498.").replace("99.", "2499.").replace("102.", "2502.")
    assert import_bars(tmp_path, toyota, "7203", store, "--currency", "JPY", "--tick", "1").returncode == 0
    run = es_backtest(tmp_path, store, "out", "--offline", symbol="7203", qty=100, start="2024-01-02 14:30", end="2024-01-02 14:36")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "7203 is quoted in JPY" in run.stderr and 'moonwire history USD.JPY --bar "1 min" --what MIDPOINT' in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()
    rates = BARS.replace("100.", "150.").replace("101.", "151.").replace("98.", "148.").replace("99.", "149.").replace("102.", "152.")
    assert import_bars(tmp_path, rates, "USD.JPY", store, "--what", "MIDPOINT", name="usdjpy.csv").returncode == 0
    counted = es_backtest(tmp_path, store, "out", "--offline", symbol="7203", qty=100, start="2024-01-02 14:30", end="2024-01-02 14:36")
    assert counted.returncode == 0, counted.stdout + counted.stderr
    in_yen = es_backtest(tmp_path, store, "yen", "--offline", "--base-currency", "JPY", symbol="7203", qty=100,
                         start="2024-01-02 14:30", end="2024-01-02 14:36")
    assert in_yen.returncode == 0, in_yen.stdout + in_yen.stderr
    # Both traded (its on_start subscribed: a failing one is no result, exit 1, since this session).
    assert len(rows(tmp_path / "out" / "fills.csv")) == 2 and len(rows(tmp_path / "yen" / "fills.csv")) == 2
    bad = es_backtest(tmp_path, store, "bad", "--offline", "--base-currency", "US", symbol="7203", qty=100)
    assert bad.returncode == 64 and "--base-currency 'US' is not a currency's three letters" in bad.stderr, bad.stderr
