"""Faults stay local, through the binary against a gateway of its own: a journal that cannot be
written (a real write error: the run may not grow its files past a size, RLIMIT_FSIZE) closes
trading, and once the run may write again trading reopens by itself and says so; a run that
stopped with an order resting gives it back to its strategy on the next run, which sees it
under the same id and cancels it at the gateway."""
import os
import re
import resource
import signal
import subprocess
import threading
import time

from cli_helpers import environment
from gateway_process import BINARY, Gateway

# Places a far-below-the-market order every 0.1 s and cancels it at once; prints only changes.
STEADY = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if started or not q.bid then return end
  started = true
  timer.every(0.1, function()
    local id, err = orders.buy("AAPL", 1, { limit = 1, tif = "GTC" })
    if id then orders.cancel(id) end
    local now = id and "placed" or ("refused " .. err.code)
    if now ~= last then print("now " .. now) last = now end
  end)
end
function on_error(e) if e.code == "journal" then print("told journal: " .. e.message:sub(1, 80)) end end
"""

CONFIG = """
risk: { max_open_orders: 1000, max_orders_per_minute: 100000 }
account_risk: { max_open_orders: 1000, max_orders_per_minute: 100000 }
"""


def may_not_grow_files():
    # A file grown past RLIMIT_FSIZE sends SIGXFSZ, which kills by default: ignored, the write
    # fails with EFBIG instead, as SQLite sees a full disk or an I/O error.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class Run:
    """`moonwire run` of one strategy against `gateway`, its output collected as it comes."""

    def __init__(self, tmp_path, gateway, source, *extra, preexec_fn=None):
        (tmp_path / "steady.lua").write_text(source)
        (tmp_path / "moonwire.yaml").write_text(CONFIG)
        self.journal = tmp_path / "journal.sqlite"
        self.data = tmp_path / "data"
        self.process = subprocess.Popen(
            [str(BINARY), "run", str(tmp_path / "steady.lua"), "--gateway", f"127.0.0.1:{gateway.port}", "--config",
             str(tmp_path / "moonwire.yaml"), "--journal", str(self.journal), "--no-watch", *extra],
            cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=preexec_fn)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, text, after=0, timeout=60):
        """The index of the first line from `after` on that contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(after, len(self.lines)):
                if text in self.lines[index]:
                    return index
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"the run never printed {text!r} (rc {self.process.poll()}): {''.join(self.lines)[-3000:]}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)


def test_a_journal_that_cannot_grow_closes_trading_then_reopens_by_itself(tmp_path):
    with Gateway("--seed", "5", "--tick-interval-ms", "50") as gateway:
        run = Run(tmp_path, gateway, STEADY, preexec_fn=may_not_grow_files)
        try:
            run.wait_for("now placed")
            # The run may not grow a file past the size its journal's write-ahead log has now:
            # the journal's next growth fails. (The log files stay far below: this test is
            # about the journal, not about a log that cannot be written.)
            limit = run.journal.with_name(run.journal.name + "-wal").stat().st_size
            logs = {str(p): p.stat().st_size for p in run.data.rglob("*") if p.is_file()}
            assert all(size < limit / 2 for size in logs.values()), f"write-ahead log {limit} bytes, other files {logs}"
            resource.prlimit(run.process.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            closed = run.wait_for("now refused journal")
            run.wait_for("told journal: the journal")
            assert run.process.poll() is None, "the run goes on"
            assert not any("journal writable again" in line for line in run.lines)
            # Room again: nobody restarts anything.
            resource.prlimit(run.process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            reopened = run.wait_for("journal writable again: trading reopened", after=closed)
            run.wait_for("told journal: the journal can be written again", after=closed)
            run.wait_for("now placed", after=reopened)
        finally:
            run.stop()
        output = "".join(run.lines)
        assert "summary of steady" in output, f"the run ended as usual after Ctrl-C (rc {run.process.returncode}): {output[-3000:]}"
        assert "SQLite error" in output and "cannot be written" in output, output[-3000:]


FIRST = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = true
  local id, err = orders.buy("AAPL", 5, { limit = math.floor(q.bid / 2), tif = "GTC" })
  print("placed " .. tostring(id) .. " " .. tostring(err and err.message))
end
function on_order(o) print("order " .. o.id .. " " .. o.status) end
"""

SECOND = """
function on_start()
  local ids = {}
  for _, o in ipairs(orders.open()) do ids[#ids + 1] = tostring(o.id) end
  print("open [" .. table.concat(ids, ",") .. "]")
  for _, o in ipairs(orders.open()) do
    local got = orders.get(o.id)
    print("get " .. tostring(got and got.id) .. " " .. tostring(got and got.status))
    print("cancel " .. tostring((orders.cancel(o.id))))
  end
end
function on_order(o) print("order " .. o.id .. " " .. o.status) end
"""


def test_after_a_restart_the_strategy_sees_and_cancels_its_open_order(tmp_path):
    with Gateway("--seed", "5", "--tick-interval-ms", "50") as gateway:
        first = Run(tmp_path, gateway, FIRST)
        try:
            placed = first.wait_for("placed ")
            order_id = re.search(r"placed (\d+) nil", first.lines[placed])
            assert order_id, first.lines[placed]
            order_id = order_id.group(1)
            first.wait_for(f"order {order_id} submitted", after=placed)
        finally:
            first.stop()
        # Stopped while the order rests: the summary says it stays open.
        left = first.wait_for("left open", after=placed, timeout=1)
        assert f"order {order_id} BUY 5 AAPL LMT" in first.lines[left], "".join(first.lines)[-3000:]
        assert "working=1" in gateway.control("status")

        second = Run(tmp_path, gateway, SECOND)
        try:
            second.wait_for(f"open [{order_id}]")
            second.wait_for(f"get {order_id} submitted")
            second.wait_for("cancel true")
            second.wait_for(f"order {order_id} cancelled")
        finally:
            second.stop()
        assert "working=0" in gateway.control("status"), gateway.control("status")
