"""`moonwire serve` end to end, through a real socket against the binary (docs/http-api.md):
every read answers with its documented shape, bad input is a clear 4xx naming the value,
writes need the token and a same-origin request, every control does what the command line
does (checked at the paper gateway through ib_async under another client id), the event
stream drops a slow client without slowing anyone else, SIGTERM ends a busy run with 143 after
its summary, and a server on every interface asks for its token even for reads.

Every wait is a polled condition or an output line, each bounded; only processes this file
starts are signalled or killed, by pid."""
import asyncio
import contextlib
import datetime
import json
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import pathlib

import pytest
import websocket

from cli_helpers import environment
from gateway_process import BINARY, Gateway
from trading_hours import stock_minutes
from serve_process import (SMALL, TOKEN, Output, Serve, gateway_open_orders, printed_ids, small_is_settled,
                           wait_until)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
EVIL = {"Origin": "http://evil.example"}
# The API names no status for a write's success but `201` for an added strategy: 200 or 202.
ACCEPTED = (200, 202)


def short_folder():
    """A folder under /tmp short enough for the run's control socket beside its journal."""
    return pathlib.Path(tempfile.mkdtemp(prefix="mw-srv-", dir="/tmp"))


@contextlib.contextmanager
def served(source=None, name="small", *args, gateway_args=(), rest=1, **options):
    """A paper gateway and `moonwire serve` running `source` as NAME.lua (no strategy when None)."""
    folder = short_folder()
    try:
        with Gateway("--seed", "21", "--tick-interval-ms", "50", *gateway_args) as gateway:
            files = []
            if source is not None:
                (folder / f"{name}.lua").write_text(source)
                files = [folder / f"{name}.lua"]
            extra = ["--param", f"rest={rest}"] if source is SMALL else []
            with Serve(folder, files, "--no-watch", "--status-every", "0", *extra, *args, gateway=gateway, **options) as serve:
                yield gateway, serve
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def settled(serve, resting=1):
    return wait_until(lambda: small_is_settled(serve, resting), timeout=90,
                      what=f"the small strategy holds 10 AAPL and rests {resting} order(s)\n{serve.text()}")


def error_of(status, answer, expected, *named):
    """Asserts a documented error: `expected` status (or one of them), a JSON object with
    `error` and `code`, the error naming one of `named` (when given)."""
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert status in expected, f"expected {expected}, got {status} {answer!r}"
    assert isinstance(answer, dict), f"{status}: the error is not a JSON object: {answer!r}"
    assert isinstance(answer.get("error"), str) and answer["error"], f"no `error` text: {answer!r}"
    assert isinstance(answer.get("code"), str) and answer["code"], f"no `code`: {answer!r}"
    if named:
        assert any(value in answer["error"] for value in named), f"the error names none of {named}: {answer!r}"
    return answer


def has_keys(entry, keys, what):
    assert isinstance(entry, dict), f"{what} is not an object: {entry!r}"
    missing = [key for key in keys if key not in entry]
    assert not missing, f"{what} lacks {missing}: {entry!r}"


def ours_at_gateway(gateway, serve):
    """Order ids of the serve's client that the paper gateway works."""
    return sorted(order_id for client, order_id, status, _ in gateway_open_orders(gateway)
                  if client == serve.client_id and status not in ("Cancelled", "ApiCancelled", "Filled", "Inactive"))


def recent_weekday(back=2):
    """A weekday at least `back` days ago (UTC): a day the paper gateway has history for."""
    day = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=back)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


# ==== one small run, looked at without changing it ============================================

@pytest.fixture(scope="module")
def small():
    with served(SMALL) as (gateway, serve):
        settled(serve)
        yield gateway, serve


def test_status_says_connected_to_a_paper_account(small):
    gateway, serve = small
    status = serve.ok("GET", "/api/status")
    has_keys(status, ["connection", "account", "paper", "host", "port", "server_version", "journal", "started_at",
                      "uptime_seconds", "trading_closed", "daily_pnl", "strategies"], "/api/status")
    assert status["connection"] == "connected", status
    assert status["paper"] is True, status
    assert status["port"] == gateway.port, status
    assert isinstance(status["server_version"], int) and status["server_version"] >= 100, status
    assert isinstance(status["account"], str) and status["account"], status
    assert status["journal"] and str(serve.folder / "journal.sqlite") in str(status["journal"]), status
    assert ISO.match(status["started_at"] or ""), status
    assert isinstance(status["uptime_seconds"], (int, float)) and status["uptime_seconds"] >= 0, status
    assert status["trading_closed"] is None, status
    assert status["daily_pnl"] is None or isinstance(status["daily_pnl"], (int, float)), status
    names = status["strategies"]
    assert names == 1 or (isinstance(names, list) and [s.get("name", s) if isinstance(s, dict) else s for s in names] == ["small"]), status


def test_strategies_list_the_small_one_with_its_counts(small):
    _, serve = small
    strategies = serve.ok("GET", "/api/strategies")
    assert isinstance(strategies, list) and len(strategies) == 1, strategies
    entry = strategies[0]
    has_keys(entry, ["name", "path", "state", "events", "quotes", "orders_placed", "orders_refused", "fills", "errors",
                     "handler_failures", "reloads", "failed_reloads", "realized_pnl", "last_error"], "a strategy")
    assert entry["name"] == "small" and entry["path"].endswith("small.lua"), entry
    assert entry["state"] == "running", entry
    assert entry["events"] >= 1 and entry["quotes"] >= 1, entry
    assert entry["orders_placed"] == 3 and entry["orders_refused"] == 0, entry
    assert entry["fills"] >= 2, entry
    assert entry["errors"] == 0 and entry["handler_failures"] == 0, entry
    assert entry["reloads"] == 0 and entry["failed_reloads"] == 0, entry
    assert isinstance(entry["realized_pnl"], (int, float)), entry
    assert entry["last_error"] is None, entry


def test_positions_show_the_10_aapl_in_both_parts(small):
    _, serve = small
    positions = serve.ok("GET", "/api/positions")
    has_keys(positions, ["account", "strategies"], "/api/positions")
    account = [p for p in positions["account"] if p.get("symbol") == "AAPL"]
    assert len(account) == 1, positions
    has_keys(account[0], ["symbol", "quantity", "average_cost", "market_price"], "an account position")
    assert account[0]["quantity"] == 10, account
    # The small strategy streams AAPL: the latest quote's last (else mid).
    assert isinstance(account[0]["market_price"], (int, float)) and account[0]["market_price"] > 0, account
    assert account[0]["average_cost"] > 0, account
    ours = [p for p in positions["strategies"] if p.get("symbol") == "AAPL"]
    assert len(ours) == 1, positions
    has_keys(ours[0], ["strategy", "symbol", "quantity", "average_cost"], "a strategy position")
    assert ours[0]["strategy"] == "small" and ours[0]["quantity"] == 10 and ours[0]["average_cost"] > 0, ours


