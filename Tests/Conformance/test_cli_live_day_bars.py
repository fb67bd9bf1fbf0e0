"""`market.subscribe("AAPL", { bars = "1 day" })` live, as a user runs it (README, "Bars of any
size" and "### Replay"): `moonwire run` against the built-in paper gateway replaying three
weekdays of stored 1-minute bars. The host builds the day bars from the gateway's 5-second bars,
cut by the sessions of the contract's liquid hours (New York, 09:30-16:00 for a stock): one bar
per trading day, dated that day at 00:00 UTC, told at the session's close, its open the day's
first regular-hours price, its close the last, high and low the extremes; the pre-market and
after-hours prices around each session belong to no day. The subscription begins in Monday's
pre-market, so Monday is a whole day and gets its bar; Tuesday's first 15 regular minutes have
no trade (the gateway's 5-second bars repeat the pre-market price with volume 0), so its open is
its first traded price and its high leaves the pre-market price out.

The replay's market clock runs straight through the nights (market time = start + wall time x
`--speed`), so the four days from Monday 05:00 ET take about 100 s at 3000x. Every wait is on an
output line, bounded."""
import datetime
import re
import signal
import subprocess

from cli_e2e import stop, wait_count
from cli_helpers import ChildOutput, environment
from gateway_process import BINARY

# Monday to Thursday, January 2024 (New York is UTC-5: the session is 14:30-21:00 UTC). Each
# day's regular minutes hold a price for a stretch (open, a middle, the high, a middle, the low,
# a middle, the close), so no sampling of the replay can miss one; 07:30 ET pre-market minutes at
# 500 and 16:30 ET after-hours minutes at 600 must not reach any day bar.
DAYS = [  # (day, open, high, low, close)
    ("2024-01-08", 90.0, 95.0, 86.0, 92.0),
    ("2024-01-09", 100.0, 104.0, 97.0, 101.0),
    ("2024-01-10", 110.0, 115.0, 108.0, 112.0),
    ("2024-01-11", 120.0, 126.0, 118.0, 121.0),
]
PRE_MARKET, AFTER_HOURS = 500.0, 600.0
# The replay starts at Monday's first stored bar, 05:00 ET, in a pre-market stretch that lasts to
# 07:35 ET: 4.5 hours of market time, 5.4 s of wall time, for the strategy to subscribe before
# the open. The host sees those pre-market 5-second bars, so Monday is whole even when the
# gateway, at 3000x on a busy machine, skips the session's first 5-second window.
REPLAY_FROM, MONDAY_PRE_MARKET_FROM_MINUTE = "2024-01-08 10:00", -270
# Tuesday's store has no minute from 07:35 to 09:45 ET: the replay trades nothing there, and its
# 5-second bars from 09:30 to 09:45 repeat the pre-market price (500) with volume 0.
QUIET_DAY, QUIET_MINUTES = "2024-01-09", 15
SESSION_OPEN_UTC = datetime.time(14, 30)
SESSION_MINUTES = 390


def minute_bars():
    """The CSV: per day pre-market minutes to 07:35 ET (five from 07:30; Monday's from 05:00), 390
    regular minutes from 09:30 (open 30 min, a middle price 120, high 60, a middle 60, low 60, a
    middle 30, close 30; Tuesday's first 15 left out) and five after-hours minutes from 16:30."""
    rows = ["time,open,high,low,close,volume"]
    for day, open_, high, low, close in DAYS:
        session_open = datetime.datetime.combine(datetime.date.fromisoformat(day), SESSION_OPEN_UTC, datetime.timezone.utc)
        middle = (high + low) / 2
        pre_market_from = MONDAY_PRE_MARKET_FROM_MINUTE if day == DAYS[0][0] else -120
        first_regular = QUIET_MINUTES if day == QUIET_DAY else 0
        stretches = [(pre_market_from, -115 - pre_market_from, PRE_MARKET), (first_regular, 30 - first_regular, open_), (30, 120, middle), (150, 60, high), (210, 60, middle),
                     (270, 60, low), (330, 30, middle), (360, 30, close), (420, 5, AFTER_HOURS)]
        for start, count, price in stretches:
            for minute in range(start, start + count):
                stamp = session_open + datetime.timedelta(minutes=minute)
                rows.append(f"{stamp:%Y-%m-%dT%H:%M:%SZ},{price},{price},{price},{price},{1000 if 0 <= minute < SESSION_MINUTES else 10}")
    return "\n".join(rows) + "\n"


