"""Bar files and stores from outside, through the binary: `moonwire history import` refuses each
bad CSV of `Tests/Hostile/csv` with the file, line and column (exit 1, nothing stored, never a
crash) and reads what spreadsheets write; a replay skips the bad rows another tool wrote into the
store, with a warning naming each; a store URL is never echoed with its password."""
import os
import pathlib
import random
import re
import sqlite3
import string
import subprocess

import pytest

from cli_helpers import HAND_BARS, environment
from gateway_process import BINARY

CORPUS = pathlib.Path(__file__).resolve().parents[1] / "Hostile" / "csv"

# Each bad file: the line and what the message must say about it.
BAD = {
    "duplicate_column.csv": (1, "the header has column 'open' twice (columns 2 and 7)"),
    "epoch_max.csv": (4, "time '9223372036854775807' is past 9999-12-31"),
    "epoch_min.csv": (4, "time '-9223372036854775808' is before 1900-01-01"),
    "epoch_milliseconds.csv": (2, "time '1704205800000' is past 9999-12-31 (epoch milliseconds? give epoch seconds)"),
    "volume_inf.csv": (4, "volume 'inf' is not a finite number"),
    "volume_1e300.csv": (4, "volume '1e300' is above 1e15"),
    "volume_nan.csv": (4, "volume 'NaN' is not a finite number"),
    "volume_negative.csv": (4, "volume '-20' is negative"),
    "price_negative.csv": (4, "open '-101.00' is negative"),
    "price_absurd.csv": (4, "high '1e200' is above 1e12"),
    "high_below_low.csv": (4, "high 100.0 and low 100.6 do not contain open 101.0 and close 101.2"),
    "nul_in_cell.csv": (4, "close '101.2\\x0099' contains a control character"),
    "cr_in_cell.csv": (4, "volume '10\\r00' contains a control character"),
    "impossible_date.csv": (2, "time '2024-02-30T14:30:00Z' is not a time"),
    "not_in_order.csv": (4, "time 2024-01-02 14:30:30 is not after line 3's"),
    "many_bad_lines.csv": (5, "volume 'inf' is not a finite number"),
}


def run(tmp_path, *args):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=60)


def stored(store, instrument):
    with sqlite3.connect(store) as db:
        bars = db.execute("SELECT COUNT(*) FROM bars WHERE instrument = ?", (instrument,)).fetchone()[0]
        spans = db.execute("SELECT COUNT(*) FROM coverage WHERE instrument = ?", (instrument,)).fetchone()[0]
    return bars, spans


def test_the_corpus_is_all_here():
    assert sorted(p.name for p in CORPUS.glob("*.csv")) == sorted([*BAD, "good_bom_crlf.csv"])


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_file_is_refused_by_line_and_column_and_nothing_is_stored(tmp_path, name):
    store = tmp_path / "bars.sqlite"
    (tmp_path / "good.csv").write_text(HAND_BARS)
    assert run(tmp_path, "history", "import", "good.csv", "--instrument", "MSFT", "--bar", "1 min", "--store", str(store)).returncode == 0
    line, message = BAD[name]
    done = run(tmp_path, "history", "import", str(CORPUS / name), "--instrument", "AAPL", "--bar", "1 min", "--store", str(store))
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert f"{CORPUS / name}:{line}: {message}" in done.stderr, done.stderr
    assert "nothing was imported" in done.stderr
    assert "\x00" not in done.stderr and "\r" not in done.stderr
    assert stored(store, "AAPL") == (0, 0)
    assert stored(store, "MSFT") == (6, 1)


def test_every_bad_line_is_counted_and_the_first_ten_named(tmp_path):
    done = run(tmp_path, "history", "import", str(CORPUS / "many_bad_lines.csv"), "--instrument", "AAPL", "--bar", "1 min",
               "--store", str(tmp_path / "bars.sqlite"))
    assert done.returncode == 1
    assert "15 bad lines (the first 10 below); nothing was imported" in done.stderr, done.stderr
    named = re.findall(r"many_bad_lines\.csv:(\d+): volume 'inf'", done.stderr)
    assert named == [str(n) for n in range(5, 25, 2)], done.stderr


