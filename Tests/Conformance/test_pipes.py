"""Output into a pipe whose reader goes away (`| head`): nothing traps. Foundation's
FileHandle.write traps on EPIPE, and SIGPIPE's default kills the process; a run that trades must
not die because its standard output was closed, and an export into `head` ends quietly."""
import os
import subprocess

from cli_helpers import environment
from gateway_process import BINARY, ROOT


def test_a_run_whose_stdout_reader_goes_away_keeps_running_and_stops_cleanly(tmp_path):
    read, write = os.pipe()
    run = subprocess.Popen([str(BINARY), "run", str(ROOT / "Strategies" / "hello.lua"), "--duration", "3",
                            "--journal", str(tmp_path / "journal.sqlite"), "--status-every", "1"],
                           stdout=write, stderr=subprocess.PIPE, env=environment(tmp_path), cwd=tmp_path)
    os.close(write)
    os.read(read, 1)  # the first byte of its output, then the reader goes away
    os.close(read)
    _, stderr = run.communicate(timeout=60)
    text = stderr.decode(errors="replace")
    assert run.returncode == 0, f"exit {run.returncode}: {text[-2000:]}"
    assert "Fatal error" not in text and "Illegal instruction" not in text, text[-2000:]
    # It kept running after its stdout closed: the status lines on stderr went on to the end.
    assert text.count("connected |") >= 2, text[-2000:]


def test_an_export_into_head_ends_quietly(tmp_path):
    env = environment(tmp_path)
    # More than a pipe holds (64 KiB), so the export is still writing when `head` goes away.
    bars = tmp_path / "bars.csv"
    rows = [f"{1704205800 + 60 * i},100.0,101.0,99.0,100.5,1000" for i in range(5000)]
    bars.write_text("time,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    imported = subprocess.run([str(BINARY), "history", "import", str(bars), "--instrument", "AAPL", "--bar", "1 min"],
                              capture_output=True, text=True, env=env, timeout=60)
    assert imported.returncode == 0, imported.stderr
    export = subprocess.run(f"'{BINARY}' history export AAPL --bar '1 min' | head -c 10 >/dev/null; "
                            "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True, text=True,
                            env=env, timeout=60)
    status = int(export.stdout.strip().splitlines()[-1])
    assert status in (0, 141), f"exit {status}: {export.stderr}"
    assert "Fatal error" not in export.stderr, export.stderr