def test_open_orders_show_the_resting_one(small):
    gateway, serve = small
    [resting] = printed_ids(serve, "resting", 1)
    open_orders = serve.ok("GET", "/api/orders?open=true")
    assert isinstance(open_orders, list) and len(open_orders) == 1, open_orders
    order = open_orders[0]
    has_keys(order, ["order_id", "perm_id", "strategy", "symbol", "action", "quantity", "type", "limit", "stop", "tif",
                     "status", "filled", "remaining", "average_fill_price", "created_at"], "an order")
    assert order["order_id"] == resting, (resting, order)
    assert (order["strategy"], order["symbol"], order["action"], order["quantity"], order["type"], order["tif"]) == \
        ("small", "AAPL", "BUY", 1, "LMT", "GTC"), order
    assert isinstance(order["limit"], (int, float)) and order["limit"] > 0 and order["stop"] is None, order
    assert order["filled"] == 0 and order["remaining"] == 1, order
    assert ISO.match(order["created_at"] or ""), order
    assert ours_at_gateway(gateway, serve) == [resting], "the gateway works the same order"
    every = serve.ok("GET", "/api/orders")
    markets = printed_ids(serve, "market", 2)
    finished = {o["order_id"]: o for o in every if o.get("order_id") in markets}
    assert set(finished) == set(markets), f"without open=true the filled orders are listed too: {every}"
    assert sorted(o["filled"] for o in finished.values()) == [4, 6], finished


def test_fills_page_oldest_first(small):
    _, serve = small
    page = serve.ok("GET", "/api/fills?offset=0&limit=100")
    has_keys(page, ["total", "offset", "fills"], "/api/fills")
    assert page["offset"] == 0 and page["total"] == len(page["fills"]) >= 2, page
    for fill in page["fills"]:
        has_keys(fill, ["exec_id", "order_id", "strategy", "symbol", "side", "shares", "price", "time", "commission"], "a fill")
        assert fill["strategy"] == "small" and fill["symbol"] == "AAPL" and fill["side"] == "BOT", fill
        assert fill["price"] > 0 and ISO.match(fill["time"] or ""), fill
    assert sum(f["shares"] for f in page["fills"]) == 10, page
    times = [f["time"] for f in page["fills"]]
    assert times == sorted(times), f"oldest first: {times}"
    total = page["total"]
    first = serve.ok("GET", "/api/fills?offset=0&limit=1")
    second = serve.ok("GET", "/api/fills?offset=1&limit=1")
    assert first["total"] == second["total"] == total, (first, second)
    assert len(first["fills"]) == len(second["fills"]) == 1, (first, second)
    assert second["offset"] == 1, second
    assert first["fills"][0] == page["fills"][0] and second["fills"][0] == page["fills"][1], (first, second, page)
    beyond = serve.ok("GET", f"/api/fills?offset={total}&limit=10")
    assert beyond["fills"] == [] and beyond["total"] == total, beyond


def test_account_has_values_and_pnl(small):
    _, serve = small
    account = serve.ok("GET", "/api/account")
    has_keys(account, ["account", "values", "pnl"], "/api/account")
    assert isinstance(account["account"], str) and account["account"], account
    values = account["values"]
    assert isinstance(values, dict) and values, account
    # {KEY: VALUE} by TWS's names (KEY.CURRENCY for a value in another currency), numbers where
    # they are numbers.
    assert "NetLiquidation" in values, f"values by key, e.g. NetLiquidation: {sorted(values)[:20]}"
    for key, value in values.items():
        assert value is None or isinstance(value, (str, int, float)), (key, value)
    assert isinstance(values["NetLiquidation"], (int, float)) and values["NetLiquidation"] > 0, values["NetLiquidation"]
    assert values.get("AccountCode") == account["account"], values.get("AccountCode")
    assert values.get("AccountType") == "INDIVIDUAL", "a word stays a string"
    has_keys(account["pnl"], ["daily", "unrealized", "realized"], "the account's pnl")


def test_quote_is_a_snapshot_with_bid_below_ask(small):
    _, serve = small
    quote = serve.ok("GET", "/api/quote/AAPL")
    has_keys(quote, ["symbol", "bid", "ask", "last", "bid_size", "ask_size", "time"], "/api/quote/AAPL")
    assert quote["symbol"] == "AAPL", quote
    assert isinstance(quote["bid"], (int, float)) and isinstance(quote["ask"], (int, float)), quote
    assert 0 < quote["bid"] < quote["ask"], quote


# The instrument syntax of the Lua API, named back in its string form (README: `q.symbol ==
# "ES 202612"` whichever way it was asked for); a space in a path is %20.
@pytest.mark.parametrize("asked, named", [("EUR.USD", "EUR.USD"), ("ES%20202612", "ES 202612"), ("aapl", "AAPL")])
def test_quote_of_other_instruments(small, asked, named):
    _, serve = small
    quote = serve.ok("GET", f"/api/quote/{asked}")
    assert quote.get("symbol") == named, quote
    assert 0 < quote["bid"] < quote["ask"], quote


def test_bars_of_a_future_named_with_a_space(small):
    _, serve = small
    day = recent_weekday(23)
    answer = serve.ok("GET", f"/api/bars/ES%20202612?bar=1%20hour&from={day}&to={day + datetime.timedelta(days=1)}", timeout=120)
    assert answer.get("symbol") == "ES 202612" and answer.get("bars"), {k: v for k, v in answer.items() if k != "bars"}


# `1+min` as the API's example writes it (a `+` in a query is a space), and `1%20min`; each on
# a day of its own, so that each first comes from TWS.
@pytest.mark.parametrize("bar, back", [("1+min", 2), ("1%20min", 9)])
def test_bars_come_from_tws_then_from_the_store(small, bar, back):
    _, serve = small
    day = recent_weekday(back)
    path = f"/api/bars/AAPL?bar={bar}&from={day.isoformat()}&to={(day + datetime.timedelta(days=1)).isoformat()}"
    # A download spends the connection's pacing budget: it needs the token, on loopback too.
    error_of(*serve.get(path, token=None, timeout=60), 401)
    first = serve.ok("GET", path, timeout=120)
    has_keys(first, ["symbol", "bar", "what", "source", "bars"], "/api/bars")
    assert first["symbol"] == "AAPL" and first["source"] == "tws" and first["what"] == "TRADES", \
        {k: v for k, v in first.items() if k != "bars"}
    assert first["bars"], "the day has bars"
    for bar in first["bars"][:5]:
        has_keys(bar, ["time", "open", "high", "low", "close", "volume"], "a bar")
        assert bar["low"] <= min(bar["open"], bar["close"]) <= max(bar["open"], bar["close"]) <= bar["high"], bar
    times = [bar["time"] for bar in first["bars"]]
    assert times == sorted(times) and len(set(times)) == len(times), "bars in time order, each once"
    assert times[0] >= day.isoformat() and times[-1] < (day + datetime.timedelta(days=2)).isoformat(), (times[0], times[-1])
    # What the store holds is a plain read: no token needed on loopback.
    second = serve.ok("GET", path, timeout=60, token=None)
    assert second["source"] == "store", "the second request is answered from the store"
    assert second["bars"] == first["bars"], "the store gives back what was downloaded"