def test_a_byte_order_mark_and_crlf_are_read(tmp_path):
    store = tmp_path / "bars.sqlite"
    done = run(tmp_path, "history", "import", str(CORPUS / "good_bom_crlf.csv"), "--instrument", "AAPL", "--bar", "1 min", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "imported 2 bars of AAPL 1 min TRADES" in done.stdout
    exported = run(tmp_path, "history", "export", "AAPL", "--bar", "1 min", "--store", str(store))
    assert exported.stdout.splitlines()[1] == "2024-01-02T14:30:00Z,100,100.5,99.5,100.2,1000,,", exported.stdout


@pytest.mark.parametrize("url", ["postgres://user:secret@[bad", "postgres://user:secret@host:99999999/bars",
                                 "postgresql://user:se@cret@/bars", "postgres://user:secret@127.0.0.1:1/bars",
                                 # mistyped: each was echoed whole, the last taken for a SQLite file's name
                                 "postgres://u:secret", "postgres://u%3Asecret@127.0.0.1:1/x", "postgresql:/user:secret@h/x",
                                 "postgres//user:secret@h/x", "postgres:u:secret@h"])
def test_a_store_url_is_never_echoed_with_its_password(tmp_path, url):
    (tmp_path / "good.csv").write_text(HAND_BARS)
    for args in (["history", "import", "good.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", url],
                 ["history", "export", "AAPL", "--bar", "1 min", "--store", url]):
        done = run(tmp_path, *args)
        assert done.returncode == 1, done.stderr
        assert "secret" not in done.stdout + done.stderr and "cret" not in done.stderr, done.stderr
        assert "***" in done.stderr, done.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("postgres")], "no file was made of a mistyped URL"


WATCHER = """
function on_start() market.subscribe("TSLA") end
function on_quote(q)
  if q.last then print(string.format("last %.2f at %d", q.last, q.time)) end
end
"""


