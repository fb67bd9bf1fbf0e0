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
