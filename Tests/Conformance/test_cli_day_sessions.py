"""Day bars a backtest builds from minute bars follow the instrument's trading days: its time
zone and regular session, stored with the bars (`history import --time-zone --session`, assumed
New York 09:30-16:00 for a US stock, or what TWS said at download). Before, days were cut at
UTC midnight: New York's extended hours (04:00-20:00, 09:00-01:00 UTC in winter) gave a
Saturday bar and days that mixed two sessions. Also: the gaps a backtest reports leave out
weekends (a daily file ending on a Friday has none before Monday)."""
import datetime
import re

from test_backtest import moonwire

NEW_YORK = datetime.timezone(datetime.timedelta(hours=-5))  # December: EST
DAYS = [datetime.date(2026, 12, 3), datetime.date(2026, 12, 4)]  # a Thursday and a Friday


def minute_price(day_index, minute):
    """Every minute's own price: the day in the hundreds, the minute of the day in cents."""
    return 100 * (day_index + 1) + minute / 100


def extended_hours_csv():
    """1-minute bars 04:00-20:00 New York on both days (the last hour of Friday is Saturday in UTC)."""
    lines = ["time,open,high,low,close,volume"]
    for index, day in enumerate(DAYS):
        for minute in range(4 * 60, 20 * 60):
            start = datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=NEW_YORK)
            price = minute_price(index, minute)
            stamp = start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(f"{stamp},{price:.2f},{price + 0.5:.2f},{price - 0.5:.2f},{price + 0.25:.2f},{minute}")
    return "\n".join(lines) + "\n"


DAY_BARS = """
function on_start() market.subscribe("AAPL", { bars = "1 day" }) end
function on_bar(b)
  log.info(string.format("day %d open %.2f high %.2f low %.2f close %.2f volume %d", b.time, b.open, b.high, b.low, b.close, b.volume))
end
"""


def import_minutes(tmp_path, *options):
    (tmp_path / "minutes.csv").write_text(extended_hours_csv())
    store = str(tmp_path / "minutes.sqlite")
    done = moonwire(tmp_path, "history", "import", "minutes.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", store, *options)
    return store, done


def day_bars(tmp_path, store, out):
    (tmp_path / "days.lua").write_text(DAY_BARS)
    result = moonwire(tmp_path, "backtest", "days.lua", "--instruments", "AAPL", "--bar", "1 min", "--from", "2026-12-03",
                      "--to", "2026-12-06", "--store", store, "--offline", "--commission", "none", "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / out / "log.txt").read_text()
    return result, re.findall(r"day (\S+) open (\S+) high (\S+) low (\S+) close (\S+) volume (\d+)", log)


def regular_day(index, day):
    """What IB's daily bar of that day is: 09:30 to 16:00 New York, dated by the day."""
    minutes = range(9 * 60 + 30, 16 * 60)
    midnight = int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())
    return (str(midnight), f"{minute_price(index, minutes[0]):.2f}", f"{minute_price(index, minutes[-1]) + 0.5:.2f}",
            f"{minute_price(index, minutes[0]) - 0.5:.2f}", f"{minute_price(index, minutes[-1]) + 0.25:.2f}", str(sum(minutes)))


def test_a_us_stock_gets_new_york_days_of_its_regular_session(tmp_path):
    # Its name makes AAPL a US stock (USD, tick 0.01, New York's 09:30-16:00), nothing assumed.
    store, done = import_minutes(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note:" not in done.stdout, done.stdout
    result, days = day_bars(tmp_path, store, "ny")
    # Two days, each its regular session only: no Saturday, no pre-market open, no evening close.
    assert days == [regular_day(0, DAYS[0]), regular_day(1, DAYS[1])], days
    assert "cut at UTC midnight" not in result.stdout


def test_a_given_time_zone_and_session_are_the_days(tmp_path):
    # The whole extended session, in New York: each day 04:00 to 20:00.
    store, done = import_minutes(tmp_path, "--time-zone", "America/New_York", "--session", "04:00-20:00")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "assumed" not in done.stdout, done.stdout
    _, days = day_bars(tmp_path, store, "extended")
    assert [(d[1], d[5]) for d in days] == [(f"{minute_price(i, 240):.2f}", str(sum(range(240, 1200)))) for i in range(2)], days


def test_utc_days_when_the_zone_is_utc_show_what_the_old_cut_did(tmp_path):
    # Said explicitly, UTC days are what the user gets: Friday's UTC day opens with Thursday
    # evening's 19:00 New York bar (00:00 UTC), two sessions in one bar.
    store, done = import_minutes(tmp_path, "--time-zone", "UTC")
    assert done.returncode == 0, done.stdout + done.stderr
    _, days = day_bars(tmp_path, store, "utc")
    midnight = lambda day: str(int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp()))
    # Saturday's hour (Friday 19:00-20:00 New York) begins a day the data ends in: not told.
    assert [d[0] for d in days] == [midnight(DAYS[0]), midnight(DAYS[1])], days
    assert days[1][1] == f"{minute_price(0, 19 * 60):.2f}", days


