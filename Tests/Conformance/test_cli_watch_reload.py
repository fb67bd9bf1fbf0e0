"""Hot reload through the file watcher of `moonwire run`, as a user runs it (README, "Hot
reload"): with the built-in paper gateway watching is on by default (no `--watch`, no
`--no-watch`); saving the file, by an atomic rename as editors do or by writing it in place,
swaps the code between two events; `store`, the open order and the subscription carry over
(`on_reload(store)` runs in the new code); a save that does not compile leaves the old code
running, names the error (file:line), tells the old code's `on_error` (code `reload`), and the
next good save reloads.

Every wait is on an output line, bounded; the order is checked at the gateway itself, by
another client (ib_async)."""
import os
import re
import shutil
import signal
import sqlite3
import subprocess

from cli_e2e import line_count, matching, open_orders_at_gateway, short_folder, stop, wait_after, wait_count
from cli_helpers import ChildOutput, environment
from gateway_process import BINARY

# v1 counts the quotes it handled in `store` (journaled: it survives reloads and restarts) and
# rests one buy of 1 AAPL at half the bid (it never fills), its id in `store` too. A global of
# v1 (`v1_global`) must not be seen by later code: a reload runs in a fresh environment.
V1 = """
v1_global = "set by v1"
function on_start()
  store.quotes = store.quotes or 0
  market.subscribe("AAPL")
  print("v1 started")
end
function on_quote(q)
  store.quotes = store.quotes + 1
  if not store.order and q.bid then
    store.order = orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
  end
end
function on_order(o)
  if o.id == store.order and o.status == "submitted" and not told then
    told = true
    print("v1 resting order " .. o.id .. " after " .. store.quotes .. " quotes")
  end
end
"""


def later_version(name):
    """The code of version `name`: it says what it took over in on_reload (the store's count and
    order, the order's status, the open orders), and its first quote; its on_error names a
    failed reload, and the first quote it handles after that says the old code still runs."""
    return f"""
function on_reload(store)
  local order = store.order and orders.get(store.order)
  print(string.format("{name} reloaded: quotes %d, order %s %s, open orders %d, v1 global %s",
    store.quotes, tostring(store.order), order and order.status or "none", #orders.open(), tostring(v1_global)))
end
function on_quote(q)
  store.quotes = store.quotes + 1
  if not said then said = true; print("{name} handled a quote: quotes " .. store.quotes) end
  if after_failed_reload then
    after_failed_reload = false
    print("{name} still runs after the failed reload: quotes " .. store.quotes)
  end
end
function on_order(o) print("{name} on_order " .. o.id .. " " .. o.status) end
function on_error(e)
  print("{name} on_error " .. e.code .. ": " .. e.message)
  if e.code == "reload" then after_failed_reload = true end
end
"""


# Does not compile: line 3 is `if then`.
BROKEN = """-- a save in the middle of an edit
function on_quote(q)
  if then
end
"""


def save_by_rename(path, text):
    """What vim and most editors do: write a new file beside it, rename it over the old one."""
    temporary = path.with_name(path.name + ".saving")
    temporary.write_text(text)
    os.replace(temporary, path)


def save_in_place(path, text):
    """Truncate and write the same file (the editors that keep the inode)."""
    with open(path, "w") as file:
        file.write(text)


def reloaded(output, expected):
    """Waits for the run's `expected`-th `reloaded r.lua (hash ..., swap ... ms)` line on stdout."""
    return wait_count(output, r"reloaded r\.lua \(hash [0-9a-f]+, swap [\d.]+ ms\)", "stdout", expected)


def took_over(output, name, mark, order, quotes_before):
    """Checks what version `name` said in on_reload after line `mark` of stderr: the store's
    count at least what was counted before, the same order still submitted, one open order,
    no v1 global."""
    match = wait_after(output, rf"{name} reloaded: quotes (\d+), order (\S+) (\S+), open orders (\d+), v1 global (.+)$", "stderr", mark)
    quotes, kept_order, status, open_count, v1_global = match.groups()
    assert int(quotes) >= quotes_before, f"{name}: the store's count went back: {quotes} < {quotes_before} (store lost?)"
    assert kept_order == order, f"{name}: store.order is {kept_order}, the order placed was {order}"
    assert status == "submitted", f"{name}: the order placed by v1 is {status} after the reload"
    assert open_count == "1", f"{name}: orders.open() lists {open_count} orders"
    assert v1_global == "nil", f"{name}: a global of v1 survived the reload ({v1_global}): no fresh environment"
    return int(quotes)


def one_order_at_gateway(port, order):
    """The gateway works exactly the one order, under its id and the strategy's orderRef."""
    orders = open_orders_at_gateway(port)
    assert len(orders) == 1, f"the gateway works {orders}: one order was placed and none cancelled"
    order_id, order_ref, status = orders[0]
    assert order_id == int(order) and order_ref.startswith("mw:r:"), orders
    assert status in ("Submitted", "PreSubmitted"), orders