def test_a_replay_skips_bad_rows_another_tool_wrote_and_names_them(tmp_path):
    store = tmp_path / "bars.sqlite"
    (tmp_path / "good.csv").write_text(HAND_BARS)
    assert run(tmp_path, "history", "import", "good.csv", "--instrument", "TSLA", "--bar", "1 min", "--store", str(store)).returncode == 0
    # Bypassing the import: what a script or another program may leave in the store.
    start = 1_704_205_800
    with sqlite3.connect(store) as db:
        db.execute("UPDATE bars SET volume = ? WHERE time = ?", (float("inf"), start + 60))
        db.execute("UPDATE bars SET volume = ? WHERE time = ?", (1e300, start + 120))
        db.execute("UPDATE bars SET open = ?, low = ? WHERE time = ?", (-5.0, -6.0, start + 180))
        db.execute("UPDATE bars SET high = ? WHERE time = ?", (float("-inf"), start + 240))
    (tmp_path / "watch.lua").write_text(WATCHER)
    done = subprocess.run([str(BINARY), "run", "watch.lua", "--replay", "TSLA", "--replay-from", "2024-01-02 14:30", "--speed", "60",
                           "--replay-store", str(store), "--duration", "4", "--journal", str(tmp_path / "journal.sqlite")],
                          cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    for minute, reason in ((31, "volume inf is not a finite number"), (32, "volume 1e+300 is above 1e15 (not a volume)"),
                           (33, "open -5.0 is negative"), (34, "high -inf is not a finite number")):
        assert f"warning: --replay: skipped the TSLA bar at 2024-01-02 14:{minute}:00 UTC: {reason}" in done.stderr, done.stderr[-3000:]
    prices = [float(p) for p in re.findall(r"last (\d+\.\d+) at", done.stderr)]
    assert prices and all(98.0 <= p <= 102.5 for p in prices), prices


# Instrument details stored with the bars (issue 22): each option's bad value refused by name
# (exit 64, nothing stored), details that disagree with stored ones refused naming both, and a
# store made before details were kept upgraded without losing a bar.
BAD_DETAILS = [
    (["--multiplier", "nan"], "--multiplier must be between"), (["--multiplier", "0"], "--multiplier must be between"),
    (["--multiplier=-50"], "--multiplier must be between"), (["--multiplier", "1e300"], "--multiplier must be between"),
    (["--multiplier", "inf"], "--multiplier must be between"), (["--multiplier", "fifty"], "--multiplier"),
    (["--tick", "0"], "--tick must be between"), (["--tick=-0.25"], "--tick must be between"), (["--tick", "inf"], "--tick must be between"),
    (["--tick", "1e-300"], "--tick must be between"), (["--currency", "US"], "--currency 'US' is not a currency's three letters"),
    (["--currency", "U$D"], "--currency 'U$D' is not a currency's three letters"),
    (["--currency", "JPY"], "--currency JPY does not fit EUR.USD: it is quoted in USD"),
    (["--sec-type", "FUT"], "--sec-type 'FUT' does not fit EUR.USD: its name makes it CASH"),
    (["--exchange", "C M E"], "--exchange 'C M E' is not an exchange's name"),
]


@pytest.mark.parametrize("args,message", BAD_DETAILS, ids=[" ".join(a) for a, _ in BAD_DETAILS])
def test_bad_instrument_details_are_refused_by_option(tmp_path, args, message):
    store = tmp_path / "bars.sqlite"
    (tmp_path / "good.csv").write_text(HAND_BARS)
    done = run(tmp_path, "history", "import", "good.csv", "--instrument", "EUR.USD", "--bar", "1 min", "--store", str(store), *args)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert message in done.stderr, done.stderr
    assert not store.exists() or stored(store, "EUR.USD") == (0, 0)


def details(store, instrument):
    with sqlite3.connect(store) as db:
        return db.execute("SELECT sec_type, currency, exchange, multiplier, tick, pair_base FROM instruments WHERE instrument = ?",
                          (instrument,)).fetchone()


def test_details_from_the_name_and_disagreements_refused_unless_replaced(tmp_path):
    store = tmp_path / "bars.sqlite"
    (tmp_path / "good.csv").write_text(HAND_BARS)

    def imported(instrument, *args):
        return run(tmp_path, "history", "import", "good.csv", "--instrument", instrument, "--bar", "1 min", "--store", str(store), *args)

    # A US stock and a forex pair are what their names say; only what the name does not say is assumed, and said.
    aapl = imported("AAPL")
    assert aapl.returncode == 0 and "note:" not in aapl.stdout, aapl.stdout
    assert details(store, "AAPL") == ("STK", "USD", "SMART", 1.0, 0.01, None)
    eur = imported("EUR.USD")
    assert eur.returncode == 0 and "note: EUR.USD: tick 0.00005 assumed" in eur.stdout, eur.stdout
    assert details(store, "EUR.USD") == ("CASH", "USD", "IDEALPRO", 1.0, 0.00005, "EUR")

    es = imported("ES 202612", "--multiplier", "50", "--tick", "0.25", "--exchange", "cme", "--sec-type", "fut")
    assert es.returncode == 0 and "note: ES 202612: currency USD assumed" in es.stdout, es.stdout
    assert details(store, "ES 202612") == ("FUT", "USD", "CME", 50.0, 0.25, None)
    # Again without options: the stored details stay, no defaults over them.
    again = imported("ES 202612")
    assert again.returncode == 0 and "assumed" not in again.stdout and details(store, "ES 202612")[3] == 50.0, again.stdout
    same = imported("ES 202612", "--multiplier", "50")
    assert same.returncode == 0, same.stderr

    (tmp_path / "later.csv").write_text(HAND_BARS.replace("2024-01-02", "2024-01-03"))
    wrong = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", str(store),
                "--multiplier", "5", "--tick", "0.25")
    assert wrong.returncode == 1, wrong.stderr
    assert ("ES 202612: the stored instrument details disagree with the given ones: multiplier 50 (stored) vs 5 (given); "
            "give --replace-details to replace them; nothing was imported") in wrong.stderr, wrong.stderr
    assert stored(store, "ES 202612") == (6, 1) and details(store, "ES 202612")[3] == 50.0
    replaced = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", str(store),
                   "--multiplier", "5", "--replace-details")
    assert replaced.returncode == 0, replaced.stderr
    assert "note: ES 202612: instrument details replaced: multiplier 50 (stored) vs 5 (given)" in replaced.stdout, replaced.stdout
    assert stored(store, "ES 202612") == (12, 2) and details(store, "ES 202612") == ("FUT", "USD", "CME", 5.0, 0.25, None)


