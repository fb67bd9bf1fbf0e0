"""`moonwire history` downloads bars into the SQLite store within the paper gateway's
pacing rules (IB's), resumes from what is stored, and keeps what it stored when interrupted."""
import re
import signal
import sqlite3
import subprocess
import time

from cli_helpers import environment
from gateway_process import BINARY, Gateway
from trading_hours import stock_minutes


def history(tmp_path, port, *args, timeout=120):
    return subprocess.run([str(BINARY), "history", *args, "--gateway", f"127.0.0.1:{port}", "--store", str(tmp_path / "bars.sqlite")],
                          cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=timeout)


def stored(tmp_path):
    with sqlite3.connect(f"file:{tmp_path / 'bars.sqlite'}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT instrument, COUNT(*) FROM bars GROUP BY instrument").fetchall())


def test_download_resume_and_pacing(tmp_path):
    with Gateway("--seed", "8") as gateway:
        first = history(tmp_path, gateway.port, "AAPL,MSFT", "ES 202612", "--from", "2024-03-01", "--to", "2024-03-08", "--bar", "1 min")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "162" not in first.stderr and "pacing" not in first.stderr.lower(), first.stderr
        counts = stored(tmp_path)
        # The December 2026 future's data starts a year before it expires (reqHeadTimeStamp):
        # March 2024 is recorded as no data, and never asked for. The stocks' bars: their
        # trading hours only (04:00-20:00 New York, weekdays), a request per day all the same.
        week = stock_minutes("2024-03-01", "2024-03-08")
        assert counts == {"AAPL": week, "MSFT": week} and week == 4800, counts
        assert re.search(rf"AAPL: {week} bars in 7 requests, {week} stored in all", first.stdout), first.stdout
        assert re.search(r"ES 202612: 0 bars in 0 requests, 0 stored in all; no data for 1 span\(s\) \(TWS's data starts 2025-12-18 00:00\)", first.stdout), first.stdout

        # The same span again: nothing is asked. A longer one: only the missing days.
        again = history(tmp_path, gateway.port, "AAPL", "--from", "2024-03-01", "--to", "2024-03-08", "--bar", "1 min")
        assert f"AAPL: 0 bars in 0 requests, {week} stored in all (already stored: nothing asked)" in again.stdout, again.stdout
        longer = history(tmp_path, gateway.port, "AAPL", "--from", "2024-02-28", "--to", "2024-03-09", "--bar", "1 min")
        added = stock_minutes("2024-02-28", "2024-03-01") + stock_minutes("2024-03-08", "2024-03-09")
        assert f"AAPL: {added} bars in 3 requests, {week + added} stored in all" in longer.stdout, longer.stdout

        bad = history(tmp_path, gateway.port, "AAPL", "--from", "2024-03-01", "--bar", "7 mins")
        assert bad.returncode == 64 and "is not one of IB's bar sizes" in bad.stderr
        unknown = history(tmp_path, gateway.port, "NOSUCH", "--from", "2024-03-01", "--to", "2024-03-02")
        assert unknown.returncode == 1 and "NOSUCH" in unknown.stderr


def test_interrupted_download_keeps_what_it_stored(tmp_path):
    with Gateway("--seed", "8") as gateway:
        # Twelve days of minute bars: twelve requests, paced at six per two seconds (IB's rule).
        process = subprocess.Popen([str(BINARY), "history", "AAPL", "--from", "2024-01-01", "--to", "2024-01-13", "--bar", "1 min",
                                    "--gateway", f"127.0.0.1:{gateway.port}", "--store", str(tmp_path / "bars.sqlite")],
                                   cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if re.search(r"AAPL: \d+/12 requests", line) or not line:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130, "".join(lines) + out + err
        assert "interrupted: what was stored stays" in out
        kept = stored(tmp_path)["AAPL"]
        # Trading hours only (04:00-20:00 New York, weekdays): a day's request brings 0 to 960 bars.
        total = stock_minutes("2024-01-01", "2024-01-13")
        assert 0 < kept < total, kept
        resumed = history(tmp_path, gateway.port, "AAPL", "--from", "2024-01-01", "--to", "2024-01-13", "--bar", "1 min")
        assert resumed.returncode == 0, resumed.stderr
        fetched, asked = map(int, re.search(r"AAPL: (\d+) bars in (\d+) requests", resumed.stdout).groups())
        assert 0 < asked < 12 and fetched == total - kept, (asked, fetched, kept, total)
        assert stored(tmp_path)["AAPL"] == total


def test_csv_export_and_import_round_trip(tmp_path):
    with Gateway("--seed", "8") as gateway:
        assert history(tmp_path, gateway.port, "MSFT", "--from", "2024-04-01", "--to", "2024-04-02", "--bar", "5 mins").returncode == 0
    env = environment(tmp_path)

    def run(*args):
        return subprocess.run([str(BINARY), "history", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    exported = run("export", "MSFT", "--bar", "5 mins", "--store", str(tmp_path / "bars.sqlite"))
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    # Monday 04:00-20:00 New York (08:00-24:00 UTC in April): the trading hours' 5-minute bars.
    assert lines[0] == "time,open,high,low,close,volume,wap,count" and len(lines) == 1 + 192
    assert re.match(r"2024-04-01T08:00:00Z,[\d.]+,[\d.]+,[\d.]+,[\d.]+,\d+,[\d.]+,\d+$", lines[1]), lines[1]
    (tmp_path / "msft.csv").write_text(exported.stdout)
    imported = run("import", "msft.csv", "--instrument", "MSFT", "--bar", "5 mins", "--store", str(tmp_path / "copy.sqlite"))
    assert imported.returncode == 0 and "imported 192 bars of MSFT 5 mins TRADES" in imported.stdout, imported.stderr
    again = run("export", "MSFT", "--bar", "5 mins", "--store", str(tmp_path / "copy.sqlite"))
    assert again.stdout == exported.stdout, "the same bars, bit for bit"
    (tmp_path / "bad.csv").write_text(exported.stdout.replace(lines[5], lines[5].split(",")[0] + ",x,1,1,1", 1))
    bad = run("import", "bad.csv", "--instrument", "AAPL", "--bar", "5 mins", "--store", str(tmp_path / "copy.sqlite"))
    assert bad.returncode == 1 and "bad.csv:6: open 'x' is not a number; nothing was imported" in bad.stderr, bad.stderr
    listing = run("export", "AAPL", "--bar", "5 mins", "--store", str(tmp_path / "copy.sqlite"))
    assert listing.returncode == 1 and "it has: MSFT 5 mins TRADES" in listing.stderr
