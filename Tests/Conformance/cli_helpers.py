"""What the tests of the `moonwire` command line share: an environment that keeps a test's
data, config and IB settings to itself, and reading a child's pseudo-terminal."""
import os
import select
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
