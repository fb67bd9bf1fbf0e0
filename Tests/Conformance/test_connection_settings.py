"""Connection settings the users already have: IB_* / IBKR_* variables, a .env file, the
config's connection: section, --gateway; `moonwire config` says where each came from; IPv6."""
import os
import re
import socket
import subprocess
import time

import pytest

from gateway_process import BINARY


def test_config_command_names_each_source(tmp_path):
    (tmp_path / ".env").write_text("IB_CLIENT_ID=9\nIB_HOST=127.0.0.1\n")
    (tmp_path / "moonwire.yaml").write_text("connection:\n  account: DU5550001\n  market_data: delayed\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IB_", "IBKR_"))}
    env["IBKR_PORT"] = "4002"
    result = subprocess.run([str(BINARY), "config", "--config", str(tmp_path / "moonwire.yaml")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "TWS / IB Gateway at 127.0.0.1:4002" in out
    assert re.search(r"port\s+4002\s+\(environment IBKR_PORT\)", out), out
    assert re.search(r"client_id\s+9\s+\(\.env IB_CLIENT_ID\)", out), out
    assert re.search(r"account\s+DU5550001\s+\(.*moonwire.yaml connection.account\)", out), out
    assert re.search(r"market_data\s+delayed", out), out
    flagged = subprocess.run([str(BINARY), "config", "--config", str(tmp_path / "moonwire.yaml"), "--client-id", "3"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=30)
    assert re.search(r"client_id\s+3\s+\(--client-id\)", flagged.stdout), flagged.stdout
    env["IB_PORT"] = "seventy"
    bad = subprocess.run([str(BINARY), "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "environment IB_PORT: port 'seventy'" in bad.stderr, bad.stderr


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_run_against_an_ipv6_endpoint(tmp_path):
    gateway = subprocess.Popen([str(BINARY), "gateway", "--host", "::1", "--port", "0"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 30
        while time.time() < deadline and port is None:
            line = gateway.stdout.readline()
            if m := re.search(r"listening on \S+:(\d+)", line):
                port = int(m.group(1))
        assert port, "the gateway reported its port"
        (tmp_path / "hello.lua").write_text('function on_start() market.subscribe("AAPL") end\nfunction on_quote(q) seen = true end\n')
        run = subprocess.run([str(BINARY), "run", str(tmp_path / "hello.lua"), "--gateway", f"[::1]:{port}", "--duration", "3",
                              "--journal", str(tmp_path / "j.sqlite")], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr[-2000:]
        assert f"on ::1:{port}" in run.stdout
        assert re.search(r"quotes [1-9]", run.stdout), run.stdout
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)


def test_a_run_writes_its_log_file_in_the_data_folder(tmp_path):
    (tmp_path / "hello.lua").write_text('function on_start() log.info("hello from the strategy") end\n')
    env = dict(os.environ, MOONWIRE_DATA=str(tmp_path / "data"))
    run = subprocess.run([str(BINARY), "run", str(tmp_path / "hello.lua"), "--duration", "2", "--log-format", "json"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    logs = list((tmp_path / "data" / "logs").glob("moonwire_*.log"))
    assert len(logs) == 1, logs
    import json
    lines = [json.loads(line) for line in logs[0].read_text().splitlines() if line.strip()]
    assert any(line.get("strategy") == "hello" and line["message"] == "hello from the strategy" for line in lines), lines[:5]
    assert all({"time", "level", "component", "message"} <= set(line) for line in lines)


def test_a_strategies_list_runs_the_same_file_twice_under_two_names(tmp_path):
    (tmp_path / "buyer.lua").write_text(
        'function on_start() market.subscribe(params.symbol) end\n'
        'function on_quote(q) if not done and q.ask then done = orders.buy(params.symbol, params.qty, { limit = math.floor(q.ask * 101) / 100 }) end end\n'
        'function on_fill(f) print(params.symbol .. " filled " .. f.qty) end\n')
    (tmp_path / "moonwire.yaml").write_text(
        "strategies:\n"
        f"  - file: {tmp_path / 'buyer.lua'}\n    name: apple\n    params: {{ symbol: AAPL, qty: 2 }}\n"
        f"  - file: {tmp_path / 'buyer.lua'}\n    name: micro\n    params: {{ symbol: MSFT, qty: 3 }}\n    risk: {{ max_order_quantity: 1 }}\n")
    journal = tmp_path / "j.sqlite"
    run = subprocess.run([str(BINARY), "run", "--config", str(tmp_path / "moonwire.yaml"), "--duration", "4", "--journal", str(journal)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "summary of apple" in run.stdout and "summary of micro" in run.stdout
    assert "AAPL filled 2" in run.stderr, run.stderr[-2000:]
    # micro's own limit (1 share) refused its 3-share order: its summary says so (apple's did not).
    micro = run.stdout[run.stdout.index("summary of micro"):]
    assert re.search(r"orders\s+0 placed, [1-9]\d* refused before sending", micro), run.stdout  # (asked again on each quote)
    apple = run.stdout[run.stdout.index("summary of apple"):]
    assert re.search(r"orders\s+1 placed, 0 refused before sending", apple), run.stdout
    import sqlite3
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        owners = {row[0] for row in db.execute("SELECT strategy FROM orders")}
    assert owners == {"apple"}, owners
