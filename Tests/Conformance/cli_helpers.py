"""What the tests of the `moonwire` command line share: an environment that keeps a test's
data, config and IB settings to itself, and reading a child's pseudo-terminal."""
import os
import re
import select
import threading
import time


def environment(tmp_path, **extra):
    """The test's own data folder and config folder; no IB_* / IBKR_* / MOONWIRE_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IB_", "IBKR_", "MOONWIRE_"))}
    env["MOONWIRE_DATA"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env.update(extra)
    return env


def read_terminal(process, master, timeout=30):
    """Everything `process` writes to the pty whose master is `master`, until it exits (bounded)."""
    seen = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=timeout)
    os.close(master)
    return seen.decode(errors="replace")


# Six one-minute bars on 2024-01-02 from 14:30 UTC, small enough to work every fill out by hand
# (the backtest and replay tests; BacktestRunTests.swift has the same bars).
HAND_BARS = """time,open,high,low,close,volume
2024-01-02T14:30:00Z,100.00,100.50,99.50,100.20,1000
2024-01-02T14:31:00Z,100.30,101.00,100.10,100.90,1000
2024-01-02T14:32:00Z,101.00,101.40,100.60,101.20,1000
2024-01-02T14:33:00Z,101.10,101.30,98.80,99.00,1000
2024-01-02T14:34:00Z,98.50,99.20,98.00,99.10,1000
2024-01-02T14:35:00Z,99.20,102.50,99.10,102.00,1000
"""


class ChildOutput:
    """A child's stdout and stderr, line by line, as they come (two threads: neither pipe can
    fill and block the child), so a test can wait for a line instead of sleeping."""

    def __init__(self, process):
        self.process = process
        self.lines = {"stdout": [], "stderr": []}
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self._pump, args=(name, getattr(process, name)), daemon=True)
                        for name in ("stdout", "stderr")]
        for thread in self.threads:
            thread.start()

    def _pump(self, name, stream):
        for line in stream:
            with self.changed:
                self.lines[name].append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.lines[name].append(None)  # the end of the stream
            self.changed.notify_all()

    def text(self, name):
        with self.changed:
            return self._text(name)

    def _text(self, name):
        return "\n".join(line for line in self.lines[name] if line is not None)

    def wait_for(self, pattern, stream, timeout=60):
        """The first match of `pattern` in a line of `stream`; fails with what was seen when the
        stream ends or `timeout` passes first."""
        return self.wait_for_any(pattern, (stream,), timeout)[0]

    def wait_for_any(self, pattern, streams, timeout=60):
        """(match, stream): the first match of `pattern` in a line of any of `streams`; fails
        with what was seen when they all end or `timeout` passes first."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for stream in streams:
                    for line in self.lines[stream]:
                        if line is not None and (match := re.search(pattern, line)):
                            return match, stream
                ended = all(self.lines[stream] and self.lines[stream][-1] is None for stream in streams)
                left = deadline - time.monotonic()
                if ended or left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} on {' or '.join(streams)} "
                                         f"({'the stream ended' if ended else f'within {timeout} s'}):\n"
                                         f"--- stdout\n{self._text('stdout')[-4000:]}\n--- stderr\n{self._text('stderr')[-4000:]}")
                self.changed.wait(min(left, 1.0))

    def finish(self, timeout=60):
        """Waits (bounded) for the exit and both streams' ends; returns the exit status."""
        status = self.process.wait(timeout=timeout)
        for thread in self.threads:
            thread.join(timeout=timeout)
        return status
