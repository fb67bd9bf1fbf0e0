"""Starts `moonwire serve` (or `run --listen`) on an ephemeral loopback port for the end-to-end
tests of the HTTP API, and talks to it through a real socket: JSON requests with urllib, the
paper gateway's own view through ib_async under another client id.

The child's stdout and stderr are read by two threads as they come, so neither pipe can fill
and block it, and a test can wait for a line instead of sleeping. Only the process started
here is signalled, by its pid."""
import asyncio
import itertools
import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from cli_helpers import ChildOutput as Output, environment
from gateway_process import BINARY

# Known to the tests, at least 16 characters as the API asks.
TOKEN = "test-token-0123456789abcdef"
DASHBOARD = re.compile(r"dashboard: http://(\[[^\]]+\]|[^/:\s]+):(\d+)/(?:#token=(\S+))?")

# No proxy from the environment may stand between a test and the loopback server.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_until(condition, timeout=30, what="the condition", interval=0.1):
    """Polls `condition` until it returns something true (returned) or `timeout` passes (fails,
    naming `what` and the last value seen)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last seen: {last!r})")
        time.sleep(interval)


class Serve:
    """`moonwire serve FILES --listen LISTEN ARGS...` in `folder` (its data and config folders
    too), with MOONWIRE_HTTP_TOKEN set to `token` (None: not set, the server generates one)."""

    def __init__(self, folder, files=(), *args, gateway=None, token=TOKEN, listen="127.0.0.1:0", command="serve",
                 client_id=1, start_timeout=90, extra_env=None):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: build it first")
        self.folder = folder
        self.client_id = client_id
        self._answered = threading.local()  # each thread's last answer's headers
        env = environment(folder, **(extra_env or {}))
        if token is not None:
            env["MOONWIRE_HTTP_TOKEN"] = token
        arguments = [str(BINARY), command, *[str(f) for f in files], "--listen", listen]
        if gateway is not None:
            arguments += ["--gateway", f"127.0.0.1:{gateway.port}", "--client-id", str(client_id)]
        arguments += ["--journal", str(folder / "journal.sqlite"), *args]
        self.arguments = arguments
        self.process = subprocess.Popen(arguments, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output = Output(self.process)
        try:
            # The API says standard output; looked for on both so that one test can say where it
            # went while the others go on.
            match, self.dashboard_stream = self.output.wait_for_any(DASHBOARD.pattern, ("stdout", "stderr"),
                                                                    timeout=start_timeout)
        except AssertionError:
            self.stop()
            raise
        self.port = int(match.group(2))
        self.printed_host = match.group(1)
        self.printed_token = match.group(3)
        # The token the server wants: ours, or the one it generated and printed.
        self.token = token if token is not None else self.printed_token
        self.base = f"http://127.0.0.1:{self.port}"

    # --- HTTP -----------------------------------------------------------------------------

    def request(self, method, path, body=None, token="default", headers=None, raw=None, timeout=30):
        """(status, answer): the answer parsed as JSON, or the body's text when it is not JSON.
        `token` "default" sends the server's token, None sends none, a string sends that one.
        `raw` (bytes) is sent as the body as it is; `body` is sent as JSON."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        sent = self.token if token == "default" else token
        if sent is not None:
            request.add_header("Authorization", f"Bearer {sent}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                status, text, self.last_headers = answer.status, answer.read().decode(errors="replace"), answer.headers
        except urllib.error.HTTPError as error:
            status, text, self.last_headers = error.code, error.read().decode(errors="replace"), error.headers
        except (urllib.error.URLError, OSError) as error:
            # No HTTP answer at all (reset, closed, timed out): no status, and why.
            return None, f"no answer: {error!r}"
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    @property
    def last_headers(self):
        """The headers of this thread's last answer."""
        return getattr(self._answered, "headers", {})

    @last_headers.setter
    def last_headers(self, headers):
        self._answered.headers = headers

    def get(self, path, **options):
        return self.request("GET", path, **options)

    def post(self, path, body=None, **options):
        return self.request("POST", path, body=body, **options)

    def delete(self, path, **options):
        return self.request("DELETE", path, **options)

    def ok(self, method, path, body=None, status=200, **options):
        """The answer of a request that must succeed with `status` (or one of a tuple of them)."""
        got, answer = self.request(method, path, body=body, **options)
        expected = status if isinstance(status, tuple) else (status,)
        assert got in expected, f"{method} {path}: expected {status}, got {got} {answer!r}"
        return answer

    def strategy(self, name):
        """The entry of GET /api/strategies named `name`, or None."""
        return next((s for s in self.ok("GET", "/api/strategies") if s.get("name") == name), None)

    def ws_url(self, path="/api/events", token="default"):
        """The event stream's address, with the server's token (`token` "default"), another
        one, or none (None)."""
        sent = self.token if token == "default" else token
        return f"ws://127.0.0.1:{self.port}{path}" + (f"?token={sent}" if sent else "")

    def port_open(self):
        """Whether the HTTP port still accepts a connection."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                return True
        except OSError:
            return False

    # --- ending ---------------------------------------------------------------------------

    def signal(self, number):
        if self.process.poll() is None:
            self.process.send_signal(number)

    def stop(self, bound=20):
        """SIGTERM, then SIGKILL after `bound` seconds; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=bound)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for thread in self.output.threads:
            thread.join(timeout=10)
        return self.process.returncode

    def text(self):
        return f"--- stdout\n{self.output.text('stdout')[-4000:]}\n--- stderr\n{self.output.text('stderr')[-4000:]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the paper gateway as another TWS client sees it -----------------------------------------

