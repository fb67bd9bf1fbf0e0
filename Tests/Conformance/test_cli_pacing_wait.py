"""A download of small bars that reaches IB's pacing window (60 requests in 10 minutes) says
what it waits for and until when, and Ctrl-C during that wait ends it within 2 s, keeping
what was stored (issue 24: it printed "interrupted" and exited 532 s later)."""
import re
import signal
import subprocess
import time

from cli_helpers import ChildOutput, environment
from gateway_process import BINARY, Gateway
from test_history_download import stored


def test_ctrl_c_during_a_pacing_wait_ends_within_2_s_and_keeps_the_bars(tmp_path):
    with Gateway("--seed", "5") as gateway:
        # Five days of 5-second bars: 120 requests of an hour each, paced at six per two
        # seconds; the 61st waits for the ten-minute window.
        process = subprocess.Popen([str(BINARY), "history", "AAPL", "--from", "2024-01-08", "--to", "2024-01-13", "--bar", "5 secs",
                                    "--gateway", f"127.0.0.1:{gateway.port}", "--store", str(tmp_path / "bars.sqlite")],
                                   cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output = ChildOutput(process)
        try:
            # Before any wait, the time left counts the waits the pacing will make: 120 requests
            # need two ten-minute windows, so more than 9 minutes, said as the pacing's doing
            # (before, it was the pace of the first answers: "about 36 s left").
            left = output.wait_for_any(r"AAPL: \d+/120 requests, \d+ bars, about (\d+) (s|min) left(.*)", ("stdout", "stderr"), timeout=120)[0]
            assert left.group(2) == "min" and int(left.group(1)) >= 9, left.group(0)
            assert "IB's pacing of bars of 30 s or less: 60 requests in 10 min" in left.group(3), left.group(0)
            said = output.wait_for_any(r"waiting for IB's pacing window .*: next request at (\d\d):(\d\d):(\d\d) \(in (\d+) s\)",
                                       ("stdout", "stderr"), timeout=120)[0]
            # The wait said is the long one (minutes, not the 2-second rule), and names its end.
            assert int(said.group(4)) >= 60, said.group(0)
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        text = output.text("stdout") + "\n" + output.text("stderr")
        assert process.returncode == 130, text
        # The window said was a minute or more away: exiting well before it is exiting at once
        # (a generous ceiling a loaded machine meets).
        assert took < min(15, int(said.group(4)) / 2), f"exited {took:.2f} s after Ctrl-C\n{text}"
        assert "interrupted: what was stored stays" in text, text
        assert stored(tmp_path).get("AAPL", 0) > 0, text
        # And says how much: the count the store holds.
        kept = re.search(r"AAPL: (\d+) 5 secs bars stored in all; not finished \(the same command resumes it\)", text)
        assert kept and int(kept.group(1)) == stored(tmp_path)["AAPL"], text
