"""`moonwire connect` says what TWS reports about itself or what is wrong; `moonwire quote`
shows a quote table, once or redrawn in place."""
import os
import pty
import re
import socket
import subprocess
import time

from cli_helpers import environment, read_terminal
from gateway_process import BINARY, Gateway


def moonwire(tmp_path, *args, timeout=60):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=timeout)


def test_connect_prints_what_tws_reports(tmp_path):
    with Gateway("--seed", "2") as gateway:
        result = moonwire(tmp_path, "connect", "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "17")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"connecting to 127.0.0.1:{gateway.port} (client id 17)..." in out
    for pattern in (rf"port\s+{gateway.port}", r"client id\s+17", r"server version\s+200", r"accounts\s+DU1234567", r"kind\s+paper",
                    r"market data\s+live \(type 1\)", r"connected in\s+\d+\.\d{3} s", r"TWS time\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
                    r"clock offset\s+[+-]\d+ s"):
        assert re.search(pattern, out), (pattern, out)


def test_connect_explains_what_is_wrong(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = moonwire(tmp_path, "connect", "--gateway", f"127.0.0.1:{port}")
    assert refused.returncode == 1 and "connection refused" in refused.stderr and "Enable ActiveX and Socket Clients" in refused.stderr
    with Gateway("--seed", "2") as gateway:
        holder = subprocess.Popen([str(BINARY), "quote", "AAPL", "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "5", "--seconds", "20"],
                                  cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 20
            while time.time() < deadline and "AAPL" not in (line := holder.stdout.readline()):
                pass
            in_use = moonwire(tmp_path, "connect", "--gateway", f"127.0.0.1:{gateway.port}", "--client-id", "5")
        finally:
            holder.terminate()
            holder.wait(timeout=10)
    assert in_use.returncode == 1 and "client id 5 is already in use" in in_use.stderr and "--client-id 6" in in_use.stderr, in_use.stderr


def test_quote_once_prints_a_table_of_every_instrument(tmp_path):
    result = moonwire(tmp_path, "quote", "AAPL", "EUR.USD", "ES 202612", "^SPX", "NOSUCH", "--once")
    # The unknown one is a failure a script must see (exit 1, named on stderr); the table still has every row.
    assert result.returncode == 1 and "NOSUCH" in result.stderr, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.match(r"instrument\s+bid\s+ask\s+last\s+bid size\s+ask size\s+volume\s+change\s+change %", lines[0]), lines[0]
    rows = {line.split("  ")[0].strip(): line for line in lines[1:]}
    assert set(rows) == {"AAPL", "EUR.USD", "ES 202612", "^SPX", "NOSUCH"}, rows
    assert re.search(r"AAPL\s+18\d\.\d\d\s+18\d\.\d\d\s+18\d\.\d\d\s+\d+\s+\d+\s+\d+\s+[+-]\d+\.\d\d\s+[+-]\d+\.\d\d%", rows["AAPL"]), rows["AAPL"]
    assert re.search(r"EUR\.USD\s+1\.0\d+\s+1\.0\d+\s+-", rows["EUR.USD"]), "forex: bid and ask, no last"
    assert "error:" in rows["NOSUCH"] and "200" in rows["NOSUCH"]


def test_quote_redraws_in_place_on_a_terminal(tmp_path):
    master, slave = pty.openpty()
    process = subprocess.Popen([str(BINARY), "quote", "AAPL", "MSFT", "--seconds", "2.5"], cwd=tmp_path, env=environment(tmp_path),
                               stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    text = read_terminal(process, master)
    assert process.returncode == 0
    assert text.count("\x1b[3A") >= 2, "the three lines of the table are drawn over, again and again"
    assert text.count("instrument") >= 3