_client_ids = itertools.count(60)


def gateway_open_orders(gateway):
    """[(clientId, orderId, status, symbol)] of every open order at the paper gateway, asked
    through ib_async under a client id of its own."""
    async def ask():
        from ib_async import IB
        ib = IB()
        await ib.connectAsync("127.0.0.1", gateway.port, clientId=next(_client_ids), timeout=20)
        try:
            trades = await ib.reqAllOpenOrdersAsync()
            return [(t.order.clientId, t.order.orderId, t.orderStatus.status, t.contract.symbol) for t in trades]
        finally:
            ib.disconnect()
    return asyncio.run(asyncio.wait_for(ask(), 40))


# --- the small run most tests look at ---------------------------------------------------------

# Buys 10 AAPL at market in two orders (6 then 4: two fills to page through) and rests `rest`
# limit buys of 1 AAPL far below the market (half the bid, GTC: they never fill), once (the
# store keeps it across reloads). Prints each order id so a test can match them.
SMALL = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if store.placed or not q.bid then return end
  store.placed = true
  print("market " .. tostring(orders.buy("AAPL", 6)))
  print("market " .. tostring(orders.buy("AAPL", 4)))
  for i = 1, tonumber(params.rest or "1") do
    print("resting " .. tostring(orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50 - i) / 100, tif = "GTC" })))
  end
end
function on_fill(f) print(string.format("filled %g %s", f.qty, f.symbol)) end
"""


def small_is_settled(serve, resting=1):
    """Whether the small strategy's 10 AAPL are bought and its `resting` orders rest."""
    entry = serve.strategy("small")
    if not entry or (entry.get("orders_placed") or 0) < 2 + resting:
        return False
    positions = serve.ok("GET", "/api/positions")
    held = sum(p.get("quantity") or 0 for p in positions.get("strategies", [])
               if p.get("strategy") == "small" and p.get("symbol") == "AAPL")
    open_orders = serve.ok("GET", "/api/orders?open=true")
    return held == 10 and len(open_orders) == resting and positions


def printed_ids(serve, kind, count):
    """The order ids the small strategy printed as `kind` ("market", "resting"), waiting for `count`."""
    return wait_until(lambda: (ids := [int(m) for m in re.findall(rf"\b{kind} (\d+)", serve.output.text("stderr"))])
                      and len(ids) >= count and ids, timeout=60, what=f"{count} {kind} order ids printed")
