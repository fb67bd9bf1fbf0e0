"""Where a backtest's data comes from and where its report goes, at the edges: imported bars are
never topped up with the built-in paper gateway's synthetic prices; two runs into one folder
each leave whole files; a folder that cannot be written is said before the run; a file that
stops growing (a full disk) stops the run, saying why, and leaves nothing half-written; a
sweep stopped by Ctrl-C marks what it did not finish and compares only whole runs; the page
says how many fills it draws."""
import csv
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from cli_helpers import environment
from gateway_process import BINARY

EMPTY = 'function on_start() market.subscribe("AAPL", { bars = "1 min" }) end\nfunction on_bar(b) end\n'
# Buys on the 5th bar, sells on the 50th, again and again: equity that moves.
TRADER = """
local n = 0
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if n % 100 == 5 then orders.buy("AAPL", 10) end
  if n % 100 == 50 then orders.sell("AAPL", 10) end
end
"""


def minutes_csv(count, start=1704205800):
    """`count` 1-minute bars from 2024-01-02 14:30 UTC (09:30 in New York), a seeded walk."""
    lines, price, seed = ["time,open,high,low,close,volume"], 100.0, 7
    for index in range(count):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        close = round(max(1.0, price * (1 + ((seed >> 11) / 2**53 - 0.5) * 0.002)), 2)
        lines.append(f"{start + index * 60},{price:.2f},{max(price, close) + 0.01:.2f},{min(price, close) - 0.01:.2f},{close:.2f},100")
        price = close
    return "\n".join(lines) + "\n"


def moonwire(tmp_path, *args, timeout=120):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=timeout)


def imported(tmp_path, count, store="bars.sqlite"):
    (tmp_path / "bars.csv").write_text(minutes_csv(count))
    done = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", store)
    assert done.returncode == 0, done.stdout + done.stderr
    return store


def stored_bars(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*), MIN(time), MAX(time) FROM bars").fetchone()


def partials(folder):
    return [name for name in os.listdir(folder) if name.endswith(".partial")] if folder.exists() else []


def test_imported_bars_are_not_topped_up_with_synthetic_prices(tmp_path):
    store = imported(tmp_path, 390)  # Tuesday 2024-01-02's session; Wednesday is not stored
    before = stored_bars(tmp_path / store)
    (tmp_path / "empty.lua").write_text(EMPTY)
    # No connection configured: the built-in paper gateway is what a fetch would ask.
    run = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                   "--store", store, "--out", "out")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "AAPL: 1 span(s) the store does not hold, reported as gaps: not filled from the built-in paper gateway" in run.stdout, run.stdout
    assert "fetching" not in run.stdout and "synthetic prices, not a market's" not in run.stdout, run.stdout
    assert stored_bars(tmp_path / store) == before
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["barsProcessed"] == 390 and summary["interrupted"] is False, summary
    # A store with nothing of the instrument still gets the paper gateway's bars, said (a demo).
    fresh = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                     "--store", "fresh.sqlite", "--out", "fresh")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "synthetic prices, not a market's" in fresh.stdout and "AAPL: fetching the missing 1 min bars first" in fresh.stdout, fresh.stdout


def test_an_imported_instrument_is_not_topped_up_at_another_bar_size_and_keeps_its_details(tmp_path):
    (tmp_path / "bars.csv").write_text(minutes_csv(390))
    done = moonwire(tmp_path, "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", "bars.sqlite",
                    "--time-zone", "US/Central", "--session", "17:00-16:00")
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(tmp_path / "bars.sqlite") as db:
        details = db.execute("SELECT * FROM instruments").fetchall()
    (tmp_path / "empty.lua").write_text(EMPTY.replace('"1 min"', '"5 mins"'))
    for extra in (["--bar", "5 mins"], ["--what", "MIDPOINT"]):
        run = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                       "--store", "bars.sqlite", "--out", "out", *extra)
        assert "not filled from the built-in paper gateway" in run.stdout and "fetching" not in run.stdout, run.stdout + run.stderr
    with sqlite3.connect(tmp_path / "bars.sqlite") as db:
        assert db.execute("SELECT * FROM instruments").fetchall() == details
        assert db.execute("SELECT bar_size, what, COUNT(*) FROM bars GROUP BY bar_size, what").fetchall() == [("1 min", "TRADES", 390)]