def test_bars_of_an_hour_given_with_times(small):
    _, serve = small
    day = recent_weekday(16).isoformat()
    answer = serve.ok("GET", f"/api/bars/AAPL?bar=1%20min&from={day}%2010:00:00&to={day}%2011:00:00", timeout=120)
    times = [bar["time"] for bar in answer["bars"]]
    assert times and times[0] >= f"{day}T10:00:00Z" and times[-1] < f"{day}T11:00:00Z", (times[:1], times[-1:])
    assert 1 <= len(times) <= 60, f"one hour of one-minute bars: {len(times)}"


def test_bars_up_to_now_are_whole_ones_only(small):
    _, serve = small
    today = datetime.datetime.now(datetime.timezone.utc).date()
    # From four days back: the paper history keeps trading hours (04:00-20:00 New York,
    # weekdays), so the window always holds a session's bars, on a weekend or before today's open.
    first = today - datetime.timedelta(days=4)
    answer = serve.ok("GET", f"/api/bars/AAPL?bar=1%20min&from={first}&to={today + datetime.timedelta(days=1)}", timeout=180)
    assert answer["bars"], "four days always hold a session's bars"
    last = datetime.datetime.strptime(answer["bars"][-1]["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert last + datetime.timedelta(minutes=1) <= now, f"the last bar ({last}) is still forming at {now}"
    # While the market is open, the last whole minute is there too (not lost with the one forming).
    if stock_minutes(now - datetime.timedelta(minutes=4), now - datetime.timedelta(minutes=2)) > 0:
        assert last >= now - datetime.timedelta(minutes=6), f"the last bar ({last}) is old at {now}: whole bars are missing"


def test_log_has_the_strategy_lines(small):
    _, serve = small
    log = serve.ok("GET", "/api/log?lines=200")
    has_keys(log, ["lines"], "/api/log")
    assert log["lines"], log
    for line in log["lines"]:
        has_keys(line, ["time", "level", "source", "message"], "a log line")
    assert any("resting" in (line["message"] or "") for line in log["lines"]), log["lines"][-20:]
    few = serve.ok("GET", "/api/log?lines=2")
    assert len(few["lines"]) <= 2, few
    assert not any(TOKEN in json.dumps(line) for line in log["lines"]), "the token is never logged"


def test_risk_shows_limits_and_usage(small):
    _, serve = small
    risk = serve.ok("GET", "/api/risk")
    has_keys(risk, ["trading_closed", "limits", "usage"], "/api/risk")
    assert risk["trading_closed"] is None, risk
    assert isinstance(risk["limits"], dict) and risk["limits"], risk
    has_keys(risk["usage"], ["open_orders", "orders_last_minute", "daily_pnl"], "risk usage")
    assert risk["usage"]["open_orders"] == 1, risk


def test_ingest_is_off_without_its_config(small):
    _, serve = small
    ingest = serve.ok("GET", "/api/ingest")
    has_keys(ingest, ["enabled", "symbols", "bar", "interval_seconds", "last_started", "last_finished", "last_error",
                      "bars_stored", "running"], "/api/ingest")
    assert ingest["enabled"] is False and ingest["running"] is False, ingest


# ---- bad input: a clear 4xx naming the value -------------------------------------------------

def test_unknown_symbol_quote(small):
    _, serve = small
    error_of(*serve.get("/api/quote/NOTREAL"), 404, "NOTREAL")


@pytest.mark.parametrize("query, named", [
    ("from=2024-13-45&to=2024-02-07", ("2024-13-45",)),
    ("from=2024-02-05&to=yesterday", ("yesterday",)),
    ("from=2024-02-07&to=2024-02-05", ("2024-02-05", "2024-02-07")),
    ("from=2000-01-03&to=2024-01-02", ("100,000", "100000", "2000-01-03")),
])
def test_bad_bar_ranges(small, query, named):
    _, serve = small
    started = time.monotonic()
    # The bar size spelled with %20, so that these cases test the dates alone.
    error_of(*serve.get(f"/api/bars/AAPL?bar=1%20min&{query}", timeout=60), 400, *named)
    assert time.monotonic() - started < 10, "refused before any download"


def test_unknown_bar_size(small):
    _, serve = small
    error_of(*serve.get("/api/bars/AAPL?bar=7%20parsecs&from=2024-02-05&to=2024-02-06"), 400, "7 parsecs")


def test_unknown_strategy(small):
    _, serve = small
    for method, path in (("POST", "/api/strategies/nope/pause"), ("POST", "/api/strategies/nope/resume"),
                         ("POST", "/api/strategies/nope/reload"), ("DELETE", "/api/strategies/nope")):
        error_of(*serve.request(method, path), 404, "nope")


@pytest.mark.parametrize("query, named", [
    ("limit=-1", "-1"),
    ("limit=1e300", "1e300"),
    ("offset=9223372036854775808", "9223372036854775808"),
    ("offset=-5", "-5"),
    ("limit=ten", "ten"),
])
def test_bad_fill_paging(small, query, named):
    _, serve = small
    error_of(*serve.get(f"/api/fills?{query}"), 400, named)


def test_unknown_order_cancel(small):
    _, serve = small
    error_of(*serve.post("/api/orders/999999/cancel"), 404, "999999")
    error_of(*serve.post("/api/orders/abc/cancel"), (400, 404), "abc")


def test_body_over_64_kib_is_413(small):
    _, serve = small
    body = json.dumps({"file": "x.lua", "name": "big", "params": {"pad": "x" * 70_000}}).encode()
    error_of(*serve.request("POST", "/api/strategies", raw=body), 413)
    assert serve.strategy("big") is None


@pytest.mark.parametrize("raw", [b'{"file": ', b"not json", b'["a list"]', b'{"file": 5}'])
def test_malformed_json_is_400(small, raw):
    _, serve = small
    error_of(*serve.request("POST", "/api/strategies", raw=raw), 400)


def test_unknown_path_is_a_json_404(small):
    _, serve = small
    error_of(*serve.get("/api/nothing-here"), 404)


def test_a_wrong_method_is_a_json_4xx(small):
    _, serve = small
    error_of(*serve.request("PUT", "/api/status", body={}), (404, 405))
    error_of(*serve.get("/api/halt"), (404, 405))
    assert serve.ok("GET", "/api/status")["trading_closed"] is None, "a GET of a write's path does nothing"


# ---- access ---------------------------------------------------------------------------------

def test_the_dashboard_address_is_printed_on_standard_output(small):
    _, serve = small
    assert serve.dashboard_stream == "stdout", f"`dashboard: http://...` went to {serve.dashboard_stream}"
    assert serve.printed_host == "127.0.0.1", serve.printed_host


def test_reads_need_no_token_on_loopback(small):
    _, serve = small
    for path in ("/api/status", "/api/strategies", "/api/orders?open=true", "/api/positions"):
        status, answer = serve.get(path, token=None)
        assert status == 200, (path, status, answer)
    status, text = serve.get("/metrics", token=None)
    assert status == 200 and "moonwire_" in text, (status, text[:300])


def test_refused_writes_change_nothing(small):
    gateway, serve = small
    [resting] = printed_ids(serve, "resting", 1)
    cancel = f"/api/orders/{resting}/cancel"
    answer = error_of(*serve.post(cancel, token=None), 401)
    assert answer["code"] == "unauthorized", answer
    assert error_of(*serve.post(cancel, token="wrong-token-0123456789"), 401)["code"] == "unauthorized"
    assert error_of(*serve.post(cancel, token=TOKEN[:-1]), 401)["code"] == "unauthorized", "a prefix of the token is not it"
    error_of(*serve.post(cancel, headers=EVIL), 403)
    error_of(*serve.post("/api/halt", {"everything": True}, token=None), 401)
    error_of(*serve.post("/api/halt", {"everything": True}, headers=EVIL), 403)
    error_of(*serve.post("/api/strategies/small/pause", headers=EVIL), 403)
    error_of(*serve.delete("/api/strategies/small", token=None), 401)
    error_of(*serve.post("/api/flatten/AAPL", {}, headers={"Origin": "null"}), 403)
    # Nothing changed: the order still open here and at the gateway, the strategy running,
    # trading open.
    assert [o["order_id"] for o in serve.ok("GET", "/api/orders?open=true")] == [resting]
    assert ours_at_gateway(gateway, serve) == [resting]
    assert serve.strategy("small")["state"] == "running"
    assert serve.ok("GET", "/api/status")["trading_closed"] is None
    positions = serve.ok("GET", "/api/positions")["strategies"]
    assert [p["quantity"] for p in positions if p["symbol"] == "AAPL"] == [10], positions


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.2:{port}"])
def test_another_host_name_is_421(small, host):
    _, serve = small
    # DNS rebinding: a page of another site whose name resolves to 127.0.0.1 sends its own Host.
    error_of(*serve.get("/api/status", token=None, headers={"Host": host.format(port=serve.port)}), 421)
    error_of(*serve.post("/api/strategies/small/pause", headers={"Host": host.format(port=serve.port)}), 421)
    assert serve.strategy("small")["state"] == "running"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "127.0.0.1", "localhost"])