def test_a_later_import_with_a_time_zone_replaces_the_stored_one(tmp_path):
    store, done = import_minutes(tmp_path, "--time-zone", "UTC")
    assert done.returncode == 0, done.stdout + done.stderr
    again = moonwire(tmp_path, "history", "import", "minutes.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", store,
                     "--time-zone", "US/Eastern", "--session", "09:30-16:00")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "note: AAPL: its trading days are now US/Eastern 09:30-16:00 (were UTC whole days)" in again.stdout, again.stdout
    _, days = day_bars(tmp_path, store, "replaced")
    assert days == [regular_day(0, DAYS[0]), regular_day(1, DAYS[1])], days


def test_an_instrument_without_a_time_zone_is_said_to_be_cut_at_utc_midnight(tmp_path):
    (tmp_path / "minutes.csv").write_text(extended_hours_csv())
    store = str(tmp_path / "es.sqlite")
    done = moonwire(tmp_path, "history", "import", "minutes.csv", "--instrument", "ES 202612", "--bar", "1 min", "--store", store,
                    "--multiplier", "50", "--tick", "0.25")
    assert done.returncode == 0, done.stdout + done.stderr
    # Said at the import already, not only when a backtest meets it.
    assert "note: ES 202612: no time zone or session is stored: day bars a backtest builds from these are cut at UTC midnight" \
        in done.stdout, done.stdout
    (tmp_path / "es.lua").write_text(DAY_BARS.replace('"AAPL"', '"ES 202612"'))
    result = moonwire(tmp_path, "backtest", "es.lua", "--instruments", "ES 202612", "--bar", "1 min", "--from", "2026-12-03",
                      "--to", "2026-12-06", "--store", store, "--offline", "--out", "es")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ES 202612: 1 day bars are cut at UTC midnight: no time zone is stored for it" in result.stdout, result.stdout


def test_bad_time_zones_and_sessions_are_refused_naming_them(tmp_path):
    (tmp_path / "minutes.csv").write_text(extended_hours_csv())
    cases = [
        (["--time-zone", "Mars/Olympus_Mons"], "--time-zone 'Mars/Olympus_Mons' is not a time zone"),
        (["--session", "09:30-16:00"], "--session 09:30-16:00 needs --time-zone"),
        (["--time-zone", "UTC", "--session", "9:30-16"], "--session '9:30-16' is not a session"),
        (["--time-zone", "UTC", "--session", "25:00-26:00"], "--session '25:00-26:00' is not a session"),
        (["--time-zone", "UTC", "--session", "09:30"], "--session '09:30' is not a session"),
        (["--time-zone", "x" * 200], "is not a time zone"),
        (["--time-zone", "UTC", "--session", "+9:30-16:00"], "--session '+9:30-16:00' is not a session"),
    ]
    for options, message in cases:
        done = moonwire(tmp_path, "history", "import", "minutes.csv", "--instrument", "AAPL", "--bar", "1 min",
                        "--store", str(tmp_path / "refused.sqlite"), *options)
        assert done.returncode == 64, (options, done.stdout, done.stderr)
        assert message in done.stderr, (options, done.stderr)
        assert "Fatal" not in done.stderr
        assert "x" * 81 not in done.stderr, "a long value is shortened in the message"


def test_a_daily_file_ending_on_a_friday_has_no_gap_over_the_weekend(tmp_path):
    # Mon 2026-10-05 to Fri 2026-10-30, weekdays only.
    lines = ["time,open,high,low,close,volume"]
    day = datetime.date(2026, 10, 5)
    while day <= datetime.date(2026, 10, 30):
        if day.weekday() < 5:
            lines.append(f"{day.isoformat()},100,101,99,100.5,1000")
        day += datetime.timedelta(days=1)
    (tmp_path / "days.csv").write_text("\n".join(lines) + "\n")
    store = str(tmp_path / "days.sqlite")
    done = moonwire(tmp_path, "history", "import", "days.csv", "--instrument", "AAPL", "--bar", "1 day", "--store", store)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "s.lua").write_text('function on_start() market.subscribe("AAPL", { bars = "1 day" }) end\nfunction on_bar(b) end\n')

    def gaps(to, out):
        result = moonwire(tmp_path, "backtest", "s.lua", "--instruments", "AAPL", "--bar", "1 day", "--from", "2026-10-05",
                          "--to", to, "--store", store, "--offline", "--out", out)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    # To Monday (the day after the last): the weekend is not missing anything, nor said to be
    # before the run.
    monday = gaps("2026-11-02", "to-monday")
    assert re.search(r"data gaps\s+none", monday) and "never downloaded" not in monday, monday
    # To Tuesday: Monday 2 November is missing, and only it.
    shown = gaps("2026-11-03", "to-tuesday")
    assert re.search(r"data gaps\s+1 span\(s\) never downloaded:\n\s+AAPL: 2026-11-02 00:00 to 2026-11-03 00:00", shown), shown


