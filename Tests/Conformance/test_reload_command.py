"""`moonwire reload` (SIGHUP) makes a running `moonwire run` load its file again, and prints it."""
import pathlib
import shutil
import subprocess
import tempfile
import time

from cli_helpers import ChildOutput
from gateway_process import BINARY, ROOT


def test_reload_command():
    # The control socket goes next to the journal when the path leaves room for it (pytest's
    # own folders can be too long).
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mw-", dir="/tmp"))
    strategy = folder / "r.lua"
    strategy.write_text("function on_start() log.info('v1') end\n")
    journal = folder / "r.sqlite"
    run = subprocess.Popen([str(BINARY), "run", str(strategy), "--no-watch", "--journal", str(journal)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = ChildOutput(run)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list(folder.glob("r.sqlite.control/*.sock")):
            time.sleep(0.1)
        sockets = list(folder.glob("r.sqlite.control/*.sock"))
        assert sockets and oct(sockets[0].stat().st_mode & 0o777) == "0o600", "the control socket is the owner's only"
        output.wait_for(r"\bv1\b", "stderr", timeout=30)  # the strategy runs
        # --no-watch: saving alone does nothing; the command does. A watcher reloads 10 ms after
        # a save: half a second is fifty times that (the reload count below would be 2).
        strategy.write_text("function on_reload() log.info('v2 by command') end\n")
        time.sleep(0.5)
        reload = subprocess.run([str(BINARY), "reload", "--journal", str(journal)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert reload.returncode == 0, reload.stderr
        assert "r: reloaded" in reload.stdout, reload.stdout
        status = subprocess.run([str(BINARY), "status", "--journal", str(journal)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert status.returncode == 0, status.stderr
        assert "trading open" in status.stdout and "  r: " in status.stdout, status.stdout
        output.wait_for(r"v2 by command", "stderr", timeout=30)
        halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert halt.returncode == 0, halt.stderr
        assert "halted: no order leaves any more" in halt.stdout, halt.stdout
        run.wait(timeout=60)
        output.finish(timeout=30)
        out, err = output.text("stdout"), output.text("stderr")
        assert not list(folder.glob("r.sqlite.control/*")), "the run removes its socket and registration"
        assert out.count("reloaded r.lua") == 1, out
        assert "v2 by command" in err
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        shutil.rmtree(folder, ignore_errors=True)


def test_reload_without_a_run_is_a_clear_error(tmp_path):
    result = subprocess.run([str(BINARY), "reload", "--journal", str(tmp_path / "none.sqlite")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert "no running `moonwire run` with journal" in result.stderr
    assert "Usage" not in result.stderr


# A stale control socket (a killed run's): test_control_channel.py.


def test_state_command_prints_the_reconciled_state(tmp_path):
    import json
    from gateway_process import Gateway
    with Gateway("--seed", "3") as gateway:
        assert gateway.control("position MSFT 30 400").startswith("ok")
        result = subprocess.run([str(BINARY), "state", "--journal", str(tmp_path / "s.sqlite"), "--gateway", f"127.0.0.1:{gateway.port}",
                                 "--client-id", "5", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state["positions"] == [{"symbol": "MSFT", "quantity": 30.0}] or state["report"]["unexplained"]["MSFT"]["reported"] == 30
    assert state["trading_allowed"] is False, "a position the journal cannot explain closes trading"
    bad = subprocess.run([str(BINARY), "state", "--journal", str(tmp_path / "s.sqlite"), "--gateway", "nowhere"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0 and "is not HOST:PORT" in bad.stderr
