"""The dashboard of `moonwire serve` in a real browser (Debian's headless chromium, driven through
the Chrome DevTools Protocol): it renders a running strategy's position, resting order and log,
shows a hostile log line as text, and its kill switch cancels the order at the gateway."""
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import websocket  # websocket-client
from ib_async import IB

from cli_helpers import environment
from gateway_process import BINARY

# on_start: quotes of AAPL, one market buy of 10, one limit buy resting far below the market,
# and log lines that would run script if the page ever parsed them as HTML.
STRATEGY = """
function on_start()
  market.subscribe("AAPL", { quotes = true })
  log.info("<script>alert(1)</script> hello")
  log.info('<img src=x onerror="window.__xss=1"> hello')
  local bought, err = orders.buy("AAPL", 10)
  if not bought then log.error("market buy refused: " .. err.message) end
  local resting, err2 = orders.buy("AAPL", 10, { limit = 1.00 })
  if not resting then log.error("limit buy refused: " .. err2.message) end
end
"""

SCRIPT_TEXT = "<script>alert(1)</script> hello"
IMG_TEXT = '<img src=x onerror="window.__xss=1"> hello'


class Output:
    """Drains a child's pipe on a thread (a full pipe would stall the child) and keeps the text."""

    def __init__(self, pipe):
        self.lines, self._pipe = [], pipe
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self._pipe:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def wait_for(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if m := re.search(pattern, self.text()):
                return m
            time.sleep(0.05)
        return None


class Browser:
    """One headless chromium with one page, spoken to over its DevTools WebSocket."""

    def __init__(self, chromium, profile):
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "--window-size=1400,1800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.stderr = Output(self.process.stderr)
        self.events, self._next_id, self.socket = [], 0, None
        active = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while time.time() < deadline and not (active.exists() and active.read_text().strip()):
            assert self.process.poll() is None, f"chromium exited: {self.stderr.text()[-2000:]}"
            time.sleep(0.1)
        port = int(active.read_text().split()[0])
        while True:   # the page target appears shortly after the port file
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10) as answer:
                pages = [t for t in json.load(answer) if t["type"] == "page"]
            if pages or time.time() > deadline:
                break
            time.sleep(0.1)
        assert pages, "chromium has no page target"
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=20, suppress_origin=True)
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")

    def call(self, method, **params):
        self._next_id += 1
        self.socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, f"{expression}: {result['exceptionDetails']}"
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        deadline, value = time.time() + timeout, None
        while time.time() < deadline:
            # Thrown while the page is still loading (no body yet) counts as not yet.
            value = self.evaluate(f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()")
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{what} within {timeout} s; the page: {self.snapshot()}")

    def snapshot(self):
        return self.evaluate("""({rendered: document.body.dataset.rendered, message: (document.getElementById('message') || {}).textContent,
            header: (document.querySelector('header') || {}).innerText, closed: (document.getElementById('closed') || {}).textContent,
            positions: (document.getElementById('positions') || {}).innerText, orders: (document.getElementById('orders') || {}).innerText,
            log: ((document.getElementById('log') || {}).innerText || '').slice(-1500)})""")

    def page_errors(self):
        return [e for e in self.events if e.get("method") == "Runtime.exceptionThrown"
                or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
                    and "favicon" not in e["params"]["entry"].get("url", ""))]

    def close(self):
        if self.socket:
            self.socket.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)   # its own session: chromium and its helpers
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def get_json(port, token, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def answering_status(port, token):
    """GET /api/status, retried while the server that printed its address starts answering (bounded)."""
    deadline = time.time() + 20
    while True:
        try:
            return get_json(port, token, "/api/status")
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def gateway_open_orders(host, port, client_id):
    """What the gateway itself lists as open orders of every client, asked by another client."""
    async def ask():
        ib = IB()
        await ib.connectAsync(host, port, clientId=client_id, timeout=20)
        try:
            trades = await ib.reqAllOpenOrdersAsync()
            return [(t.order.orderId, t.order.action, t.order.totalQuantity, t.order.lmtPrice, t.orderStatus.status, t.order.orderRef)
                    for t in trades if t.orderStatus.status not in ("Cancelled", "ApiCancelled", "Filled", "Inactive")]
        finally:
            ib.disconnect()
    return asyncio.run(asyncio.wait_for(ask(), 40))


ROWS = "[...document.querySelectorAll('#%s tbody tr')].map((r) => [...r.cells].map((c) => c.textContent.trim()))"


def test_dashboard_shows_the_run_escapes_its_log_and_halts(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (Scripts/test installs Debian's chromium)"
    assert BINARY.exists(), f"{BINARY} is missing: build it first"
    (tmp_path / "dash.lua").write_text(STRATEGY)
    serve = subprocess.Popen([str(BINARY), "serve", "dash.lua", "--listen", "127.0.0.1:0", "--no-watch"], cwd=tmp_path,
                             env=environment(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = Output(serve.stdout), Output(serve.stderr)
    browser = None
    try:
        # The address with the token made for the run (docs/http-api.md: on standard error; read
        # from either stream, this test is about the page).
        pattern = r"dashboard: (http://127\.0\.0\.1:(\d+)/)#token=(\S+)"
        deadline = time.time() + 60
        while not (address := re.search(pattern, stderr.text()) or re.search(pattern, stdout.text())) and time.time() < deadline:
            assert serve.poll() is None, f"moonwire serve exited {serve.returncode}: {stderr.text()[-3000:]}"
            time.sleep(0.05)
        assert address, f"no dashboard address: {stderr.text()[-3000:]} {stdout.text()[-3000:]}"
        url, port, token = address.group(1), int(address.group(2)), address.group(3)
        status = answering_status(port, token)
        assert status["paper"] is True, status

        browser = Browser(chromium, tmp_path / "chromium-profile")
        browser.call("Page.navigate", url=f"{url}#token={token}")
        browser.wait_for("document.body.dataset.rendered === 'ok'", 30, "the first full render")
        # The token left the address bar and stays with the tab.
        assert browser.evaluate("[location.hash, sessionStorage.getItem('moonwireToken')]") == ["", token]

        rows = browser.wait_for(f"(() => {{ const rows = {ROWS % 'positions'}; return rows.some((c) => c[1] === 'AAPL' && c[2] === '10') && rows; }})()",
                                60, "the positions table showing AAPL 10")
        assert any(c[0] == "account" for c in rows) and any(c[0] == "dash" for c in rows), rows
        orders = browser.wait_for(f"(() => {{ const rows = {ROWS % 'orders'}; return rows.some((c) => c[2] === 'AAPL' && c[3] === 'BUY' && c[6] === '1.00') && rows; }})()",
                                  30, "the orders table showing the resting limit buy")
        assert len(orders) == 1, orders
        resting_id = int(orders[0][0])

        # The hostile log lines are text: visible as written, no element made of them.
        browser.wait_for(f"document.getElementById('log').textContent.includes({json.dumps(SCRIPT_TEXT)})", 20, "the log showing the <script> line")
        assert browser.evaluate(f"document.getElementById('log').textContent.includes({json.dumps(IMG_TEXT)})")
        assert browser.evaluate("document.querySelectorAll('#log script, #log img').length") == 0
        assert browser.evaluate("[...document.scripts].filter((s) => s.textContent.includes('alert(1)')).length") == 0
        assert browser.evaluate("typeof window.__xss") == "undefined"
        browser.wait_for("document.getElementById('link').textContent === 'events: live'", 20, "the event stream open")
        # Quotes reach the page through the event stream and draw the price chart.
        browser.wait_for("document.querySelector('#price-chart path.line') !== null", 20, "the AAPL price chart drawn from quote events")

        # Before the kill switch the gateway itself works our resting order (so the check after it can fail).
        before = gateway_open_orders(status["host"], status["port"], 71)
        assert [o for o in before if o[1] == "BUY" and o[3] == 1.0], (resting_id, before)

        # The kill switch, with confirm() skipped for automation (a confirm() call would refuse it).
        browser.evaluate("window.confirm = () => { window.__asked = true; return false; }; sessionStorage.moonwireNoConfirm = '1'; "
                         "document.getElementById('halt').click(); true")
        banner = browser.wait_for("(() => { const b = document.getElementById('closed'); return !b.hidden && b.textContent; })()", 20,
                                  "the trading-closed banner")
        assert "Trading closed" in banner, banner
        assert browser.evaluate("window.__asked") is None
        browser.wait_for("document.querySelector('#orders tbody td.empty') !== null", 20, "the orders table emptied by the halt")
        browser.wait_for("document.getElementById('message').textContent.includes('halt complete')", 10, "the halt's answer shown")
        after = gateway_open_orders(status["host"], status["port"], 72)
        assert after == [], after
        assert get_json(port, token, "/api/status")["trading_closed"] is not None

        errors = browser.page_errors()
        assert not errors, errors
        shot = browser.call("Page.captureScreenshot", format="png")
        (tmp_path / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=15) == 143, stderr.text()[-3000:] + stdout.text()[-3000:]
    finally:
        if browser:
            browser.close()
        if serve.poll() is None:
            serve.kill()
            serve.wait(timeout=10)