def test_the_loopback_host_names_are_served(small, host):
    _, serve = small
    status, answer = serve.get("/api/status", token=None, headers={"Host": host.format(port=serve.port)})
    assert status == 200, (host, status, answer)


def test_a_field_a_request_does_not_take_is_400(small):
    _, serve = small
    # Never ignored: a halt with a misspelt field does not close trading.
    error_of(*serve.post("/api/halt", {"everything": False, "evrything": True}), 400, "evrything")
    error_of(*serve.post("/api/flatten/AAPL", {"strategy": "small", "qty": 5}), 400, "qty")
    error_of(*serve.post("/api/strategies", {"file": "small.lua", "name": "x", "parms": {}}), 400, "parms")
    error_of(*serve.post("/api/halt", {"everything": "yes"}), 400, "everything")
    assert serve.ok("GET", "/api/status")["trading_closed"] is None
    assert len(serve.ok("GET", "/api/orders?open=true")) == 1, "the flatten did not run"
    assert serve.strategy("x") is None


def test_a_same_origin_write_is_not_refused(small):
    _, serve = small
    # A write from the dashboard's own page carries its own origin: judged on its merits (the
    # unknown strategy here), not refused as another origin's.
    error_of(*serve.post("/api/strategies/nope/pause", headers={"Origin": serve.base}), 404, "nope")


def test_the_dashboard_page_is_served_without_the_token(small):
    _, serve = small
    status, page = serve.get("/", token=None)
    assert status == 200 and isinstance(page, str) and "<html" in page.lower(), (status, str(page)[:300])
    assert serve.last_headers.get("Content-Type", "").startswith("text/html"), serve.last_headers
    assert TOKEN not in page, "the page never carries the token: it reads it from the address's #token= part"


def test_no_cors_headers(small):
    _, serve = small
    status, _ = serve.get("/api/status", headers=EVIL)
    assert status == 200
    allowed = [key for key in serve.last_headers.keys() if key.lower().startswith("access-control-")]
    assert not allowed, f"no CORS header may let another origin read: {allowed}"


# ==== controls, each on its own run ===========================================================

def test_pause_resume_and_reload():
    with served(SMALL) as (_, serve):
        settled(serve)
        serve.ok("POST", "/api/strategies/small/pause", status=ACCEPTED)
        assert serve.strategy("small")["state"] == "paused"
        # Every write is logged with the client's address, on the console and in the day's log file.
        said = serve.output.wait_for(r"127\.0\.0\.1.*\bpause.*\bsmall", "stderr").group(0)
        logs = lambda: list((serve.folder / "data" / "logs").glob("*.log"))  # noqa: E731
        wait_until(lambda: any(said.split(" ", 1)[-1] in log.read_text(errors="replace") for log in logs()), timeout=10,
                   what=f"{said!r} in the day's log file")
        assert not any(TOKEN in log.read_text(errors="replace") for log in logs()), "the token is never logged"
        serve.ok("POST", "/api/strategies/small/resume", status=ACCEPTED)
        assert serve.strategy("small")["state"] == "running"
        reloaded = serve.ok("POST", "/api/strategies/small/reload")
        has_keys(reloaded, ["succeeded", "hash", "error"], "a reload")
        assert reloaded["succeeded"] is True and reloaded["error"] is None and reloaded["hash"], reloaded
        entry = serve.strategy("small")
        assert entry["reloads"] == 1 and entry["state"] == "running", entry
        # A broken file: the reload fails with the error, the old code keeps running.
        (serve.folder / "small.lua").write_text("function on_quote(q) this is not lua end\n")
        failed = serve.ok("POST", "/api/strategies/small/reload")
        assert failed["succeeded"] is False and failed["error"], failed
        entry = serve.strategy("small")
        assert entry["failed_reloads"] == 1 and entry["state"] == "running", entry
        assert entry["orders_placed"] == 3, "the store kept `placed` across the reload: nothing bought twice"