def test_est_names_new_york_in_summer_too(tmp_path):
    # The time-zone database also has "EST" as a fixed UTC-5: IB's EST is New York's clock
    # (an hour off all summer otherwise). July: New York is UTC-4.
    lines = ["time,open,high,low,close,volume"]
    for minute in range(4 * 60, 20 * 60):
        start = datetime.datetime(2026, 7, 8, minute // 60, minute % 60, tzinfo=datetime.timezone(datetime.timedelta(hours=-4)))
        price = 100 + minute / 100
        lines.append(f"{start.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')},{price:.2f},{price:.2f},{price:.2f},{price:.2f},1")
    (tmp_path / "july.csv").write_text("\n".join(lines) + "\n")
    store = str(tmp_path / "july.sqlite")
    done = moonwire(tmp_path, "history", "import", "july.csv", "--instrument", "AAPL", "--bar", "1 min", "--store", store,
                    "--time-zone", "EST", "--session", "09:30-16:00")
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "days.lua").write_text(DAY_BARS)
    result = moonwire(tmp_path, "backtest", "days.lua", "--instruments", "AAPL", "--bar", "1 min", "--from", "2026-07-08",
                      "--to", "2026-07-09", "--store", store, "--offline", "--out", "july")
    assert result.returncode == 0, result.stdout + result.stderr
    days = re.findall(r"day (\S+) open (\S+) high (\S+) low (\S+) close (\S+) volume (\d+)", (tmp_path / "july" / "log.txt").read_text())
    # 09:30 to 16:00 New York summer time: the minutes 570 to 959 (a fixed UTC-5 gave 10:30, 106.30).
    assert [(d[1], d[4], d[5]) for d in days] == [("105.70", "109.59", "390")], days


def test_a_forex_pair_trades_from_sunday_evening_so_a_missing_one_is_a_gap(tmp_path):
    # EUR.USD's day is New York's 17:00 to 17:00 (its name gives it, as it gives its currency):
    # Sunday 22:00-24:00 UTC is Monday's trading, and missing it is a gap.
    store = str(tmp_path / "eur.sqlite")
    # Two files (an import covers its file's span): Monday to Friday, then Monday and Tuesday.
    for name, days in (("week.csv", (2, 3, 4, 5, 6)), ("next.csv", (9, 10))):
        lines = ["time,open,high,low,close,volume"]
        for day in [datetime.date(2026, 11, d) for d in days]:
            lines += [f"{day.isoformat()}T{hour:02d}:00:00Z,1.1,1.1,1.1,1.1,1" for hour in range(24)]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        done = moonwire(tmp_path, "history", "import", name, "--instrument", "EUR.USD", "--bar", "1 hour", "--store", store)
        assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "s.lua").write_text('function on_start() market.subscribe("EUR.USD") end\n')
    result = moonwire(tmp_path, "backtest", "s.lua", "--instruments", "EUR.USD", "--bar", "1 hour", "--from", "2026-11-02",
                      "--to", "2026-11-11", "--store", store, "--offline", "--out", "eur")
    assert result.returncode == 0, result.stdout + result.stderr
    # Friday 17:00 New York (22:00 UTC) to Sunday 17:00 (22:00 UTC) holds no trading; Sunday's
    # last two hours do.
    assert re.search(r"data gaps\s+1 span\(s\) never downloaded:\n\s+EUR\.USD: 2026-11-08 22:00 to 2026-11-09 00:00", result.stdout), result.stdout


def test_time_left_of_a_long_small_bar_download_is_said_in_hours_and_its_prices_as_synthetic(tmp_path):
    # 45 days of 5-second bars: 1,080 requests of an hour, 60 every ten minutes (IB's pacing),
    # three hours at least; the built-in paper gateway's prices are said to be synthetic.
    import signal
    import subprocess
    from cli_helpers import ChildOutput, environment
    from gateway_process import BINARY
    process = subprocess.Popen([str(BINARY), "history", "AAPL", "--from", "2024-01-01", "--to", "2024-02-15", "--bar", "5 secs",
                                "--store", str(tmp_path / "bars.sqlite")],
                               cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = ChildOutput(process)
    try:
        left = output.wait_for_any(r"AAPL: \d+/1080 requests, \d+ bars, about (\d+) (s|min|h|days) left", ("stdout", "stderr"), timeout=120)[0]
        assert left.group(2) == "h" and int(left.group(1)) >= 3, left.group(0)
        process.send_signal(signal.SIGINT)
        output.finish(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    said = output.text("stdout") + output.text("stderr")
    assert "from the built-in paper gateway (synthetic prices, not a market's" in said, said