def test_two_backtests_into_one_folder_each_leave_whole_files(tmp_path):
    store = imported(tmp_path, 30_000)
    (tmp_path / "trader.lua").write_text(TRADER)
    (tmp_path / "empty.lua").write_text(EMPTY)
    common = ["--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-02-05", "--store", store, "--offline"]
    # Each alone first: the files a whole run of each leaves.
    alone = {}
    for name in ("trader.lua", "empty.lua"):
        run = moonwire(tmp_path, "backtest", name, *common, "--out", f"alone-{name}")
        assert run.returncode == 0, run.stdout + run.stderr
        alone[name] = (tmp_path / f"alone-{name}" / "equity.csv").read_bytes()
    assert alone["trader.lua"] != alone["empty.lua"]
    runs = [subprocess.Popen([str(BINARY), "backtest", name, *common, "--out", "same"], cwd=tmp_path, env=environment(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("trader.lua", "empty.lua")]
    try:
        outputs = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    assert [run.returncode for run in runs] == [0, 0], outputs
    # equity.csv is one run's whole file, not a mix, nor cut short.
    assert (tmp_path / "same" / "equity.csv").read_bytes() in alone.values()
    assert partials(tmp_path / "same") == []


def test_a_folder_that_cannot_be_written_is_said_before_the_run(tmp_path):
    store = imported(tmp_path, 1_000)
    (tmp_path / "empty.lua").write_text(EMPTY)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        run = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                       "--store", store, "--offline", "--out", str(locked / "report"))
    finally:
        locked.chmod(0o755)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"cannot write the report: {locked / 'report'}: permission denied" in run.stderr, run.stderr
    assert "NSCocoaErrorDomain" not in run.stderr and "bars processed" not in run.stdout, run.stdout + run.stderr


REPORT_FILES = ("equity.csv", "summary.json", "summary.txt", "trades.csv", "fills.csv", "report.html")


@pytest.mark.parametrize("bars, during_the_run", [(30_000, True), (10_000, False), (1_000, False)])
def test_a_report_file_that_cannot_grow_stops_the_run_and_leaves_the_folder_as_it_was(tmp_path, bars, during_the_run):
    """30,000 bars make more than a megabyte of equity.csv: its first part is written during the
    run, which stops there. 10,000 make less: the file fails as the report is written, beside
    the other files, and none of them replaces the earlier report's. 1,000 make an equity.csv
    that fits and a report.html that does not: the same, its reason said in words."""
    store = imported(tmp_path, bars)
    # Both log a line a bar: the failed run's log.txt must not replace the earlier one's either.
    (tmp_path / "empty.lua").write_text(EMPTY.replace("function on_bar(b) end", 'function on_bar(b) log.info("bar " .. b.time) end'))
    (tmp_path / "trader.lua").write_text(TRADER.replace("  n = n + 1\n", '  n = n + 1\n  log.info("trader bar " .. n)\n'))
    # An earlier whole report in the folder: a failed run leaves it as it was, not mixed.
    earlier = moonwire(tmp_path, "backtest", "trader.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                       "--store", store, "--offline", "--out", "out")
    assert earlier.returncode == 0, earlier.stdout + earlier.stderr
    before = {name: (tmp_path / "out" / name).read_bytes() for name in REPORT_FILES + ("log.txt",)}
    assert b"trader bar 1" in before["log.txt"]
    # Files of this process may not pass 64 KB: a full disk, for one user. SIGXFSZ ignored,
    # so the write fails (EFBIG) instead of killing the process.
    command = (f"trap '' XFSZ; ulimit -f 64; exec {BINARY} backtest empty.lua --instruments AAPL --from 2024-01-02 "
               f"--to 2024-02-05 --store {store} --offline --out out")
    run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "cannot write the report:" in run.stderr and "file too large" in run.stderr, run.stderr
    assert ("the run stopped there" in run.stderr) == during_the_run, run.stderr
    assert ("bars processed" in run.stdout) == (not during_the_run), run.stdout
    assert partials(tmp_path / "out") == []
    assert {name: (tmp_path / "out" / name).read_bytes() for name in REPORT_FILES + ("log.txt",)} == before
    # With no earlier report in its folder, a failed run keeps its log lines: they say why.
    fresh = subprocess.run(["bash", "-c", command.replace("--out out", "--out fresh")], cwd=tmp_path, env=environment(tmp_path),
                           capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    assert b"bar " in (tmp_path / "fresh" / "log.txt").read_bytes() and partials(tmp_path / "fresh") == []


def test_a_sweep_stopped_by_ctrl_c_compares_only_whole_runs(tmp_path):
    store = imported(tmp_path, 4_320)
    # fast=1 runs at once; the others take about 2 ms a bar (~9 s): Ctrl-C once the second
    # combination has handled a bar (it says so), not after a guessed sleep.
    (tmp_path / "sweep.lua").write_text("""
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          if tostring(params.fast) == "1" then return end
          if not said then said = true print("slow combination started") end
          local x = 0 for i = 1, 400000 do x = x + i end
        end
        """)
    err_path = tmp_path / "sweep.err"
    with open(err_path, "w") as err_file:
        process = subprocess.Popen([str(BINARY), "backtest", "sweep.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-06",
                                    "--store", store, "--offline", "--out", "sweep", "--param", "fast=1,2,3,4", "--jobs", "1", "--verbose"],
                                   cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=err_file, text=True)
    try:
        deadline = time.time() + 60
        while "slow combination started" not in err_path.read_text() and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert "slow combination started" in err_path.read_text(), err_path.read_text()[-2000:]
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err_path.read_text()
    with open(tmp_path / "sweep" / "sweep.csv", newline="") as file:
        table = {row["fast"]: row for row in csv.DictReader(file)}
    assert table["1"]["interrupted"] == "0" and table["1"]["bars"] == "4320", table
    for fast in ("2", "3", "4"):
        assert table[fast]["interrupted"] == "1" and int(table[fast]["bars"]) < 4320, table
    assert "best net PnL: fast=1 " in out and "3 of 4 combinations interrupted" in out, out
    # The two that never started say so, not zeros that read as results.
    assert int(table["2"]["bars"]) > 0 and table["2"]["net_pnl"] != "", table
    for fast in ("3", "4"):
        assert table[fast]["bars"] == "0" and table[fast]["net_pnl"] == "" and table[fast]["error"] == "not run", table
    assert sum("not run (interrupted before its first bar)" in line for line in out.splitlines()) == 2, out


def test_the_page_says_how_many_fills_it_draws(tmp_path):
    store = imported(tmp_path, 30_000)
    (tmp_path / "busy.lua").write_text("""
        local n = 0
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          n = n + 1
          if n % 10 == 1 then orders.buy("AAPL", 1) elseif n % 10 == 6 then orders.sell("AAPL", 1) end
        end
        """)
    run = moonwire(tmp_path, "backtest", "busy.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-02-05",
                   "--store", store, "--offline", "--out", "busy")
    assert run.returncode == 0, run.stdout + run.stderr
    fills = len((tmp_path / "busy" / "fills.csv").read_text().splitlines()) - 1
    assert fills > 2_000
    assert f"the first 2,000 of {fills} fills drawn; all in fills.csv" in (tmp_path / "busy" / "report.html").read_text()


def test_an_instrument_given_with_terms_of_its_own_is_named_in_the_users_terms(tmp_path):
    store = imported(tmp_path, 100)
    (tmp_path / "odd.lua").write_text("""
        function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
        function on_bar(b)
          if said then return end
          said = true
          local id, err = orders.buy({ symbol = "AAPL", type = "STK", exchange = "SMARK", currency = "USD" }, 1, { limit = 50 })
          print("refused: " .. tostring(err and err.message))
        end
        """)
    run = moonwire(tmp_path, "backtest", "odd.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                   "--store", store, "--offline", "--out", "odd", "--verbose")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "AAPL (as given, with its own exchange, currency or con_id) is not one of the backtest's instruments" in run.stderr, run.stderr
    assert "Contract(" not in run.stdout + run.stderr


def test_partial_files_of_killed_runs_are_removed_by_the_next_run_and_no_other(tmp_path):
    store = imported(tmp_path, 100)
    (tmp_path / "empty.lua").write_text(EMPTY)
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen(["true"])  # a process that has ended: its pid names no live run
    dead.wait()
    alive = os.getpid()
    left = {f".equity.csv.{dead.pid}-1.partial": False, f".trades.csv.{dead.pid}-2.partial": False,
            f".equity.csv.{alive}-3.partial": True, f".notes.txt.{dead.pid}-4.partial": True, ".equity.csv.garbage.partial": True}
    for name in left:
        (out / name).write_text("x")
    run = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                   "--store", store, "--offline", "--out", "out")
    assert run.returncode == 0, run.stdout + run.stderr
    assert {name: (out / name).exists() for name in left} == left


def test_summary_json_says_what_produced_its_figures(tmp_path):
    """summary.json read later says which strategy, instruments, span, params and fill rules its
    figures are of (`run`), beside the figures at the top level as before."""
    store = imported(tmp_path, 3_000)
    (tmp_path / "trader.lua").write_text(TRADER)
    run = moonwire(tmp_path, "backtest", "trader.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-05",
                   "--store", store, "--offline", "--param", "qty=10", "--slippage", "2", "--cash", "50000", "--out", "out")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["initialCash"] == 50000 and "netPnL" in summary and summary["barsProcessed"] == 3_000
    assert summary["run"] == {
        "strategy": "trader.lua", "name": "trader", "instruments": ["AAPL"], "bar": "1 min", "what": "TRADES",
        "from": "2024-01-02", "to": "2024-01-05", "params": {"qty": "10"}, "fills": "next-open", "slippageTicks": 2,
        "commission": summary["run"]["commission"], "initialCash": 50000, "baseCurrency": "USD"}
    assert summary["run"]["commission"].startswith("IB"), summary["run"]["commission"]


def buys_early_when_note_is(lua_string):
    """A strategy that buys on bar 5 when params.note equals the Lua string literal given, else
    on bar 20, and sells on bar 400: the note's value shows in the figures."""
    return f"""
local n, buy_at = 0, (params.note == {lua_string}) and 5 or 20
function on_start() market.subscribe("AAPL", {{ bars = "1 min" }}) end
function on_bar(b)
  n = n + 1
  if n == buy_at then orders.buy("AAPL", 10) end
  if n == 400 then orders.sell("AAPL", 10) end
end
"""


def pasted_words(out):
    """The best combination's words to paste, as bash reads them back."""
    hint = next(line for line in out.splitlines() if line.startswith("best net PnL:"))
    words = hint.split("run it alone for its report: ", 1)[1].rstrip(")")
    echoed = subprocess.run(["bash", "-c", f"printf '%s\\0' {words}"], capture_output=True, text=True, timeout=10)
    return hint, [word for word in echoed.stdout.split("\0") if word]


def test_a_sweeps_odd_values_stay_in_their_cells_and_the_best_pastes_back(tmp_path):
    """A value with a line feed, a space, a quote: the console table keeps one line per row,
    and the command line printed for the best combination gives the same values back when a
    shell reads it (bash, as users paste it)."""
    store = imported(tmp_path, 600)
    (tmp_path / "sweep.lua").write_text(buys_early_when_note_is('"a\\nb"'))
    values = ["a\nb", "it's x", "plain"]
    done = moonwire(tmp_path, "backtest", "sweep.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                    "--store", store, "--offline", "--out", "sweep", "--param", "note=" + ",".join(values), "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout + done.stderr
    header = next(line for line in out.splitlines() if line.startswith("note"))
    rows = out.splitlines()[out.splitlines().index(header) + 1:][:3]
    # Each combination on its own line, its value shown escaped.
    assert [row.split("  ")[0].strip() for row in rows] == ["a\\nb", "it's x", "plain"], out
    hint, parsed = pasted_words(out)
    assert parsed[0] == "--param" and parsed[1].startswith("note="), (hint, parsed)
    assert parsed[1][len("note="):] in values, (hint, parsed)
    # The best is the one its figures say (the early buy, in this walk, or another): whichever
    # it is, rerunning it alone gives the same net PnL as its row.
    alone = moonwire(tmp_path, "backtest", "sweep.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04",
                     "--store", store, "--offline", "--out", "alone", "--param", parsed[1])
    assert alone.returncode == 0, alone.stdout + alone.stderr
    best_value = parsed[1][len("note="):]
    best_row = rows[values.index(best_value)]
    with open(tmp_path / "alone" / "summary.json") as file:
        net = json.load(file)["netPnL"]
    assert f"{net:,.2f}".replace(",", "") in best_row.replace(",", ""), (best_row, net)


FAILING_SOMETIMES = """
local n = 0
function on_start() market.subscribe("AAPL", { bars = "1 min" }) end
function on_bar(b)
  n = n + 1
  if params.broken == "yes" then error("broken on bar " .. n) end
  if n == 5 then orders.buy("AAPL", 10) end
  if n == 300 then orders.sell("AAPL", 10) end
end
"""


def test_a_strategy_paused_by_its_failing_handlers_is_no_result(tmp_path):
    """Handlers that fail until the strategy is paused: the run says so, summary.json too, and
    it exits 1; in a sweep that combination is an error (the table, sweep.csv), never the best,
    and the sweep fails. The best's words to paste carry the fixed --params too."""
    store = imported(tmp_path, 600)
    (tmp_path / "s.lua").write_text(FAILING_SOMETIMES)
    common = ["--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04", "--store", store, "--offline"]
    alone = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "alone", "--param", "broken=yes")
    assert alone.returncode == 1, alone.stdout + alone.stderr
    out = alone.stdout + alone.stderr
    assert "PAUSED: the strategy was paused after 5 failing handler runs (the first: on_bar: s.lua:" in out, out
    assert "broken on bar 1" in out, out
    with open(tmp_path / "alone" / "summary.json") as file:
        summary = json.load(file)
    assert summary["paused"] is True and summary["handlerFailures"] == 5, summary

    fine = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "fine", "--param", "broken=no")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    with open(tmp_path / "fine" / "summary.json") as file:
        summary = json.load(file)
    assert summary["paused"] is False and summary["handlerFailures"] == 0, summary

    sweep = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "sweep", "--param", "broken=yes,no", "--param", "extra=x y",
                     "--jobs", "1")
    assert sweep.returncode == 1, sweep.stdout + sweep.stderr
    out = sweep.stdout + sweep.stderr
    assert "1 of 2 combinations failed (the first: the strategy was paused after 5 failing handler runs" in out, out
    assert "best net PnL: broken=no extra=x y (run it alone for its report: --param broken=no --param 'extra=x y')" in out, out
    with open(tmp_path / "sweep" / "sweep.csv", newline="") as file:
        rows = {row["broken"]: row for row in csv.DictReader(file)}
    assert rows["yes"]["error"].startswith("paused after 5 failing handler runs"), rows["yes"]
    assert rows["yes"]["net_pnl"] == "" and rows["no"]["error"] == "", rows


def test_a_long_single_run_reads_its_bars_as_it_goes_and_comes_to_what_a_sweep_does(tmp_path):
    """A single run over more bars than it reads before it starts (8,192) takes the rest as it
    goes; a sweep reads them whole first. The same combination comes to the same figures in
    both, and the single run's report has every bar (equity.csv, the chart) and an unusable bar
    stored in the later part is said."""
    store = imported(tmp_path, 100_000)
    # A bar another tool wrote badly, past the first part: left out, and said.
    with sqlite3.connect(tmp_path / store) as db:
        db.execute("UPDATE bars SET high = low - 1 WHERE time = ?", (1704205800 + 50_000 * 60,))
    (tmp_path / "trader.lua").write_text(TRADER.replace("orders.buy(\"AAPL\", 10)", "orders.buy(\"AAPL\", tonumber(params.q))")
                                         .replace("orders.sell(\"AAPL\", 10)", "orders.sell(\"AAPL\", tonumber(params.q))"))
    common = ["--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-03-14", "--store", store, "--offline"]
    alone = moonwire(tmp_path, "backtest", "trader.lua", *common, "--out", "alone", "--param", "q=10")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "backtesting trader over the 1 min bars of AAPL" in alone.stdout, alone.stdout
    assert "AAPL: 1 stored bar left out as unusable (the first at 2024-02-06 07:50" in alone.stdout, alone.stdout
    summary = json.loads((tmp_path / "alone" / "summary.json").read_text())
    assert summary["barsProcessed"] == 99_999 and summary["fills"] > 1_500, summary
    # Not a terminal: progress lines are plain lines, and the last says where the run ended
    # (the first, after the 8,191 bars read before the run, could otherwise be the last).
    progress = [line for line in alone.stderr.splitlines() if line.startswith("backtest: ")]
    assert progress and progress[-1] == "backtest: 99999 bars (100 %)", alone.stderr
    with open(tmp_path / "alone" / "equity.csv") as file:
        assert sum(1 for _ in file) - 1 == 99_999
    page = (tmp_path / "alone" / "report.html").read_text()
    assert "2024-03-11" in page or "1710" in page  # the chart reaches the last days, not just the first part's
    swept = moonwire(tmp_path, "backtest", "trader.lua", *common, "--out", "sweep", "--param", "q=10,20", "--jobs", "1")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "backtesting trader over 99999 1 min bars" in swept.stdout, swept.stdout
    row = next(r for r in csv.DictReader(open(tmp_path / "sweep" / "sweep.csv")) if r["q"] == "10")
    assert float(row["net_pnl"]) == pytest.approx(summary["netPnL"], abs=0.005), (row, summary)
    assert int(row["trades"]) == summary["trades"], (row, summary)


def test_a_param_value_may_hold_a_comma_and_the_best_pastes_it_back(tmp_path):
    """`\\,` is a comma within a value (`\\\\` a backslash): one value, not a sweep of two; in a
    sweep the value stays whole, and the best's words to paste give it back."""
    store = imported(tmp_path, 600)
    (tmp_path / "p.lua").write_text(buys_early_when_note_is('"c,d\\\\e"'))
    common = ["--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04", "--store", store, "--offline"]
    single = moonwire(tmp_path, "backtest", "p.lua", *common, "--out", "single", "--param", "note=c\\,d\\\\e")
    assert single.returncode == 0, single.stdout + single.stderr
    assert "sweeping" not in single.stdout, single.stdout
    summary = json.loads((tmp_path / "single" / "summary.json").read_text())
    assert summary["run"]["params"] == {"note": "c,d\\e"}, summary["run"]
    swept = moonwire(tmp_path, "backtest", "p.lua", *common, "--out", "sweep", "--param", "note=c\\,d\\\\e,plain", "--jobs", "1")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert "sweeping 2 combinations" in swept.stdout, swept.stdout
    notes = sorted(row["note"] for row in csv.DictReader(open(tmp_path / "sweep" / "sweep.csv")))
    assert notes == ["c,d\\e", "plain"], notes
    hint, parsed = pasted_words(swept.stdout)
    alone = moonwire(tmp_path, "backtest", "p.lua", *common, "--out", "alone", *parsed)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    best = json.loads((tmp_path / "alone" / "summary.json").read_text())["run"]["params"]["note"]
    assert best in ("c,d\\e", "plain"), (hint, parsed, best)


def test_runs_in_the_same_second_get_folders_of_their_own(tmp_path):
    """Without --out, a run's report goes to backtests/NAME-TIME; a folder of that name already
    there (another run started in the same second) is left alone and the run takes NAME-TIME-2."""
    store = imported(tmp_path, 200)
    (tmp_path / "empty.lua").write_text(EMPTY)
    now = int(time.time())
    taken = [tmp_path / "backtests" / time.strftime("empty-%Y%m%d-%H%M%S", time.gmtime(now + delta)) for delta in range(0, 30)]
    for folder in taken:
        folder.mkdir(parents=True)
        (folder / "keep.txt").write_text("an earlier run's")
    run = moonwire(tmp_path, "backtest", "empty.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                   "--store", store, "--offline")
    assert run.returncode == 0, run.stdout + run.stderr
    report = next(line for line in run.stdout.splitlines() if line.startswith("report: "))
    folder = os.path.dirname(report.split("report: ", 1)[1].split(" (", 1)[0])
    assert os.path.basename(folder) in [f.name + "-2" for f in taken], report
    assert os.path.exists(os.path.join(tmp_path, folder, "summary.json")) or os.path.exists(os.path.join(folder, "summary.json"))
    for earlier in taken:
        assert sorted(os.listdir(earlier)) == ["keep.txt"], earlier


def test_a_strategy_whose_on_start_failed_is_no_result(tmp_path):
    """on_start failing (here before it subscribes) leaves a strategy that never ran: its run
    is no result (FAILED, exit 1, summary.json's startFailed), and in a sweep an error."""
    store = imported(tmp_path, 300)
    (tmp_path / "s.lua").write_text("""
function on_start()
  if params.broken == "yes" then local t = nil; t.x = 1 end
  market.subscribe("AAPL", { bars = "1 min" })
end
local n = 0
function on_bar(b)
  n = n + 1
  if n == 5 then orders.buy("AAPL", 10) end
end
""")
    common = ["--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-04", "--store", store, "--offline"]
    broken = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "broken", "--param", "broken=yes")
    out = broken.stdout + broken.stderr
    assert broken.returncode == 1, out
    assert "FAILED: its on_start failed (on_start: s.lua:3:" in out, out
    assert "its on_start failed (on_start: s.lua:3:" in broken.stderr and (tmp_path / "broken" / "report.html").exists(), out
    summary = json.loads((tmp_path / "broken" / "summary.json").read_text())
    assert summary["startFailed"] is True and summary["paused"] is False, summary
    fine = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "fine", "--param", "broken=no")
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert json.loads((tmp_path / "fine" / "summary.json").read_text())["startFailed"] is False
    sweep = moonwire(tmp_path, "backtest", "s.lua", *common, "--out", "sweep", "--param", "broken=yes,no", "--jobs", "1")
    assert sweep.returncode == 1, sweep.stdout + sweep.stderr
    rows = {row["broken"]: row for row in csv.DictReader(open(tmp_path / "sweep" / "sweep.csv"))}
    assert rows["yes"]["error"].startswith("its on_start failed") and rows["yes"]["net_pnl"] == "", rows
    assert "best net PnL: broken=no" in sweep.stdout, sweep.stdout


def test_verbose_console_lines_carry_the_simulated_time(tmp_path):
    """--verbose shows the strategy's lines at the bar's time, as log.txt has them, not the
    wall clock's."""
    store = imported(tmp_path, 10)
    (tmp_path / "talk.lua").write_text(
        'function on_start() market.subscribe("AAPL", { bars = "1 min" }) end\n'
        'function on_bar(b) log.info("close " .. b.close) end\n')
    run = moonwire(tmp_path, "backtest", "talk.lua", "--instruments", "AAPL", "--from", "2024-01-02", "--to", "2024-01-03",
                   "--store", store, "--offline", "--out", "out", "--verbose")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if ": close " in line]
    assert len(lines) == 10, run.stderr
    # The first bar opens 14:30 and its lines are written at its end.
    assert lines[0].startswith("2024-01-02T14:31:00Z "), lines[0]
    assert lines[-1].startswith("2024-01-02T14:40:00Z "), lines[-1]
