"""Bar files and stores from outside, through the binary: `moonwire history import` refuses each
bad CSV of `Tests/Hostile/csv` with the file, line and column (exit 1, nothing stored, never a
crash) and reads what spreadsheets write; a replay skips the bad rows another tool wrote into the
store, with a warning naming each; a store URL is never echoed with its password."""
import pathlib
import re
import sqlite3
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