def test_saving_the_file_reloads_it_keeping_store_order_and_subscription():
    folder = short_folder("mw-watch-")
    strategy = folder / "r.lua"
    strategy.write_text(V1)
    run = None
    try:
        # No --watch, no --no-watch: the built-in paper gateway watches by default.
        run = subprocess.Popen([str(BINARY), "run", str(strategy), "--journal", str(folder / "journal.sqlite"), "--status-every", "0"],
                               cwd=folder, env=environment(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = ChildOutput(run)
        started = wait_after(output, r"running r \(.*\) on 127\.0\.0\.1:(\d+),.*; saving the file reloads it", "stdout", 0, timeout=90)
        port = int(started.group(1))
        resting = wait_after(output, r"v1 resting order (\d+) after (\d+) quotes", "stderr", 0)
        order, quotes = resting.group(1), int(resting.group(2))
        one_order_at_gateway(port, order)

        # 1. An atomic rename, as editors save.
        mark = line_count(output, "stderr")
        save_by_rename(strategy, later_version("v2"))
        reloaded(output, 1)
        quotes = took_over(output, "v2", mark, order, quotes)
        # The subscription carried over: the new code gets quotes, counting on from the store.
        counted = int(wait_after(output, r"v2 handled a quote: quotes (\d+)", "stderr", mark).group(1))
        assert counted > quotes, (counted, quotes)
        one_order_at_gateway(port, order)

        # 2. Written in place (truncate and write).
        mark = line_count(output, "stderr")
        save_in_place(strategy, later_version("v3"))
        reloaded(output, 2)
        quotes = took_over(output, "v3", mark, order, counted)
        counted = int(wait_after(output, r"v3 handled a quote: quotes (\d+)", "stderr", mark).group(1))
        assert counted > quotes, (counted, quotes)

        # 3. A save that does not compile: v3 runs on, the error is named with file:line and
        # told to v3's on_error (code reload).
        mark = line_count(output, "stderr")
        save_in_place(strategy, BROKEN)
        failure = wait_after(output, r"reload of r\.lua failed, the old code keeps running: (.*)", "stderr", mark).group(1)
        assert re.search(r"r\.lua:3:", failure), f"the error names the file and line: {failure}"
        told = wait_after(output, r"v3 on_error reload: (.*)", "stderr", mark).group(1)
        assert "r.lua:3:" in told, told
        still = int(wait_after(output, r"v3 still runs after the failed reload: quotes (\d+)", "stderr", mark).group(1))
        assert still > counted, (still, counted)
        assert len(matching(output, r"reloaded r\.lua", "stdout")) == 2, "a save that does not compile is no reload"
        one_order_at_gateway(port, order)

        # 4. The next good save reloads (by rename again).
        mark = line_count(output, "stderr")
        save_by_rename(strategy, later_version("v4"))
        reloaded(output, 3)
        took_over(output, "v4", mark, order, still)
        wait_after(output, r"v4 handled a quote", "stderr", mark)
        one_order_at_gateway(port, order)

        run.send_signal(signal.SIGINT)
        status = output.finish(timeout=60)
        out, err = output.text("stdout"), output.text("stderr")
        assert status == 130, f"Ctrl-C ends the run with 130, got {status}\n{out}\n{err[-3000:]}"
        # One save, one reload: no save was loaded twice, and none of the code ran on_start again.
        for name in ("v2", "v3", "v4"):
            assert len(matching(output, rf"{name} reloaded:", "stderr")) == 1, f"{name} reloaded more than once:\n{err[-3000:]}"
        assert len(matching(output, r"reloaded r\.lua", "stdout")) == 3, out
        assert len(matching(output, r"v1 started", "stderr")) == 1, "on_start ran again on a reload"
        assert re.search(r"left open\s+order " + order + r" BUY 1 AAPL LMT ", out), out
        # Each reload is journaled with its file hash and outcome: three good ones, the broken save failed.
        with sqlite3.connect(f"file:{folder / 'journal.sqlite'}?mode=ro", uri=True) as db:
            journaled = [detail for (detail,) in db.execute("SELECT detail FROM strategy_events WHERE strategy = 'r' AND kind = 'reload' ORDER BY rowid")]
        outcomes = [detail.split(" ", 1)[0] for detail in journaled]
        assert outcomes == ["ok", "ok", "failed", "ok"], journaled
        hashes = re.findall(r"hash ([0-9a-f]+)", out)
        assert [re.search(r"hash=([0-9a-f]+)", detail).group(1) for detail in journaled if detail.startswith("ok")] == hashes, (journaled, hashes)
        assert "r.lua:3:" in journaled[2], journaled[2]
    finally:
        stop(run)
        shutil.rmtree(folder, ignore_errors=True)