def test_cancel_then_flatten():
    with served(SMALL, rest=2) as (gateway, serve):
        settled(serve, resting=2)
        first, second = printed_ids(serve, "resting", 2)
        assert ours_at_gateway(gateway, serve) == sorted([first, second])
        serve.ok("POST", f"/api/orders/{first}/cancel", status=ACCEPTED)
        wait_until(lambda: ours_at_gateway(gateway, serve) == [second], what="the gateway cancelled the order")
        wait_until(lambda: [o["order_id"] for o in serve.ok("GET", "/api/orders?open=true")] == [second],
                   what="the cancelled order leaves the open orders")
        cancelled = [o for o in serve.ok("GET", "/api/orders") if o["order_id"] == first]
        assert cancelled and cancelled[0]["status"] == "cancelled", cancelled

        flat = serve.ok("POST", "/api/flatten/AAPL", {})
        has_keys(flat, ["symbol", "cancelled", "closing", "refused"], "a flatten")
        assert flat["symbol"] == "AAPL", flat
        assert flat["cancelled"] == [second], flat
        assert flat["refused"] == [], flat
        assert len(flat["closing"]) == 1, flat
        closing = flat["closing"][0]
        has_keys(closing, ["strategy", "order_id", "action", "quantity"], "a closing order")
        assert (closing["strategy"], closing["action"], closing["quantity"]) == ("small", "SELL", 10), closing

        def flat_now():
            held = [p for p in serve.ok("GET", "/api/positions")["strategies"]
                    if p["symbol"] == "AAPL" and p["strategy"] == "small" and p["quantity"] != 0]
            return not held
        wait_until(flat_now, what="the strategy's AAPL position back to 0")
        orders = {o["order_id"]: o for o in serve.ok("GET", "/api/orders")}
        assert closing["order_id"] in orders, "the closing order is listed"
        assert orders[closing["order_id"]]["action"] == "SELL" and orders[closing["order_id"]]["strategy"] == "small"
        wait_until(lambda: ours_at_gateway(gateway, serve) == [] or None, what="nothing of ours works at the gateway")


def test_flatten_of_a_symbol_nobody_holds():
    with served(SMALL) as (_, serve):
        settled(serve)
        # No strategy holds it or has an order in it: 404, nothing sent.
        error_of(*serve.post("/api/flatten/MSFT", {}), 404, "MSFT")
        assert serve.ok("GET", "/api/orders?open=true") and all(o["symbol"] == "AAPL" for o in serve.ok("GET", "/api/orders"))
        error_of(*serve.post("/api/flatten/AAPL", {"strategy": "nope"}), 404, "nope")


EXTRA = """
function on_start() print("extra started with " .. tostring(params.greeting)) end
function on_stop() print("extra stopped") end
"""


def test_add_and_remove_a_strategy():
    with served(SMALL) as (_, serve):
        settled(serve)
        (serve.folder / "extra.lua").write_text(EXTRA)
        added = serve.ok("POST", "/api/strategies", {"file": str(serve.folder / "extra.lua"), "name": "extra",
                                                     "params": {"greeting": "hi"}}, status=201)
        assert added.get("name") == "extra", added
        serve.output.wait_for(r"extra started with hi", "stderr")
        assert serve.strategy("extra")["state"] == "running"
        error_of(*serve.post("/api/strategies", {"file": str(serve.folder / "extra.lua"), "name": "extra"}), (400, 409), "extra")
        (serve.folder / "broken.lua").write_text("function on_start( oops\n")
        error_of(*serve.post("/api/strategies", {"file": str(serve.folder / "broken.lua"), "name": "broken"}), 400)
        assert serve.strategy("broken") is None
        error_of(*serve.post("/api/strategies", {"file": str(serve.folder / "missing.lua")}), (400, 404), "missing.lua")
        # A path relative to where the server runs, as the API's example gives it.
        serve.ok("POST", "/api/strategies", {"file": "extra.lua", "name": "extra2", "params": {"greeting": "again"}}, status=201)
        serve.output.wait_for(r"extra started with again", "stderr")
        serve.ok("DELETE", "/api/strategies/extra2", status=ACCEPTED)
        serve.ok("DELETE", "/api/strategies/extra?cancel_orders=true", status=ACCEPTED)
        serve.output.wait_for(r"extra stopped", "stderr")
        assert serve.strategy("extra") is None
        assert serve.strategy("small")["state"] == "running", "the other strategy goes on"


def test_only_lua_files_of_the_runs_folders_can_be_added():
    other = short_folder()
    try:
        (other / "elsewhere.lua").write_text(EXTRA)
        with served(SMALL) as (_, serve):
            settled(serve)
            (serve.folder / "notes.txt").write_text(EXTRA)
            (serve.folder / "link.lua").symlink_to(other / "elsewhere.lua")
            # Not a .lua file: refused (the API's "403 otherwise" or a 400 naming it).
            for file in ("/etc/passwd", "notes.txt"):
                error_of(*serve.post("/api/strategies", {"file": file, "name": "intruder"}), (400, 403), file)
            # A .lua file outside the run's folders, however it is reached: 403.
            for file in (str(other / "elsewhere.lua"), "link.lua", f"../{other.name}/elsewhere.lua",
                         str(serve.folder / ".." / other.name / "elsewhere.lua")):
                error_of(*serve.post("/api/strategies", {"file": file, "name": "intruder"}), 403)
            # At most 16 MB.
            (serve.folder / "huge.lua").write_text("-- " + "x" * (17 * 1024 * 1024) + "\n")
            error_of(*serve.post("/api/strategies", {"file": "huge.lua", "name": "huge"}), (400, 403, 413), "huge.lua")
            for name in ("a b", "../x", "x/y", ""):
                error_of(*serve.post("/api/strategies", {"file": "small.lua", "name": name}), 400)
            assert [s["name"] for s in serve.ok("GET", "/api/strategies")] == ["small"]
            assert "extra started" not in serve.output.text("stderr"), "no file from elsewhere ran"
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_halt_closes_trading_and_cancels_everything():
    with served(SMALL, rest=2) as (gateway, serve):
        settled(serve, resting=2)
        resting = sorted(printed_ids(serve, "resting", 2))
        ws = websocket.create_connection(serve.ws_url(), timeout=20)
        assert json.loads(ws.recv()).get("type") == "hello"
        halted = serve.ok("POST", "/api/halt", {"everything": False}, timeout=60)
        try:
            event = next_event(ws, lambda m: m.get("type") == "halt")
            assert event.get("everything") is False and event.get("left") == [] and event.get("by"), event
        finally:
            ws.close()
        has_keys(halted, ["complete", "cancelled", "not_sent", "filled", "left"], "a halt")
        assert halted["complete"] is True and sorted(halted["cancelled"]) == resting and halted["left"] == [], halted
        closed = serve.ok("GET", "/api/status")["trading_closed"]
        assert isinstance(closed, dict) and closed.get("code") and closed.get("message"), closed
        assert serve.ok("GET", "/api/risk")["trading_closed"], "the risk view says so too"
        assert serve.ok("GET", "/api/orders?open=true") == []
        assert ours_at_gateway(gateway, serve) == [], "no open order of ours left at the gateway"
        # Closed for good: a flatten now sends nothing.
        status, answer = serve.post("/api/flatten/AAPL", {})
        assert status >= 400 or answer.get("closing") == [], (status, answer)
        assert ours_at_gateway(gateway, serve) == []