def epoch(day, clock=datetime.time(0, 0)):
    return int(datetime.datetime.combine(datetime.date.fromisoformat(day), clock, datetime.timezone.utc).timestamp())


# Prints the market clock (the replay's: a quote's time) when it starts, and each bar it is
# told with the market clock at that moment (`now()` is the wall clock, not the replay's).
STRATEGY = """
function on_start() market.subscribe("AAPL", { bars = "1 day" }) end
function on_quote(q)
  if not started and q.time then started = true; print(string.format("first quote at %.0f", q.time)) end
end
function on_bar(b)
  local q = market.quote("AAPL")
  print(string.format("bar %s size=%s time=%.0f open=%.2f high=%.2f low=%.2f close=%.2f told=%.0f",
    b.symbol, b.size, b.time, b.open, b.high, b.low, b.close, q and q.time or -1))
end
"""

# The gateway moves AAPL every millisecond of wall time, 3 s of market time at 3000x: every
# 5-second window of the session gets its own bar, as from TWS (docs/backtest.md, "Parity with
# the replay": at the default 250 ms a 3000x replay moves the market every 750 s and sends
# 5-second bars only where it moved). A universe of AAPL alone keeps that to one timer.
CONFIG = """
paper_gateway:
  market:
    tick_interval_ms: 1
  instruments:
    - {symbol: AAPL, con_id: 265598, primary_exchange: NASDAQ, long_name: "APPLE INC", start_price: 187.25, volatility: 0.28}
"""

BAR_LINE = (r"bar (?P<symbol>\S+) size=(?P<size>.+?) time=(?P<time>-?\d+) open=(?P<open>\S+) high=(?P<high>\S+) "
            r"low=(?P<low>\S+) close=(?P<close>\S+) told=(?P<told>-?\d+)")


def test_day_bars_from_a_replayed_market_one_per_session(tmp_path):
    (tmp_path / "bars.csv").write_text(minute_bars())
    (tmp_path / "moonwire.yaml").write_text(CONFIG)
    (tmp_path / "days.lua").write_text(STRATEGY)
    store = tmp_path / "bars.sqlite"
    env = environment(tmp_path)
    imported = subprocess.run([str(BINARY), "history", "import", "bars.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", str(store)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "imported 1735 bars" in imported.stdout, imported.stdout

    # The replay starts at the first stored bar, Monday 05:00 ET.
    run = subprocess.Popen([str(BINARY), "run", "days.lua", "--config", "moonwire.yaml", "--replay", "AAPL",
                            "--replay-from", REPLAY_FROM, "--replay-to", "2024-01-12", "--speed", "3000",
                            "--replay-store", str(store), "--duration", "190", "--journal", str(tmp_path / "journal.sqlite")],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = ChildOutput(run)
        started = int(output.wait_for(r"first quote at (\d+)", "stderr", timeout=60).group(1))
        # Thursday closes 98 s of wall time after the replay's start.
        told = wait_count(output, BAR_LINE, "stderr", len(DAYS), timeout=160)
        run.send_signal(signal.SIGINT)
        output.finish(timeout=30)
    finally:
        stop(run)
    monday_open = epoch(DAYS[0][0], SESSION_OPEN_UTC)
    assert started < monday_open, f"the strategy started after Monday's open (a slow start, not the feature): {started - monday_open} s"

    bars = [re.search(BAR_LINE, line).groupdict() for line in told]
    seen = [(bar["symbol"], bar["size"], int(bar["time"]), float(bar["open"]), float(bar["high"]), float(bar["low"]), float(bar["close"]))
            for bar in bars]
    # One bar per session, Monday's too (the subscription began in its pre-market), dated its day
    # at 00:00 UTC, with that session's traded prices only: Tuesday's open is its first trade at
    # 09:45, and its high is not the pre-market 500 its quiet first 15 minutes repeated.
    assert seen == [("AAPL", "1 day", epoch(day), open_, high, low, close) for day, open_, high, low, close in DAYS], \
        "\n".join(told) + "\n--- stderr\n" + output.text("stderr")[-3000:]
    for bar, (day, *_prices) in zip(bars, DAYS):
        # Told at the session's close (16:00 ET, 21:00 UTC), with its last 5-second bar: not
        # before it, and not with the next session's first bar the next morning.
        close = epoch(day, SESSION_OPEN_UTC) + SESSION_MINUTES * 60
        assert close - 30 <= int(bar["told"]) <= close + 300, (day, int(bar["told"]) - close, told)
