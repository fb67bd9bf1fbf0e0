"""The paper gateway's history is one seeded path: downloaded day by day (a request per day),
each day opens near where the day before closed. Before, each day was generated backwards from
the current price on its own, so every UTC midnight jumped (gaps of 4 to 10 against a median of
0): backtests on paper history traded those artificial gaps. It keeps a stock's trading hours
(04:00-20:00 New York, weekdays), and the price stands still while the market is closed: each
morning opens where the evening before closed."""
import csv
import datetime
import statistics
import subprocess

from cli_helpers import environment
from gateway_process import BINARY, Gateway
from trading_hours import in_stock_hours, stock_minutes

DAYS = 4
# Monday 2024-03-04 00:00 UTC to Friday 00:00 UTC: Monday 04:00 New York to Thursday 19:00.
BARS = stock_minutes("2024-03-04", "2024-03-08")


def download_and_export(tmp_path, port):
    store = str(tmp_path / "bars.sqlite")
    env = environment(tmp_path)
    done = subprocess.run([str(BINARY), "history", "AAPL", "--from", "2024-03-04", "--to", "2024-03-08", "--bar", "1 min",
                           "--gateway", f"127.0.0.1:{port}", "--store", store],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"AAPL: {BARS} bars in {DAYS} requests" in done.stdout, done.stdout
    exported = subprocess.run([str(BINARY), "history", "export", "AAPL", "--bar", "1 min", "--store", store],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    return [(row["time"], float(row["open"]), float(row["close"])) for row in csv.DictReader(exported.stdout.splitlines())]


def test_overnight_gaps_are_like_any_other_minute(tmp_path):
    with Gateway("--seed", "8") as gateway:
        bars = download_and_export(tmp_path, gateway.port)
    assert len(bars) == BARS == 3780
    times = [datetime.datetime.strptime(b[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc) for b in bars]
    outside = [b[0] for b, t in zip(bars, times) if not in_stock_hours(t)]
    assert not outside, f"bars outside 04:00-20:00 New York on weekdays: {outside[:5]}"
    moves = [abs(b[2] - a[2]) for a, b in zip(bars, bars[1:])]
    typical = statistics.median(moves)
    assert typical > 0, "the price moves"
    # Where the requests meet (UTC midnight, 19:00 New York: inside the evening session) and
    # where the sessions meet (20:00 to 04:00 the next morning).
    midnights = [i for i in range(1, len(bars)) if bars[i][0].endswith("T00:00:00Z")]
    assert len(midnights) == DAYS - 1, midnights
    mornings = [i for i in range(1, len(bars)) if times[i] - times[i - 1] > datetime.timedelta(minutes=1)]
    assert len(mornings) == DAYS - 1, [bars[i][0] for i in mornings]
    for i in midnights + mornings:
        gap = abs(bars[i][1] - bars[i - 1][2])
        # The bound: 0.2 % of the price, and no more than five typical minutes' moves. (Each
        # request anchors the path at the live price when it is asked, so requests a moment
        # apart may differ by that moment's move; the old gaps were 2 to 5 % of the price.)
        assert gap <= 0.002 * bars[i - 1][2], (bars[i - 1], bars[i], gap)
        assert gap <= 5 * typical + 0.01, (bars[i - 1], bars[i], gap, typical)


def test_the_same_seed_gives_the_same_history(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    with Gateway("--seed", "8") as gateway:
        first = download_and_export(tmp_path / "a", gateway.port)
    with Gateway("--seed", "8") as gateway:
        second = download_and_export(tmp_path / "b", gateway.port)
    # Two gateways started a moment apart anchor the path at their own live prices: the same
    # path, scaled by at most that moment's move.
    ratios = [b[2] / a[2] for a, b in zip(first, second)]
    assert max(ratios) - min(ratios) < 0.002, (min(ratios), max(ratios))
    (tmp_path / "c").mkdir()
    with Gateway("--seed", "9") as gateway:
        other = download_and_export(tmp_path / "c", gateway.port)
    other_ratios = [b[2] / a[2] for a, b in zip(first, other)]
    assert max(other_ratios) - min(other_ratios) > 0.01, "another seed is another path"
