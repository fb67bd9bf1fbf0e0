"""The paper gateway's trading hours for stocks, as Sources/PaperGateway/TradingHours.swift
states them: Monday to Friday 04:00-20:00 New York (the regular session 09:30-16:00). Its
history has bars inside them only, so a test's expected count is the minutes they hold."""
import datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
UTC = datetime.timezone.utc


def in_stock_hours(moment, regular=False):
    """Whether a bar starting at `moment` (an aware datetime) lies in a stock's trading hours."""
    local = moment.astimezone(NEW_YORK)
    minute = local.hour * 60 + local.minute
    first, last = (9 * 60 + 30, 16 * 60) if regular else (4 * 60, 20 * 60)
    return local.weekday() < 5 and first <= minute < last


def utc(text):
    """`2024-03-01` or `2024-03-01 12:00` as an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def stock_minutes(start, end, regular=False):
    """How many 1-minute bars a stock has from `start` to `end` (UTC texts or datetimes)."""
    start, end = (utc(t) if isinstance(t, str) else t for t in (start, end))
    count, moment = 0, start
    while moment < end:
        count += in_stock_hours(moment, regular)
        moment += datetime.timedelta(minutes=1)
    return count