# The schema GRDB made before instrument details were kept (migration v1-bars only).
V1_SCHEMA = """
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES ('v1-bars');
CREATE TABLE bars (
  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, time INTEGER NOT NULL,
  open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
  volume REAL, wap REAL, count INTEGER,
  PRIMARY KEY (instrument, bar_size, what, time)) WITHOUT ROWID;
CREATE TABLE coverage (
  instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  bars INTEGER NOT NULL, fetched_at REAL NOT NULL,
  PRIMARY KEY (instrument, bar_size, what, start, end));
"""


def test_a_store_from_before_details_is_upgraded_keeping_its_bars(tmp_path):
    store = tmp_path / "old.sqlite"
    start = 1_704_205_800
    with sqlite3.connect(store) as db:
        db.executescript(V1_SCHEMA)
        for minute in range(6):
            db.execute("INSERT INTO bars VALUES ('ES 202612', '1 min', 'TRADES', ?, 4800, 4801, 4799, 4800.5, 10, NULL, NULL)",
                       (start + 60 * minute,))
        db.execute("INSERT INTO coverage VALUES ('ES 202612', '1 min', 'TRADES', ?, ?, 6, 0)", (start, start + 360))
    (tmp_path / "later.csv").write_text(HAND_BARS.replace("2024-01-02", "2024-01-03"))
    done = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", str(store),
               "--multiplier", "50", "--tick", "0.25", "--currency", "USD")
    assert done.returncode == 0, done.stderr
    assert stored(store, "ES 202612") == (12, 2)
    assert details(store, "ES 202612") == ("FUT", "USD", "", 50.0, 0.25, None)
    exported = run(tmp_path, "history", "export", "ES 202612", "--bar", "1 min", "--to", "2024-01-03", "--store", str(store))
    assert exported.returncode == 0 and exported.stdout.count("\n") == 7, exported.stdout + exported.stderr


# The schema of stores made before the time zone and session were kept (v2-instruments).
V2_SCHEMA = V1_SCHEMA + """
INSERT INTO grdb_migrations VALUES ('v2-instruments');
CREATE TABLE instruments (
  instrument TEXT NOT NULL PRIMARY KEY, sec_type TEXT NOT NULL, currency TEXT NOT NULL, exchange TEXT NOT NULL,
  multiplier REAL NOT NULL, tick REAL NOT NULL, trading_hours TEXT NOT NULL, pair_base TEXT, saved_at REAL NOT NULL);
"""


def test_a_store_from_before_time_zones_keeps_its_details_and_gains_them(tmp_path):
    store = tmp_path / "v2.sqlite"
    with sqlite3.connect(store) as db:
        db.executescript(V2_SCHEMA)
        db.execute("INSERT INTO instruments VALUES ('ES 202612', 'FUT', 'USD', 'CME', 50, 0.25, '', NULL, 0)")
        db.execute("INSERT INTO bars VALUES ('ES 202612', '1 min', 'TRADES', 1704205800, 4800, 4801, 4799, 4800.5, 10, NULL, NULL)")
    (tmp_path / "later.csv").write_text(HAND_BARS.replace("2024-01-02", "2024-01-03"))
    done = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", str(store),
               "--time-zone", "US/Central", "--session", "17:00-16:00")
    assert done.returncode == 0, done.stderr
    assert details(store, "ES 202612") == ("FUT", "USD", "CME", 50.0, 0.25, None), "the money details stay as they were"
    with sqlite3.connect(store) as db:
        calendar = db.execute("SELECT time_zone, liquid_hours FROM instruments WHERE instrument = 'ES 202612'").fetchone()
    assert calendar == ("US/Central", "19700104:1700-19700105:1600"), calendar
    assert stored(store, "ES 202612")[0] == 7


