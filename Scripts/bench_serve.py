"""`moonwire serve`'s benchmark (Scripts/bench-serve runs it with the release binary):

1. Event-to-browser latency: a strategy places and cancels a resting order on every quote;
   each `order` message on the WebSocket carries `ts_us`, stamped when the server made it
   from the journaled event; a client reading the stream records (read time - ts_us).
   p50 / p99 / max in milliseconds, over every order message in the window.
2. The cost to trading of connected dashboards: quotes delivered to the strategies per
   second (moonwire_quotes_total over a window, the paper gateway ticking as fast as the
   client reads, 20 instruments), in alternating windows of one run with no WebSocket client
   and with 5 reading clients. Beside it, quotes per CPU-second of the moonwire process (its
   user + system time over the window, all threads, from /proc): what serving the clients
   costs the process itself, which the readers' and other processes' share of a 2-core
   machine does not move.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket

BINARY = sys.argv[1] if sys.argv[1:2] != ["--reader"] else None
WINDOW = float(os.environ.get("BENCH_SERVE_SECONDS", "15"))
TOKEN = "bench-serve-token-0123456789"
SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "META", "NVDA", "TSLA", "JPM", "V", "XOM",
           "JNJ", "PG", "KO", "PEP", "WMT", "DIS", "INTC", "CSCO", "ORCL", "IBM"]


def start(folder, strategy, tick_ms):
    (folder / "s.lua").write_text(strategy)
    # Order limits out of the way (an order and a cancel every few quotes for a minute).
    (folder / "moonwire.yaml").write_text(f"paper_gateway:\n  market:\n    tick_interval_ms: {tick_ms}\n"
                                          "risk:\n  max_orders_per_minute: 100000\n  max_open_orders: 1000\n"
                                          "account_risk:\n  max_orders_per_minute: 100000\n  max_open_orders: 1000\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IB_", "MOONWIRE_"))}
    env.update(MOONWIRE_DATA=str(folder / "data"), XDG_CONFIG_HOME=str(folder / "xdg"), MOONWIRE_HTTP_TOKEN=TOKEN)
    process = subprocess.Popen([BINARY, "serve", "s.lua", "--listen", "127.0.0.1:0", "--no-watch", "--quiet",
                                "--config", str(folder / "moonwire.yaml")], cwd=folder, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"dashboard: (http://127\.0\.0\.1:\d+)/", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, found.group(1)
    process.kill()
    raise SystemExit("serve did not start:\n" + "".join(lines))


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid):
    """User + system CPU time of process `pid` (all its threads), in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds of process `pid`'s threads, by thread name (user + system)."""
    ticks = os.sysconf("SC_CLK_TCK")
    by_name = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            text = open(f"/proc/{pid}/task/{task}/stat").read()
        except OSError:
            continue  # a thread that ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        by_name[(task, name)] = (int(fields[11]) + int(fields[12])) / ticks
    return by_name


def serving_share(before, after):
    """The share of the process's CPU between two `thread_cpu` readings spent in the threads
    that serve HTTP and WebSocket clients: NIO's singleton event loops (Hummingbird's) and the
    Swift concurrency pool (the event stream's tasks); the trading threads are the runtime's
    own NIO loops. (The pool also runs a little of the runtime's async work: an upper bound.)"""
    spent = {key: after[key] - before.get(key, 0.0) for key in after}
    total = sum(spent.values())
    serving = sum(value for (_, name), value in spent.items() if name.startswith("NIO-SGLTN") or "qos" in name)
    return serving / total if total > 0 else 0.0


def quotes_total(base):
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    return sum(float(value) for value in re.findall(r"^moonwire_quotes_total\{[^}]*\} (\S+)$", text, re.M))


