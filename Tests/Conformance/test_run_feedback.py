"""A run a trader can read, through the real binary: connection failures said at once with
what to check, one-line errors and documented exit codes, the file checked first, a status
line, an honest summary after Ctrl-C, config lookup, `state` tables."""
import json
import os
import pty
import re
import signal
import socket
import subprocess
import threading
import time

from cli_helpers import ChildOutput, environment, read_terminal
from gateway_process import BINARY, Gateway

RESTING = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if done or not q.bid then return end
  done = true
  orders.buy("AAPL", 5)
  orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
  local id, err = orders.buy("NOTREAL", 1, { limit = 10 })
  print("notreal", id, err and err.code)
end
function on_qoute(q) end
function on_fill(f) print("filled", f.qty, f.symbol) end
"""


def moonwire(tmp_path, *args, env=None, timeout=60):
    return subprocess.run([str(BINARY), *args], cwd=tmp_path, env=env or environment(tmp_path), capture_output=True, text=True,
                          timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_run(tmp_path, *args, env=None, stderr=subprocess.PIPE):
    """`moonwire run` in the background; returns once it says it is running."""
    process = subprocess.Popen([str(BINARY), "run", *args], cwd=tmp_path, env=env or environment(tmp_path), stdout=subprocess.PIPE,
                               stderr=stderr, text=True)
    lines = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("running "):
            return process, lines
    process.kill()
    raise AssertionError("moonwire run did not start: " + "".join(lines) + (process.stderr.read() if process.stderr else ""))


def test_a_refused_connection_is_reported_at_once_with_what_to_check(tmp_path):
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    # A 30 s connect timeout: a refusal that waited for it, or retried until it, takes >= 30 s.
    (tmp_path / "moonwire.yaml").write_text("connection:\n  connect_timeout: 30\n")
    port = free_port()
    started = time.time()
    run = moonwire(tmp_path, "run", "s.lua", "--config", "moonwire.yaml", "--gateway", f"127.0.0.1:{port}")
    elapsed = time.time() - started
    assert run.returncode == 1, run.stderr
    # Order, not speed: reported well before the connect timeout (10 s leaves room for a loaded
    # machine to start the binary), and as a refusal, not as the timeout.
    assert elapsed < 10, f"refused took {elapsed:.2f} s to report"
    assert "within" not in run.stderr, run.stderr
    assert f"connecting to 127.0.0.1:{port} (client id 1)..." in run.stdout
    errors = run.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: could not connect to 127.0.0.1:{port}: connection refused"), run.stderr
    assert '"Enable ActiveX and Socket Clients"' in errors[0] and "7497 paper" in errors[0] and "Trusted IPs" in errors[0]
    assert "Usage" not in run.stderr


def test_a_silent_listener_is_a_handshake_timeout_with_its_cause(tmp_path):
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    (tmp_path / "moonwire.yaml").write_text("connection:\n  connect_timeout: 2\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        started = time.time()
        run = moonwire(tmp_path, "run", "s.lua", "--config", "moonwire.yaml", "--gateway", f"127.0.0.1:{listener.getsockname()[1]}")
        elapsed = time.time() - started
    finally:
        listener.close()
    assert run.returncode == 1, run.stderr
    # It waited for the handshake (not less than its 2 s), and the message says it was that wait
    # that ended it; the ceiling is generous (a loaded machine starting the binary).
    assert 1.5 < elapsed < 30, elapsed
    assert re.search(r"did not answer the API handshake within [\d.]+ s", run.stderr) and "Accept incoming connection" in run.stderr, run.stderr


def test_ctrl_c_while_connecting_ends_the_run_at_once_saying_so(tmp_path):
    """A listener that never answers the handshake and a 30 s timeout: Ctrl-C during the wait
    ends the run at once with 130 and one line, not after the timeout."""
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    (tmp_path / "moonwire.yaml").write_text("connection:\n  connect_timeout: 30\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    run = subprocess.Popen([str(BINARY), "run", "s.lua", "--config", "moonwire.yaml", "--gateway", f"127.0.0.1:{listener.getsockname()[1]}"],
                           cwd=tmp_path, env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = ChildOutput(run)
    try:
        output.wait_for(r"^connecting to 127\.0\.0\.1:\d+", "stdout", timeout=30)
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        run.wait(timeout=60)
        took = time.monotonic() - sent
        output.finish(timeout=30)
    finally:
        listener.close()
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, output.text("stderr")
    # Well before the 30 s handshake timeout (a generous ceiling a loaded machine meets).
    assert took < 15, f"{took:.1f} s"
    assert "interrupted while connecting: nothing ran, nothing was sent" in output.text("stderr"), output.text("stderr")


def test_a_client_id_in_use_names_the_fix_and_ctrl_c_leaves_an_honest_summary(tmp_path):
    (tmp_path / "rest.lua").write_text(RESTING)
    with Gateway("--seed", "4", "--tick-interval-ms", "50") as gateway:
        endpoint = f"127.0.0.1:{gateway.port}"
        first_err = tmp_path / "first.err"
        with open(first_err, "w") as err_file:
            first, lines = start_run(tmp_path, "rest.lua", "--gateway", endpoint, "--client-id", "9", "--journal", str(tmp_path / "j.sqlite"),
                                     stderr=err_file)
        try:
            # Its orders are placed (both in the handler that prints "notreal") and the market one fills.
            deadline = time.time() + 30
            while not re.search(r"rest: filled 5 AAPL", first_err.read_text()) and time.time() < deadline:
                time.sleep(0.05)
            assert "rest: filled 5 AAPL" in first_err.read_text(), first_err.read_text()[-2000:]
            started = time.time()
            second = moonwire(tmp_path, "run", "rest.lua", "--gateway", endpoint, "--client-id", "9", "--journal", str(tmp_path / "k.sqlite"))
            assert second.returncode == 1, second.stderr
            # TWS's answer (error 326), not a timeout: the message says so; the ceiling is generous.
            assert time.time() - started < 30
            assert "error: client id 9 is already in use" in second.stderr and "--client-id 10" in second.stderr, second.stderr
        finally:
            first.send_signal(signal.SIGINT)
            out, _ = first.communicate(timeout=30)
    out = "".join(lines) + out
    err = first_err.read_text()
    assert first.returncode == 130, err[-2000:]
    assert "interrupted: stopping" in out
    assert re.search(r"left open\s+order \d+ BUY 1 AAPL LMT", out), out
    assert re.search(r"positions\s+5 AAPL at", out), out
    assert "leaves risk on" in out
    assert re.search(r"fills\s+1 \(5 shares", out), out
    # The file was checked first, the unknown instrument refused at the call, quantities whole.
    assert "warning: rest.lua: on_qoute is not a handler Moonwire calls; did you mean on_quote?" in err
    assert "notreal nil unknown_instrument" in err
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} rest: filled 5 AAPL", err), err[-2000:]
    assert err.count("rest: ") == len(re.findall(r"^\S+ (?:\w+ )?rest: ", err, re.M)), "the strategy is named once a line"
    # The next run's summary is that run's: no fills leak in from the first.
    again = moonwire(tmp_path, "run", "rest.lua", "--journal", str(tmp_path / "j.sqlite"), "--duration", "1", "--quiet")
    assert again.returncode == 0, again.stderr
    assert re.search(r"fills\s+1 \(5 shares", again.stdout), "a fresh paper gateway: this run's own buy only"


def test_exit_codes_say_what_ended_the_run(tmp_path):
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    missing = moonwire(tmp_path, "run", "nowhere.lua")
    assert missing.returncode == 1 and missing.stderr.strip() == "error: nowhere.lua: no such strategy file", missing.stderr
    usage = moonwire(tmp_path, "run", "--bogus")
    assert usage.returncode == 64 and "Usage: moonwire run" in usage.stderr
    live = moonwire(tmp_path, "run", "s.lua", "--gateway", "127.0.0.1:7496")
    assert live.returncode == 3 and live.stderr.startswith("error: ") and "live" in live.stderr.lower(), live.stderr
    both = moonwire(tmp_path, "run", "s.lua", "--quiet", "--verbose")
    assert both.returncode == 64
    done = moonwire(tmp_path, "run", "s.lua", "--duration", "1")
    assert done.returncode == 0, done.stderr
    version = moonwire(tmp_path, "--version")
    assert version.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\n", version.stdout)


def test_the_status_line_is_redrawn_in_place_on_a_terminal_and_plain_lines_otherwise(tmp_path):
    (tmp_path / "q.lua").write_text('function on_start() market.subscribe("AAPL") end\n')
    master, slave = pty.openpty()
    process = subprocess.Popen([str(BINARY), "run", "q.lua", "--duration", "3.5"], cwd=tmp_path, env=environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    text = read_terminal(process, master)
    assert process.returncode == 0
    redraws = re.findall(r"\r\x1b\[2K00:00:0\d connected \| 1 instrument \| \d+ quotes/s \| 0 open orders \| 0 fills", text)
    assert len(redraws) >= 2, repr(text[-1500:])
    assert "\n00:00:0" not in text, "on a terminal the status is redrawn, not printed as lines"
    plain = moonwire(tmp_path, "run", "q.lua", "--duration", "2.5", "--status-every", "1")
    assert plain.returncode == 0
    assert re.search(r"^00:00:01 connected \| 1 instrument \| \d+ quotes/s", plain.stderr, re.M), plain.stderr
    assert "\x1b[" not in plain.stderr
    quiet = moonwire(tmp_path, "run", "q.lua", "--duration", "1.5", "--status-every", "0.5", "--quiet")
    assert "connected |" not in quiet.stderr and "connecting" not in quiet.stdout and "summary of q" in quiet.stdout


def test_the_config_is_found_where_users_keep_it_and_the_run_says_which(tmp_path):
    def write(path, client_id):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"connection:\n  client_id: {client_id}\n")
        return path

    def used(*args, **env):
        result = moonwire(tmp_path, "config", *args, env=environment(tmp_path, **env))
        assert result.returncode == 0, result.stderr
        return re.search(r"config file: (.*)", result.stdout).group(1), re.search(r"client_id\s+(\d+)", result.stdout).group(1)

    assert used() == ("none (defaults)", "1")
    write(tmp_path / "xdg" / "moonwire" / "moonwire.yaml", 12)
    assert used() == (f"{tmp_path}/xdg/moonwire/moonwire.yaml (the user's config folder)", "12")
    write(tmp_path / "Config" / "moonwire.yaml", 11)
    assert used() == ("Config/moonwire.yaml (the working folder)", "11")
    named = write(tmp_path / "named.yaml", 13)
    assert used(MOONWIRE_CONFIG=str(named)) == (f"{named} (MOONWIRE_CONFIG)", "13")
    flagged = write(tmp_path / "flag.yaml", 14)
    assert used("--config", str(flagged), MOONWIRE_CONFIG=str(named)) == (f"{flagged} (--config)", "14")
    missing = moonwire(tmp_path, "config", env=environment(tmp_path, MOONWIRE_CONFIG=str(tmp_path / "gone.yaml")))
    assert missing.returncode == 1 and "MOONWIRE_CONFIG=" in missing.stderr and "no such file" in missing.stderr
    (tmp_path / "s.lua").write_text("function on_start() end\n")
    run = moonwire(tmp_path, "run", "s.lua", "--duration", "0.5")
    assert run.stdout.startswith("config Config/moonwire.yaml (the working folder)\n"), run.stdout


def test_state_prints_tables_offline_and_json_on_request(tmp_path):
    (tmp_path / "rest.lua").write_text(RESTING)
    journal = str(tmp_path / "j.sqlite")
    run = moonwire(tmp_path, "run", "rest.lua", "--journal", journal, "--duration", "2")
    assert run.returncode == 0, run.stderr
    tables = moonwire(tmp_path, "state", "--journal", journal)
    assert tables.returncode == 0, tables.stderr
    out = tables.stdout
    assert "offline: from the journal alone" in out
    assert re.search(r"orders \(2\)\n\s+id\s+strategy\s+symbol\s+side\s+qty\s+type\s+price\s+status\s+filled\s+avg price", out), out
    assert re.search(r"rest\s+AAPL\s+BUY\s+5\s+MKT\s+-\s+filled\s+5\s+\d+\.\d\d", out), out
    assert re.search(r"positions \(journal\) \(1\)\n.*\n\s+AAPL\s+5", out), out
    data = json.loads(moonwire(tmp_path, "state", "--journal", journal, "--json").stdout)
    assert {order["symbol"] for order in data["orders"]} == {"AAPL"}
    assert all(len(str(e["price"]).split(".")[-1]) <= 4 for e in data["executions"]), "prices as Swift prints them"
    assert moonwire(tmp_path, "state", "--journal", journal, "--gateway", "paper").returncode == 0
    started = time.time()
    down = moonwire(tmp_path, "state", "--journal", journal, "--gateway", f"127.0.0.1:{free_port()}")
    # Refused at once, not a connect timeout: the message says which; the ceiling is generous.
    assert down.returncode == 1 and "connection refused" in down.stderr and time.time() - started < 30, down.stderr