def test_a_read_only_store_from_before_time_zones_still_backtests(tmp_path):
    # A shared store this user may only read, made before the time zone was kept: it cannot be
    # upgraded, and is used as it is (UTC days, said), not refused.
    store = tmp_path / "shared.sqlite"
    start = 1_704_205_800  # 2024-01-02 14:30 UTC
    with sqlite3.connect(store) as db:
        db.executescript(V2_SCHEMA)
        db.execute("INSERT INTO instruments VALUES ('ES 202612', 'FUT', 'USD', 'CME', 50, 0.25, '', NULL, 0)")
        for minute in range(30):
            db.execute("INSERT INTO bars VALUES ('ES 202612', '1 min', 'TRADES', ?, 4800, 4801, 4799, 4800.5, 10, NULL, NULL)",
                       (start + 60 * minute,))
        db.execute("INSERT INTO coverage VALUES ('ES 202612', '1 min', 'TRADES', ?, ?, 30, 0)", (start, start + 1800))
    store.chmod(0o444)
    (tmp_path / "days.lua").write_text('function on_start() market.subscribe("ES 202612", { bars = "1 day" }) end\n')
    result = run(tmp_path, "backtest", "days.lua", "--instruments", "ES 202612", "--bar", "1 min", "--from", "2024-01-02",
                 "--to", "2024-01-03", "--store", str(store), "--offline", "--out", "shared")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ES 202612 (FUT, USD, multiplier 50, tick 0.25)" in result.stdout, result.stdout
    assert "1 day bars are cut at UTC midnight: no time zone is stored for it" in result.stdout, result.stdout
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        assert "time_zone" not in [row[1] for row in db.execute("PRAGMA table_info(instruments)")], "left as it was"