def reader(base, stop_at, latencies=None):
    socket = websocket.create_connection(base.replace("http://", "ws://") + "/api/events?token=" + TOKEN, timeout=10)
    count = 0
    try:
        while time.time() < stop_at:
            message = json.loads(socket.recv())
            count += 1
            if latencies is not None and message.get("type") == "order":
                latencies.append(time.time() * 1e6 - message["ts_us"])
    except websocket.WebSocketTimeoutException:
        pass
    finally:
        socket.close()
    return count


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency(folder):
    strategy = """
local working = nil
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if working then orders.cancel(working); working = nil
  else working = orders.buy("AAPL", 1, { limit = 1.00 }) end
end
function on_order(o) end
"""
    process, base = start(folder, strategy, 20)
    try:
        time.sleep(2)
        latencies = []
        reader(base, time.time() + WINDOW, latencies)
    finally:
        stop(process)
    ms = [value / 1000 for value in latencies]
    if not ms:
        raise SystemExit("no order message reached the client: the strategy placed nothing (see its log)")
    print(f"event to WebSocket client: {len(ms)} order messages in {WINDOW:.0f} s; latency p50 {percentile(ms, 0.5):.2f} ms, "
          f"p99 {percentile(ms, 0.99):.2f} ms, max {max(ms):.2f} ms (stamped when made from the journaled event, read by a Python client)")


def throughput(folder, rounds=4):
    """Quotes/s in alternating windows of one run: no client, 5 reading clients, no client, ...
    (one process: no drift between two runs' markets or machine load in the comparison)."""
    subscribe = "\n".join(f'  market.subscribe("{symbol}")' for symbol in SYMBOLS)
    strategy = f"function on_start()\n{subscribe}\nend\nfunction on_quote(q) end\n"
    process, base = start(folder, strategy, 0)
    alone, watched = [], []
    alone_cpu, watched_cpu = [], []
    alone_share, watched_share = [], []
    try:
        time.sleep(3)
        clients_on = int(os.environ.get("BENCH_SERVE_CLIENTS", "5"))  # 0: an A/A control of the drift
        for round in range(rounds):
            # A B, then B A: a drift over the run (a market and a journal that grow) falls on both.
            order = (((0, alone, alone_cpu, alone_share), (clients_on, watched, watched_cpu, watched_share)) if round % 2 == 0
                     else ((clients_on, watched, watched_cpu, watched_share), (0, alone, alone_cpu, alone_share)))
            for clients, into, into_cpu, into_share in order:
                # The readers are processes of their own at the lowest priority: a dashboard's
                # browser is usually on another machine, and on this 2-core VM five Python
                # readers would otherwise take CPU from the run itself, which is not the cost
                # of serving them.
                readers = [subprocess.Popen(["nice", "-n", "19", sys.executable, __file__, "--reader", base, str(WINDOW + 3.5)])
                           for _ in range(clients)]
                # The readers start (five Python processes importing their modules), connect and
                # get their hello before the window opens: what is measured is serving them.
                time.sleep(3)
                first, started, cpu, threads = quotes_total(base), time.time(), cpu_seconds(process.pid), thread_cpu(process.pid)
                time.sleep(WINDOW)
                quotes = quotes_total(base) - first
                into.append(quotes / (time.time() - started))
                into_cpu.append(quotes / (cpu_seconds(process.pid) - cpu))
                into_share.append(serving_share(threads, thread_cpu(process.pid)))
                for each in readers:
                    try:
                        each.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        each.kill()
    finally:
        stop(process)
    mean = lambda values: sum(values) / len(values)
    return mean(alone), mean(watched), mean(alone_cpu), mean(watched_cpu), mean(alone_share), mean(watched_share)


if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[1] == "--reader":
    reader(sys.argv[2], time.time() + float(sys.argv[3]))
    sys.exit(0)

if __name__ == "__main__":
    import pathlib
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        for name in ("latency", "throughput"):
            (root / name).mkdir()
        latency(root / "latency")
        alone, watched, alone_cpu, watched_cpu, alone_share, watched_share = throughput(root / "throughput")
        clients = int(os.environ.get("BENCH_SERVE_CLIENTS", "5"))
        print(f"quotes delivered to the strategy (20 instruments, gateway ticking as fast as read; {WINDOW:.0f} s windows of one run, ABBA "
              f"order): {alone:,.0f} quotes/s with no dashboard, {watched:,.0f} quotes/s with {clients} WebSocket clients reading (at nice 19) "
              f"({(watched / alone - 1) * 100:+.1f} %)")
        print(f"quotes per CPU-second of the moonwire process (user + system, all threads): {alone_cpu:,.0f} with no dashboard, "
              f"{watched_cpu:,.0f} with {clients} clients ({(watched_cpu / alone_cpu - 1) * 100:+.1f} %)")
        print(f"the process's CPU spent in the threads that serve clients (NIO's singleton loops, the Swift concurrency pool): "
              f"{watched_share * 100:.2f} % with {clients} clients, {alone_share * 100:.2f} % with none")