def test_flatten_goes_through_the_strategys_risk_gate(tmp_path):
    # Three orders a minute: the small strategy's own three use them up, so its closing order
    # is refused by its gate, as the strategy's own order would be.
    (tmp_path / "moonwire.yaml").write_text("risk:\n  max_orders_per_minute: 3\n")
    with served(SMALL, "small", "--config", str(tmp_path / "moonwire.yaml")) as (gateway, serve):
        settled(serve)
        [resting] = printed_ids(serve, "resting", 1)
        flat = serve.ok("POST", "/api/flatten/AAPL", {"strategy": "small"})
        assert flat.get("cancelled") == [resting], flat
        assert flat.get("closing") == [], f"the closing order is refused by the risk gate: {flat}"
        refused = flat.get("refused") or []
        assert len(refused) == 1 and refused[0].get("strategy") == "small" and refused[0].get("error"), flat
        wait_until(lambda: ours_at_gateway(gateway, serve) == [], what="the resting order cancelled at the gateway")
        held = [p["quantity"] for p in serve.ok("GET", "/api/positions")["strategies"] if p["symbol"] == "AAPL"]
        assert held == [10], f"nothing sold: {held}"


RESTING_EXTRA = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 40) / 100, tif = "GTC" })
  print("extra resting " .. tostring(placed))
end
"""


def test_removing_a_strategy_cancels_its_orders_only_when_asked():
    with served(SMALL) as (gateway, serve):
        settled(serve)
        [small_order] = printed_ids(serve, "resting", 1)
        (serve.folder / "extra.lua").write_text(RESTING_EXTRA)
        serve.ok("POST", "/api/strategies", {"file": str(serve.folder / "extra.lua"), "name": "extra"}, status=201)
        extra_order = int(serve.output.wait_for(r"extra resting (\d+)", "stderr").group(1))
        wait_until(lambda: ours_at_gateway(gateway, serve) == sorted([small_order, extra_order]),
                   what="both strategies' orders work at the gateway")
        serve.ok("DELETE", "/api/strategies/extra?cancel_orders=true", status=ACCEPTED)
        wait_until(lambda: ours_at_gateway(gateway, serve) == [small_order], what="the removed strategy's order cancelled")
        serve.ok("DELETE", "/api/strategies/small", status=ACCEPTED)
        assert serve.ok("GET", "/api/strategies") == []
        assert ours_at_gateway(gateway, serve) == [small_order], "without cancel_orders its order stays open"


def test_halt_everything_also_cancels_another_clients_order():
    with served(SMALL) as (gateway, serve):
        settled(serve)

        async def place():
            from ib_async import IB, LimitOrder, Stock
            ib = IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=51, timeout=20)
            try:
                [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
                trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00))
                for _ in range(100):
                    if trade.orderStatus.status == "Submitted":
                        break
                    await asyncio.sleep(0.1)
                return trade.orderStatus.status
            finally:
                ib.disconnect()
        assert asyncio.run(asyncio.wait_for(place(), 40)) == "Submitted"
        assert [o for o in gateway_open_orders(gateway) if o[0] == 51], "the other client's order works"
        halted = serve.ok("POST", "/api/halt", {"everything": True}, timeout=60)
        assert halted.get("complete") is True and halted.get("left") == [], halted
        wait_until(lambda: gateway_open_orders(gateway) == [] or None, timeout=20,
                   what="every open order of the account cancelled at the gateway")


# ==== the event stream ========================================================================

def next_event(ws, accept, timeout=30):
    """The first message `accept` takes (parsed), reading for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            message = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            break
        seen.append(message.get("type"))
        if accept(message):
            return message
    raise AssertionError(f"no such event within {timeout} s; types seen: {seen[-50:]}")


