"""What the end-to-end tests of issue 27 (watch reload, reconnect, download retry, log rotation)
share beyond cli_helpers: a short folder for a run, waiting for a line after a point in a
child's output, and the paper gateway's open orders as an outside client (ib_async) sees them."""
import asyncio
import pathlib
import re
import tempfile
import time


def short_folder(prefix):
    """A folder under /tmp: a journal there leaves room for the control socket beside it
    (pytest's own folders can be too long for a Unix socket path)."""
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def stop(process, timeout=30):
    """Kills `process` (one the test started, by its own handle) if it still runs."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=timeout)


def line_count(output, stream):
    """How many lines `stream` of a ChildOutput has so far: a mark to wait after."""
    with output.changed:
        return len([line for line in output.lines[stream] if line is not None])


def wait_after(output, pattern, stream, after, timeout=60):
    """The first match of `pattern` in a line of `stream` at or after line number `after`
    (from `line_count`); fails with what was seen when the stream ends or `timeout` passes."""
    deadline = time.monotonic() + timeout
    with output.changed:
        while True:
            lines = [line for line in output.lines[stream] if line is not None]
            for line in lines[after:]:
                if match := re.search(pattern, line):
                    return match
            ended = bool(output.lines[stream]) and output.lines[stream][-1] is None
            left = deadline - time.monotonic()
            if ended or left <= 0:
                raise AssertionError(f"no line matching {pattern!r} on {stream} after line {after} "
                                     f"({'the stream ended' if ended else f'within {timeout} s'}):\n"
                                     f"--- stdout\n{output._text('stdout')[-4000:]}\n--- stderr\n{output._text('stderr')[-4000:]}")
            output.changed.wait(min(left, 1.0))


def wait_count(output, pattern, stream, count, timeout=60):
    """Waits until `count` lines of `stream` match `pattern`; returns them."""
    deadline = time.monotonic() + timeout
    with output.changed:
        while True:
            lines = [line for line in output.lines[stream] if line is not None and re.search(pattern, line)]
            if len(lines) >= count:
                return lines
            ended = bool(output.lines[stream]) and output.lines[stream][-1] is None
            left = deadline - time.monotonic()
            if ended or left <= 0:
                raise AssertionError(f"{len(lines)} of {count} lines matching {pattern!r} on {stream} "
                                     f"({'the stream ended' if ended else f'within {timeout} s'}):\n"
                                     f"--- stdout\n{output._text('stdout')[-4000:]}\n--- stderr\n{output._text('stderr')[-4000:]}")
            output.changed.wait(min(left, 1.0))


def matching(output, pattern, stream):
    """Every line of `stream` so far that matches `pattern`."""
    return [line for line in output.text(stream).splitlines() if re.search(pattern, line)]


def open_orders_at_gateway(port, client_id=77):
    """The open orders of every client at the gateway on `port`, as ib_async (IB's protocol,
    another client id) reads them: [(order id, orderRef, status)]."""
    from ib_async import IB

    async def ask():
        ib = IB()
        await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=20)
        try:
            trades = await ib.reqAllOpenOrdersAsync()
            return sorted((t.order.orderId, t.order.orderRef, t.orderStatus.status) for t in trades)
        finally:
            ib.disconnect()

    return asyncio.run(asyncio.wait_for(ask(), 60))