def psql(url, *sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-At", *[arg for s in sql for arg in ("-c", s)]],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not os.environ.get("MOONWIRE_TEST_POSTGRES"), reason="Scripts/test starts PostgreSQL and sets MOONWIRE_TEST_POSTGRES")
def test_a_postgres_store_from_before_details_is_upgraded_keeping_its_bars(tmp_path):
    server = os.environ["MOONWIRE_TEST_POSTGRES"]
    name = "old_" + "".join(random.choices(string.ascii_lowercase, k=8))
    created = psql(server, f"CREATE DATABASE {name}")
    assert created.returncode == 0, created.stderr
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        made = psql(url, """CREATE TABLE bars (
              instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, time BIGINT NOT NULL,
              open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,
              close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION, wap DOUBLE PRECISION, count BIGINT,
              PRIMARY KEY (instrument, bar_size, what, time))""",
                    """CREATE TABLE coverage (
              instrument TEXT NOT NULL, bar_size TEXT NOT NULL, what TEXT NOT NULL, start BIGINT NOT NULL, "end" BIGINT NOT NULL,
              bars BIGINT NOT NULL, fetched_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (instrument, bar_size, what, start, "end"))""",
                    "INSERT INTO bars SELECT 'ES 202612', '1 min', 'TRADES', 1704205800 + 60 * g, 4800, 4801, 4799, 4800.5, 10, NULL, NULL "
                    "FROM generate_series(0, 5) g",
                    "INSERT INTO coverage VALUES ('ES 202612', '1 min', 'TRADES', 1704205800, 1704206160, 6, 0)")
        assert made.returncode == 0, made.stderr
        (tmp_path / "later.csv").write_text(HAND_BARS.replace("2024-01-02", "2024-01-03"))
        done = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", url,
                   "--multiplier", "50", "--tick", "0.25", "--currency", "USD")
        assert done.returncode == 0, done.stderr
        counted = psql(url, "SELECT COUNT(*) FROM bars WHERE instrument = 'ES 202612'",
                       "SELECT sec_type, currency, multiplier, tick FROM instruments WHERE instrument = 'ES 202612'")
        assert counted.stdout.split() == ["12", "FUT|USD|50|0.25"], counted.stdout + counted.stderr
        # A table of details from before the time zone was kept gains its columns, its rows kept.
        psql(url, "ALTER TABLE instruments DROP COLUMN time_zone", "ALTER TABLE instruments DROP COLUMN liquid_hours")
        zoned = run(tmp_path, "history", "import", "later.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", url,
                    "--time-zone", "US/Central")
        assert zoned.returncode == 0, zoned.stderr
        kept = psql(url, "SELECT sec_type, multiplier, time_zone FROM instruments WHERE instrument = 'ES 202612'")
        assert kept.stdout.split() == ["FUT|50|US/Central"], kept.stdout + kept.stderr
    finally:
        psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_times_without_a_zone_read_in_the_clock_times_in_names(tmp_path):
    """A vendor's file in New York's time (`2024-07-01 09:30:00`): `--times-in America/New_York`
    stores 13:30 UTC in July and 14:30 UTC in January; the hour the clocks repeat in November
    is read in the file's order; a time in the hour they skip is refused by line; a zone that is
    none is named; without the option the same file is read as UTC, as before."""
    (tmp_path / "ny.csv").write_text(
        "time,open,high,low,close,volume\n"
        "2024-01-02 09:30:00,100,101,99,100.5,10\n"
        "2024-07-01 09:30:00,100,101,99,100.5,10\n"
        "2024-11-03 01:30:00,100,101,99,100.5,10\n"
        "2024-11-03 01:10:00,100,101,99,100.5,10\n"  # the second 01:10, after 01:30 EDT: EST
        "2024-11-03T09:30:00Z,100,101,99,100.5,10\n")
    store = tmp_path / "bars.sqlite"
    done = run(tmp_path, "history", "import", "ny.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", str(store),
               "--times-in", "America/New_York")
    assert done.returncode == 0, done.stderr
    exported = run(tmp_path, "history", "export", "AAPL", "--bar", "1 min", "--store", str(store))
    assert [line.split(",")[0] for line in exported.stdout.splitlines()[1:]] == [
        "2024-01-02T14:30:00Z", "2024-07-01T13:30:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:10:00Z", "2024-11-03T09:30:00Z"]

    # IB's abbreviation names the place: EST is New York's clock, summer time included.
    (tmp_path / "one.csv").write_text("time,open,high,low,close\n2024-07-01 09:30,100,101,99,100.5\n")
    other = tmp_path / "other.sqlite"
    est = run(tmp_path, "history", "import", "one.csv", "--instrument", "MSFT", "--bar", "1 min", "--store", str(other), "--times-in", "EST")
    assert est.returncode == 0
    assert "note: --times-in EST: read as America/New_York's clock, summer time included (give UTC for a clock without it)" in est.stdout
    exported = run(tmp_path, "history", "export", "MSFT", "--bar", "1 min", "--store", str(other))
    assert exported.stdout.splitlines()[1].startswith("2024-07-01T13:30:00Z")

    # Out of order inside the repeated hour: read as its second pass, and said (line and count).
    (tmp_path / "autumn.csv").write_text("time,open,high,low,close\n2024-11-03 00:59,1,1,1,1\n2024-11-03 01:30,1,1,1,1\n"
                                         "2024-11-03 01:15,1,1,1,1\n2024-11-03 01:45,1,1,1,1\n")
    autumn = run(tmp_path, "history", "import", "autumn.csv", "--instrument", "SPY", "--bar", "1 min", "--store", str(other),
                 "--times-in", "America/New_York")
    assert autumn.returncode == 0
    assert ("autumn.csv: 2 times in the hour America/New_York's clocks repeat were read as its second pass (the first on line 4)"
            in autumn.stdout), autumn.stdout

    (tmp_path / "gap.csv").write_text("time,open,high,low,close\n2024-03-10 01:59,100,101,99,100.5\n2024-03-10 02:30,100,101,99,100.5\n")
    refused = run(tmp_path, "history", "import", "gap.csv", "--instrument", "IBM", "--bar", "1 min", "--store", str(store),
                  "--times-in", "America/New_York")
    assert refused.returncode == 1
    assert "gap.csv:3: time 2024-03-10 02:30:00 does not exist in America/New_York" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert stored(store, "IBM") == (0, 0)

    bad = run(tmp_path, "history", "import", "ny.csv", "--instrument", "IBM", "--bar", "1 min", "--store", str(store),
              "--times-in", "Mars/Olympus")
    assert bad.returncode != 0 and "--times-in 'Mars/Olympus' is not a time zone" in bad.stderr
    assert "Traceback" not in bad.stderr and "Fatal" not in bad.stderr

    utc = tmp_path / "utc.sqlite"
    plain = run(tmp_path, "history", "import", "one.csv", "--instrument", "MSFT", "--bar", "1 min", "--store", str(utc))
    assert plain.returncode == 0
    assert "one.csv: its times have no zone (as on line 2): they were read as UTC" in plain.stdout + plain.stderr
    (tmp_path / "zoned.csv").write_text("time,open,high,low,close\n2024-07-01T09:30:00Z,100,101,99,100.5\n")
    zoned = run(tmp_path, "history", "import", "zoned.csv", "--instrument", "IBM", "--bar", "1 min", "--store", str(utc))
    assert zoned.returncode == 0 and "no zone" not in zoned.stdout + zoned.stderr
    assert run(tmp_path, "history", "export", "MSFT", "--bar", "1 min", "--store", str(utc)).stdout.splitlines()[1].startswith("2024-07-01T09:30:00Z")