def read_for(ws, seconds):
    """Every message that arrives within `seconds` (parsed)."""
    messages, began = [], time.monotonic()
    while (left := seconds - (time.monotonic() - began)) > 0:
        ws.settimeout(max(0.05, left))
        try:
            messages.append(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            break
    return messages


def stamped(message):
    """Asserts what every message carries: `type`, `time` (ISO 8601 UTC), `ts_us` (epoch µs)."""
    assert isinstance(message.get("type"), str), message
    assert ISO.match(message.get("time") or ""), message
    assert isinstance(message.get("ts_us"), int) and abs(message["ts_us"] / 1e6 - time.time()) < 3600, message
    return message


def test_events_hello_then_order_and_strategy_events():
    with served(SMALL, rest=2) as (_, serve):
        settled(serve, resting=2)
        first, _ = printed_ids(serve, "resting", 2)
        ws = websocket.create_connection(serve.ws_url(), timeout=20)
        try:
            hello = stamped(json.loads(ws.recv()))
            assert hello.get("type") == "hello", hello
            assert hello.get("status", {}).get("connection") == "connected", hello
            serve.ok("POST", f"/api/orders/{first}/cancel", status=ACCEPTED)
            event = next_event(ws, lambda m: m.get("type") == "order" and m.get("order", {}).get("order_id") == first
                               and m["order"].get("status") == "cancelled")
            has_keys(event["order"], ["order_id", "perm_id", "strategy", "symbol", "action", "quantity", "type", "status",
                                      "filled", "remaining", "created_at"], "an order event's order")
            # Each state of an order once: no second "cancelled" (TWS answers a cancel twice).
            later = read_for(ws, 2)
            again = [m for m in later if m.get("type") == "order" and m["order"].get("order_id") == first
                     and m["order"].get("status") == "cancelled"]
            for message in later:
                stamped(message)
            # A flatten's closing sale: its fill, then its commission (TWS sends it after the fill).
            flat = serve.ok("POST", "/api/flatten/AAPL", {})
            closing = flat["closing"][0]["order_id"]
            fill = stamped(next_event(ws, lambda m: m.get("type") == "fill" and m["fill"].get("order_id") == closing))["fill"]
            has_keys(fill, ["exec_id", "order_id", "strategy", "symbol", "side", "shares", "price", "time", "commission"], "a fill event's fill")
            assert fill["side"] == "SLD" and fill["strategy"] == "small" and fill["symbol"] == "AAPL", fill
            if fill["commission"] is None:
                commission = stamped(next_event(ws, lambda m: m.get("type") == "commission" and m.get("exec_id") == fill["exec_id"]))
                assert commission.get("order_id") == closing and commission.get("commission", 0) > 0, commission
            serve.ok("POST", "/api/strategies/small/pause", status=ACCEPTED)
            event = stamped(next_event(ws, lambda m: m.get("type") == "strategy"))
            assert event.get("name") == "small" and event.get("event") == "paused", event
            event = next_event(ws, lambda m: m.get("type") == "quotes", timeout=30)
            first_quote = event["quotes"][0]
            assert first_quote.get("symbol") == "AAPL" and first_quote.get("bid") and first_quote.get("ask"), event
            # Quotes come every 50 ms; the stream sends the latest per symbol at most every 250 ms,
            # all changed instruments in one message.
            quotes = [q for m in read_for(ws, 3) if m.get("type") == "quotes" for q in m["quotes"] if q.get("symbol") == "AAPL"]
            assert 1 <= len(quotes) <= 14, f"{len(quotes)} AAPL quote events in 3 s: coalesced to one per 250 ms at most"
            assert again == [], f"the cancelled state of order {first} told {1 + len(again)} times: {again}"
        finally:
            ws.close()


def test_the_event_stream_needs_the_token_and_the_page_origin():
    with served(None) as (_, serve):
        # On loopback too: any web page can open a WebSocket to any address. Refused with the
        # WebSocket library's 400.
        for url, headers in ((serve.ws_url(token=None), {}), (serve.ws_url(token="not-the-token-0123456789"), {}),
                             (serve.ws_url(), {"origin": "http://evil.example"})):
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(url, timeout=20, **headers)
            assert 400 <= refused.value.status_code < 500, f"{url} {headers}: {refused.value}"
        ws = websocket.create_connection(serve.ws_url(), timeout=20, origin=serve.base)
        try:
            assert json.loads(ws.recv()).get("type") == "hello"
        finally:
            ws.close()


# Many log lines a quote (quotes every 50 ms): far more events than a client that never reads
# can hold, most of a kilobyte each so the kernel's buffers fill quickly too. The budget is
# raised so that a loaded machine cannot pause the strategy (and end the flood) by itself.
CHATTY = """
function on_start() market.subscribe("AAPL") end
local pad = string.rep("x", 800)
function on_quote(q)
  for i = 1, 15 do log.info("chatter " .. i .. " " .. pad) end
end
"""
CHATTY_CONFIG = """
strategy:
  budget_ms: 1000
  max_consecutive_errors: 1000
"""


class Reader:
    """A WebSocket client that reads everything in a thread, counting the messages."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=20)
        self.count = 0
        self.last = None  # the last message's text
        self.closed = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.closed = "close frame"
                    return
                self.last = data
                self.count += 1
        except Exception as error:  # the end of the connection, whatever its kind
            self.closed = repr(error)

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close(timeout=2)
        self.thread.join(timeout=10)


def test_a_slow_client_is_dropped_and_nobody_else_slows(tmp_path):
    (tmp_path / "moonwire.yaml").write_text(CHATTY_CONFIG)
    with served(CHATTY, "chatty", "--config", str(tmp_path / "moonwire.yaml")) as (_, serve):
        reader = Reader(serve.ws_url())
        slow = websocket.create_connection(serve.ws_url(), timeout=20,
                                           sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        try:
            start = reader.count
            # Far more than the 1,000-message buffer plus every kernel buffer between them (4 MB
            # at most on Linux by default): 10,000 messages of ~0.9 kB.
            # Meanwhile the API answers quickly: /api/status timed at every look.
            latencies = []

            def flooded():
                began = time.monotonic()
                assert serve.ok("GET", "/api/status", timeout=10)["connection"] == "connected"
                latencies.append(time.monotonic() - began)
                return reader.count - start > 10_000 or reader.closed
            wait_until(flooded, timeout=180, interval=0.5,
                       what=f"the reading client receives the chatter (strategy: {serve.strategy('chatty')})")
            assert reader.closed is None, f"the reading client was dropped: {reader.closed}"
            assert max(latencies) < 2, f"/api/status answers within 2 s during the flood: {sorted(latencies)[-5:]}"
            # The slow one was dropped: what was buffered for it, then its end (the connection closed).
            got, end = 0, None
            deadline = time.monotonic() + 90
            slow.settimeout(10)
            while time.monotonic() < deadline:
                try:
                    opcode, frame = slow.recv_data_frame(control_frame=True)
                except websocket.WebSocketTimeoutException:
                    end = "still open: nothing more within 10 s"
                    break
                except Exception as error:
                    end = repr(error)
                    break
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    end = "close frame"
                    break
                got += 1
            assert end is not None, f"the slow client was never dropped: it read {got} messages in 90 s"
            assert not end.startswith("still open"), f"the slow client was not dropped: {end} after {got} messages"
            assert got < reader.count, (got, reader.count)
            before = reader.count
            wait_until(lambda: reader.count > before + 100, timeout=30, what="the reading client keeps receiving")
            assert reader.closed is None, reader.closed
        finally:
            with contextlib.suppress(Exception):
                slow.close(timeout=2)
            reader.close()


def test_too_many_requests_are_429_with_retry_after():
    with served(None) as (_, serve):
        answers = []

        def hammer():
            for _ in range(100):
                status, answer = serve.get("/api/status", token=None, timeout=30)
                answers.append((status, answer, serve.last_headers.get("Retry-After") if status == 429 else None))
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        statuses = [status for status, _, _ in answers]
        assert statuses.count(200) >= 100, "the burst of 100 is allowed"
        limited = [(answer, retry) for status, answer, retry in answers if status == 429]
        assert limited, f"400 requests in a few seconds: some refused with 429 ({sorted(set(statuses))})"
        assert set(statuses) <= {200, 429}, sorted(set(statuses))
        answer, retry = limited[0]
        error_of(429, answer, 429)
        assert retry and retry.isdigit() and int(retry) >= 1, f"Retry-After: {retry!r}"
        # The owner, with the token, has a budget of its own: a flood without it cannot starve a
        # halt. The tokenless budget refills while the flood's threads end (on a loaded machine,
        # enough for a request or more): drain it again, then ask with the token at once.
        for _ in range(400):
            if serve.get("/api/status", token=None)[0] == 429:
                break
        else:
            raise AssertionError("400 more requests without the token and none limited")
        status, answer = serve.get("/api/status")
        assert status == 200, (status, answer)
        wait_until(lambda: serve.get("/api/status", token=None)[0] == 200, timeout=10, interval=0.5,
                   what="answered again after the wait")


def test_connections_are_bounded_and_idle_ones_closed():
    with served(None) as (_, serve):
        held = []
        try:
            for _ in range(300):
                held.append(socket.create_connection(("127.0.0.1", serve.port), timeout=10))

            # At most 256 at once: the 44 beyond are closed (the newest, as they open).
            closed = set()

            def beyond_closed():
                readable, _, _ = select.select([sock for i, sock in enumerate(held) if i not in closed], [], [], 0)
                for sock in readable:  # nothing was asked: readable means closed (or reset)
                    closed.add(held.index(sock))
                return len(closed) >= len(held) - 256
            wait_until(beyond_closed, timeout=30, interval=0.5, what=f"{len(held) - 256} of {len(held)} connections closed")
        finally:
            for sock in held:
                sock.close()
        # Once they are gone, the API answers again.
        wait_until(lambda: serve.get("/api/status", timeout=5)[0] == 200, timeout=20, interval=0.5, what="answering again")
        # An idle connection is closed after 30 s.
        idle = socket.create_connection(("127.0.0.1", serve.port), timeout=60)
        try:
            began = time.monotonic()
            idle.settimeout(60)
            try:
                ended = idle.recv(1) == b""
            except OSError:
                ended = True
            took = time.monotonic() - began
            assert ended and 20 <= took <= 50, f"closed after {took:.1f} s of idleness (the API: 30 s)"
        finally:
            idle.close()


# ==== ending and other ways to serve ==========================================================

# Places a far-off limit order and cancels the last one on every quote: orders and cancels all
# the time (limits raised by the config so the risk gate does not stop it).
BUSY = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if not q.bid then return end
  for _, o in ipairs(orders.open()) do orders.cancel(o.id) end
  orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
end
function on_stop() print("busy on_stop ran") end
"""
BUSY_CONFIG = """
risk:
  max_open_orders: 50
  max_orders_per_minute: 1000
account_risk:
  max_open_orders: 100
  max_orders_per_minute: 1000
"""


def test_sigterm_during_a_busy_run_closes_http_and_exits_143_after_the_summary():
    folder = short_folder()
    try:
        (folder / "moonwire.yaml").write_text(BUSY_CONFIG)
        with served(BUSY, "busy", "--config", str(folder / "moonwire.yaml")) as (_, serve):
            wait_until(lambda: (serve.strategy("busy") or {}).get("orders_placed", 0) >= 10, timeout=90,
                       what=f"the busy strategy places orders\n{serve.text()}")
            reader = Reader(serve.ws_url())
            try:
                wait_until(lambda: reader.count >= 1, timeout=10, what="the event stream's hello")
                signalled = time.monotonic()
                serve.signal(signal.SIGTERM)
                wait_until(lambda: not serve.port_open(), timeout=15, what="the HTTP port closes after SIGTERM")
                status = serve.output.finish(timeout=max(1, 15 - (time.monotonic() - signalled)))
                took = time.monotonic() - signalled
                wait_until(lambda: reader.closed, timeout=5, what="the open WebSocket is closed")
                assert reader.last and json.loads(reader.last).get("type") == "stopped", \
                    f"`stopped` is the last message: {reader.last[:300] if reader.last else None} " \
                    f"({reader.count} messages, then {reader.closed})"
            finally:
                reader.close()
            out, err = serve.output.text("stdout"), serve.output.text("stderr")
            assert status == 143, f"SIGTERM: 128 + 15, got {status}\n{serve.text()}"
            assert took <= 15, f"ended {took:.1f} s after SIGTERM"
            both = out + "\n" + err
            assert "summary of busy after" in both, f"the run's summary is printed\n{serve.text()}"
            assert "busy on_stop ran" in err, "the strategy is stopped as `run` stops it"
            if "terminated: stopping" in out:
                assert out.index("terminated: stopping") < out.index("summary of busy after"), out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_serve_without_strategies_is_a_data_service():
    with served(None) as (_, serve):
        status = wait_until(lambda: (s := serve.ok("GET", "/api/status"))["connection"] == "connected" and s, timeout=60,
                            what="connected")
        assert status["trading_closed"] is None, status
        assert serve.ok("GET", "/api/strategies") == []
        assert serve.ok("GET", "/api/orders?open=true") == []
        quote = serve.ok("GET", "/api/quote/AAPL")
        assert quote["symbol"] == "AAPL" and 0 < quote["bid"] < quote["ask"], quote
        assert serve.stop() == 143, serve.text()


def test_ctrl_c_ends_serve_with_130():
    with served(SMALL) as (_, serve):
        settled(serve)
        serve.signal(signal.SIGINT)
        status = serve.output.finish(timeout=30)
        assert status == 130, f"SIGINT: 128 + 2, got {status}\n{serve.text()}"
        assert not serve.port_open()
        assert "summary of small after" in serve.output.text("stdout") + serve.output.text("stderr")


def test_listening_on_every_interface_generates_a_token_and_asks_for_it():
    with served(None, token=None, listen="0.0.0.0:0") as (_, serve):
        token = serve.printed_token
        assert token and len(token) >= 16, f"a generated token is printed: {serve.output.text('stderr')[-2000:]}"
        assert (serve.output.text("stdout") + serve.output.text("stderr")).count(token) == 1, "printed once"
        for path in ("/api/status", "/api/positions", "/metrics"):
            answer = error_of(*serve.get(path, token=None), 401)
            assert answer["code"] == "unauthorized", answer
            error_of(*serve.get(path, token="not-the-token-0123456789"), 401)
            status, _ = serve.get(path, token=token)
            assert status == 200, (path, status)
        ws = websocket.create_connection(serve.ws_url(token=token), timeout=20)
        try:
            assert json.loads(ws.recv()).get("type") == "hello"
        finally:
            ws.close()
        for url in (serve.ws_url(token=None), serve.ws_url(token="not-the-token-0123456789")):
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(url, timeout=20)
            assert refused.value.status_code == 400, f"{url}: {refused.value} (the API: the WebSocket library's 400)"


def test_run_with_listen_serves_the_same_api():
    folder = short_folder()
    try:
        with Gateway("--seed", "4", "--tick-interval-ms", "50") as gateway:
            (folder / "small.lua").write_text(SMALL)
            with Serve(folder, [folder / "small.lua"], "--no-watch", "--status-every", "0", gateway=gateway, command="run") as serve:
                settled(serve)
                assert serve.ok("GET", "/api/status")["connection"] == "connected"
                assert serve.strategy("small")["orders_placed"] == 3
                assert serve.stop() == 143, serve.text()
                assert "summary of small after" in serve.output.text("stdout") + serve.output.text("stderr")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_serve_help_names_the_command():
    shown = subprocess.run([str(BINARY), "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    usage = next((line for line in shown.stdout.splitlines() if line.startswith("USAGE:")), "")
    assert usage.startswith("USAGE: moonwire serve "), usage
    assert "--listen" in shown.stdout, "the option that matters most is listed"


def test_a_short_token_is_refused_at_start():
    folder = short_folder()
    try:
        with Gateway("--seed", "3") as gateway:
            process = subprocess.Popen([str(BINARY), "serve", "--listen", "127.0.0.1:0", "--gateway", f"127.0.0.1:{gateway.port}",
                                        "--journal", str(folder / "journal.sqlite")], cwd=folder,
                                       env=environment(folder, MOONWIRE_HTTP_TOKEN="short"), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            output = Output(process)
            try:
                status = output.finish(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
                raise AssertionError(f"serve started with a 5-character token\n{output.text('stderr')[-2000:]}")
            err = output.text("stderr")
            assert status != 0, err
            assert "MOONWIRE_HTTP_TOKEN" in err and "16" in err, err[-2000:]
            assert "dashboard:" not in err, err[-2000:]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
