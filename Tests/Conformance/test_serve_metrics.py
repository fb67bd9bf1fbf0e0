"""`GET /metrics` of `moonwire serve` (docs/http-api.md, Metrics), read by Prometheus's own
parser after a small run: connected, its orders and fills counted, memory measured, each
metric of the table present under its documented name and labels."""
import shutil
import tempfile
import pathlib

import pytest
import websocket
from prometheus_client.parser import text_string_to_metric_families

from gateway_process import Gateway
from serve_process import SMALL, Serve, small_is_settled, wait_until


@pytest.fixture(scope="module")
def small():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mw-met-", dir="/tmp"))
    try:
        (folder / "small.lua").write_text(SMALL)
        with Gateway("--seed", "22", "--tick-interval-ms", "50") as gateway:
            with Serve(folder, [folder / "small.lua"], "--no-watch", "--status-every", "0", gateway=gateway) as serve:
                wait_until(lambda: small_is_settled(serve), timeout=90,
                           what=f"the small strategy holds 10 AAPL and rests its order\n{serve.text()}")
                yield serve
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def scrape(serve):
    """{sample name: [(labels, value)]} of GET /metrics, parsed as Prometheus parses it."""
    status, text = serve.get("/metrics", token=None)
    assert status == 200, (status, text)
    assert isinstance(text, str) and text, text
    content_type = serve.last_headers.get("Content-Type", "")
    assert content_type.startswith("text/plain"), content_type
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples, text


def value(samples, name, text, **labels):
    """The one sample `name` whose labels include `labels`."""
    found = [v for l, v in samples.get(name, []) if all(l.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples in\n" + "\n".join(
        line for line in text.splitlines() if name.removesuffix("_total") in line)
    return found[0]


def current(serve, name, **labels):
    """The value of one sample as /metrics says it now."""
    samples, text = scrape(serve)
    return value(samples, name, text, **labels)


def test_the_small_run_is_counted(small):
    samples, text = scrape(small)
    assert value(samples, "moonwire_connection_up", text) == 1
    assert value(samples, "moonwire_orders_total", text, strategy="small", result="placed") >= 2
    assert value(samples, "moonwire_fills_total", text, strategy="small") >= 1
    assert value(samples, "moonwire_open_orders", text) >= 1
    assert value(samples, "moonwire_resident_memory_bytes", text) > 1e6
    assert "moonwire_handler_failures_total" in samples, "handler failures are counted (0 so far)"
    assert value(samples, "moonwire_trading_closed", text) == 0


def test_http_requests_are_counted_by_status(small):
    small.get("/api/status")
    status, _ = small.get("/api/quote/NOTREAL")
    assert status in (400, 404)
    samples, text = scrape(small)
    assert "moonwire_http_requests_total" in samples, "the HTTP counter is there"
    assert value(samples, "moonwire_http_requests_total", text, status="200") >= 1
    assert value(samples, "moonwire_http_requests_total", text, status=str(status)) >= 1


def test_every_metric_of_the_table_is_there(small):
    samples, text = scrape(small)
    missing = [name for name in (
        "moonwire_connection_up", "moonwire_connection_uptime_seconds", "moonwire_reconnections_total",
        "moonwire_last_message_age_seconds", "moonwire_subscriptions", "moonwire_quotes_total",
        "moonwire_quotes_coalesced_total", "moonwire_orders_total", "moonwire_fills_total",
        "moonwire_order_fill_seconds_count", "moonwire_order_fill_seconds_bucket", "moonwire_handler_failures_total",
        "moonwire_reloads_total", "moonwire_strategy_queue_length", "moonwire_open_orders", "moonwire_positions",
        "moonwire_daily_pnl", "moonwire_trading_closed", "moonwire_resident_memory_bytes",
        "moonwire_http_requests_total", "moonwire_handler_seconds_count", "moonwire_handler_seconds_bucket",
        "moonwire_errors_total", "moonwire_strategies", "moonwire_event_stream_clients", "moonwire_uptime_seconds")
        if name not in samples]
    assert not missing, f"missing from /metrics: {missing}\n{text[:3000]}"
    assert value(samples, "moonwire_subscriptions", text) >= 1
    assert value(samples, "moonwire_quotes_total", text, strategy="small") >= 1
    assert value(samples, "moonwire_positions", text) >= 1
    assert value(samples, "moonwire_order_fill_seconds_count", text) >= 1, "the market orders' fills are timed"
    assert value(samples, "moonwire_last_message_age_seconds", text) < 30, "TWS talks at least every 30 s"
    assert value(samples, "moonwire_strategies", text) == 1
    assert value(samples, "moonwire_handler_seconds_count", text, strategy="small") >= 1
    assert value(samples, "moonwire_orders_total", text, strategy="small", result="filled") >= 2


def test_event_stream_clients_are_counted(small):
    samples, text = scrape(small)
    assert value(samples, "moonwire_event_stream_clients", text) == 0
    ws = websocket.create_connection(small.ws_url(), timeout=20)
    try:
        ws.recv()
        wait_until(lambda: current(small, "moonwire_event_stream_clients") == 1, timeout=10,
                   what="one client counted")
    finally:
        ws.close()
    wait_until(lambda: current(small, "moonwire_event_stream_clients") == 0, timeout=10,
               what="none once it left")
