"""The reconciliation after a REAL reconnect, through the binary (README: the connection manager
reconnects on socket loss; "At startup and after every reconnect it reconciles: open and
completed orders, executions (fills made while away are recorded once), positions, account";
orders are refused with code `reconciling`, and `on_error` told once, from the drop until the
reconciliation after the reconnect is done).

A `moonwire run` trades against a separate `moonwire gateway` with a state file. The gateway
process is stopped (SIGTERM) or killed (SIGKILL, a crash) by its pid and started again on the
same port from the same state file: the run reconnects by itself, the resting order is still
known (to the strategy and at the gateway), and trading reopens. In the second test the order fills at the gateway while no
client can connect (the restarted gateway refuses connections for a few seconds: the
`restart` fault from its config): the fill reaches `on_fill` once, also when the gateway sends
its executions again.

Every wait is on an output line or the gateway's answer, bounded; only processes started here
are stopped, by their pid."""
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from cli_e2e import line_count, matching, open_orders_at_gateway, short_folder, stop, wait_after
from cli_helpers import ChildOutput, environment
from gateway_process import BINARY

# Rests one buy of 1 AAPL at half the bid; says what it sees of the connection. While the
# connection is lost it tries an order (refused: `reconciling`); once restored it tries one
# every 0.1 s until one is taken (trading reopened after the reconciliation) and says what it
# knows then.
STRATEGY = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if q.bid then last_bid = q.bid end
  if placed or not q.bid then return end
  limit = math.floor(q.bid * 50) / 100
  placed = orders.buy("AAPL", 1, { limit = limit })
end
function on_order(o)
  if o.id == placed and o.status == "submitted" and not told then
    told = true
    print(string.format("resting order %d at %.2f", o.id, limit))
  end
  if o.status == "filled" then print("on_order " .. o.id .. " filled") end
end
function on_fill(f)
  print(string.format("on_fill order %d %s %s exec %s", f.order_id, f.side, tostring(f.qty), f.exec_id))
end
function on_error(e) print("on_error " .. e.code .. ": " .. e.message) end
function probe()
  local id, err = orders.buy("AAPL", 1, { limit = math.floor(last_bid * 50) / 100 })
  if id then
    timer.cancel(probing)
    probing = nil
    local position = account.position("AAPL")
    print(string.format("trading reopened: probe order %d; order %d is %s; open orders %d; position %s",
      id, placed, orders.get(placed).status, #orders.open(), tostring(position and position.qty or 0)))
  elseif err.code ~= "reconciling" then
    print("probe refused " .. err.code .. ": " .. err.message)
  end
end
function on_connection(state)
  print("connection " .. state)
  if state == "lost" then
    local id, err = orders.buy("AAPL", 1, { limit = limit })
    print("an order while the connection is lost: " .. (id and ("placed " .. id) or ("refused " .. err.code)))
  elseif state == "restored" and not probing then
    probing = timer.every(0.1, probe)
  end
end
"""


class RestartableGateway:
    """`moonwire gateway` on loopback with a state file, keeping its port across restarts (the
    first start picks a free one). Its output goes to a file (nothing blocks on a full pipe)."""

    def __init__(self, folder, seed):
        self.folder = folder
        self.seed = seed
        self.port = 0
        self.control_port = None
        self.process = None
        self.starts = 0

    def start(self, *extra):
        self.starts += 1
        log = self.folder / f"gateway-{self.starts}.out"
        with open(log, "w") as sink:
            self.process = subprocess.Popen(
                [str(BINARY), "gateway", "--host", "127.0.0.1", "--port", str(self.port), "--control-port", "0",
                 "--seed", str(self.seed), "--tick-interval-ms", "50", "--state-file", str(self.folder / "paper-state.sqlite"), *extra],
                cwd=self.folder, env=environment(self.folder), stdout=sink, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = log.read_text()
            listening = re.search(r"listening on [\d.]+:(\d+)", text)
            control = re.search(r"control port [\d.]+:(\d+)", text)
            if listening and control:
                assert self.port in (0, int(listening.group(1))), f"the gateway came back on another port: {text}"
                self.port, self.control_port = int(listening.group(1)), int(control.group(1))
                return
            if self.process.poll() is not None:
                raise AssertionError(f"moonwire gateway exited with {self.process.returncode}: {text}")
            time.sleep(0.05)
        raise AssertionError(f"moonwire gateway did not say its ports in 30 s: {log.read_text()}")

    def control(self, command):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            sock.sendall((command + "\n").encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.decode().strip()

    def status(self, key):
        reply = self.control("status")
        match = re.search(rf"\b{key}=(\d+)", reply)
        assert match, reply
        return int(match.group(1))

    def stop(self, how=signal.SIGTERM):
        """`how` to this gateway's pid: SIGTERM stops it (as TWS is restarted), SIGKILL ends it
        at once (a crash: only what its state file already holds comes back)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def wait_until(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def start_run(folder, gateway):
    (folder / "rest.lua").write_text(STRATEGY)
    # Reconnect attempts at most 2 s apart (the default backoff doubles to 60 s).
    (folder / "run.yaml").write_text("connection:\n  backoff_base: 0.5\n  backoff_cap: 2\n")
    process = subprocess.Popen([str(BINARY), "run", "rest.lua", "--config", str(folder / "run.yaml"),
                                "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "1", "--journal", str(folder / "journal.sqlite"),
                                "--no-watch", "--status-every", "0", "--verbose"],
                               cwd=folder, env=environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, ChildOutput(process)


def lose_the_gateway(output, gateway, how):
    """Stops the gateway (`how`: the signal); checks that the run saw the drop and closed
    trading (code reconciling)."""
    mark = line_count(output, "stderr")
    gateway.stop(how)
    wait_after(output, r"connection lost", "stderr", mark)
    refused = wait_after(output, r"an order while the connection is lost: (.*)", "stderr", mark).group(1)
    assert refused == "refused reconciling", f"an order while the connection is lost: {refused} (README: refused, code reconciling)"
    wait_after(output, r"on_error reconciling: ", "stderr", mark)
    return mark


def connection_events(journal):
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return [kind for (kind,) in db.execute("SELECT kind FROM connection_events ORDER BY rowid")]


def finish(run, output):
    run.send_signal(signal.SIGINT)
    status = output.finish(timeout=60)
    out, err = output.text("stdout"), output.text("stderr")
    assert status == 130, f"Ctrl-C ends the run with 130, got {status}\n{out}\n{err[-3000:]}"
    return out, err


# The gateway stopped (SIGTERM) or killed (SIGKILL, a crash) before it starts again.
ENDINGS = pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])


@ENDINGS
def test_a_resting_order_is_still_known_after_the_gateway_restarts(how):
    folder = short_folder("mw-recon-")
    gateway = RestartableGateway(folder, seed=21)
    run = None
    try:
        gateway.start()
        run, output = start_run(folder, gateway)
        order, limit = wait_after(output, r"resting order (\d+) at ([\d.]+)", "stderr", 0, timeout=90).groups()
        assert gateway.status("working") == 1

        mark = lose_the_gateway(output, gateway, how)
        gateway.start()  # the same port, the same state file
        wait_after(output, r"reconnecting to 127\.0\.0\.1:\d+ in [\d.]+ s", "stderr", mark)
        wait_after(output, r"ready: server version \d+, .*\(reconnected\)", "stderr", mark)
        wait_after(output, r"connection restored", "stderr", mark)
        reopened = wait_after(output, r"trading reopened: probe order (\d+); order (\d+) is (\w+); open orders (\d+); position (\S+)",
                              "stderr", mark)
        probe, known, status, open_count, position = reopened.groups()
        assert known == order and status == "submitted", f"after the reconnect the order is {status}: {reopened.group(0)}"
        assert open_count == "2" and position == "0", reopened.group(0)

        # At the gateway: the order rests on, under its id; the probe beside it (the strategy
        # counts the probe as it places it, before it reaches the gateway: wait for it there).
        expected = sorted([int(order), int(probe)])
        wait_until(lambda: [entry[0] for entry in open_orders_at_gateway(gateway.port)] == expected, "the probe at the gateway")
        at_gateway = open_orders_at_gateway(gateway.port)
        assert [entry[0] for entry in at_gateway] == expected, at_gateway
        assert all(entry[1].startswith("mw:rest:") for entry in at_gateway), at_gateway

        out, err = finish(run, output)
        assert len(matching(output, r"on_error reconciling: ", "stderr")) == 1, f"on_error (reconciling) is told once a drop:\n{err[-3000:]}"
        assert not matching(output, r"probe refused", "stderr"), err[-3000:]
        assert not matching(output, r"on_fill", "stderr"), "nothing filled"
        assert re.search(rf"left open\s+order {order} BUY 1 AAPL LMT ", out), out
        events = connection_events(folder / "journal.sqlite")
        assert events[:1] == ["connected"] and "lost" in events and events.index("restored") > events.index("lost"), events
    finally:
        stop(run)
        gateway.stop()
        shutil.rmtree(folder, ignore_errors=True)


@ENDINGS
def test_a_fill_while_disconnected_reaches_on_fill_once(how):
    folder = short_folder("mw-recon-")
    gateway = RestartableGateway(folder, seed=22)
    run = None
    try:
        gateway.start()
        run, output = start_run(folder, gateway)
        order, limit = wait_after(output, r"resting order (\d+) at ([\d.]+)", "stderr", 0, timeout=90).groups()

        mark = lose_the_gateway(output, gateway, how)
        # Back from the same state, refusing connections (for up to a minute; ended below once
        # the order has filled): the order fills meanwhile, with no client there to hear it.
        (folder / "gateway.yaml").write_text("paper_gateway:\n  faults: [\"restart 60\"]\n")
        gateway.start("--config", str(folder / "gateway.yaml"))
        assert gateway.status("working") == 1, "the restarted gateway works the order from its state file"
        assert gateway.control(f"price AAPL {float(limit) * 0.8:.2f}").startswith("ok")
        wait_until(lambda: gateway.status("executions") == 1 and gateway.status("working") == 0, "the order filled at the gateway")
        assert gateway.status("clients") == 0, "the fill happened while no client was connected"
        assert gateway.control("restart 0").startswith("ok"), "connections are let in again"

        wait_after(output, r"connection restored", "stderr", mark, timeout=60)
        fill = wait_after(output, rf"on_fill order {order} BUY 1(\.0)? exec (\S+)", "stderr", mark)
        execution = fill.group(2)
        reopened = wait_after(output, r"trading reopened: probe order (\d+); order (\d+) is (\w+); open orders (\d+); position (\S+)",
                              "stderr", mark)
        probe = reopened.group(1)

        # TWS may send executions again after a reconnect: the fill is the same one, not told again.
        assert gateway.control("replay-executions") == "ok replayed 1"
        # Then the probe fills: its on_fill comes after the replayed execution on the same socket.
        assert gateway.control(f"price AAPL {float(limit) * 0.1:.2f}").startswith("ok")
        wait_after(output, rf"on_fill order {probe} BUY", "stderr", mark)

        out, err = finish(run, output)
        fills = matching(output, rf"on_fill order {order} ", "stderr")
        assert len(fills) == 1, f"the fill made while disconnected reached on_fill {len(fills)} times:\n{err[-3000:]}"
        assert len(matching(output, rf"on_order {order} filled", "stderr")) == 1, err[-3000:]
        assert len(matching(output, r"on_error reconciling: ", "stderr")) == 1, f"on_error (reconciling) is told once a drop:\n{err[-3000:]}"
        assert not matching(output, r"probe refused", "stderr"), err[-3000:]
        with sqlite3.connect(f"file:{folder / 'journal.sqlite'}?mode=ro", uri=True) as db:
            recorded = db.execute("SELECT COUNT(*) FROM executions WHERE order_id = ?", (int(order),)).fetchone()[0]
        assert recorded == 1, f"the journal holds the fill made while away {recorded} times (exec {execution})"
        assert re.search(r"left open\s+no orders", out), out
    finally:
        stop(run)
        gateway.stop()
        shutil.rmtree(folder, ignore_errors=True)
