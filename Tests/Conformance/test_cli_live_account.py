"""Paper by default: `moonwire run` against a TWS whose account is live (not a D... paper
account) stops after connecting, before any strategy runs or any order leaves, naming the
account and both opt-ins; with only one opt-in it stops the same; with both it trades. The
paper gateway is given a live-looking account (its config's `paper_gateway.accounts`)."""
import re
import subprocess

from cli_helpers import environment
from gateway_process import BINARY, Gateway

# Buys at once and says so: any order that left would show at the gateway.
BUYS = """
function on_start() print("on_start ran"); orders.buy("AAPL", 1) end
function on_fill(f) print("filled " .. f.qty) end
"""


def run(tmp_path, port, *extra, config="moonwire.yaml"):
    return subprocess.run([str(BINARY), "run", "buy.lua", "--config", config, "--gateway", f"127.0.0.1:{port}", "--duration", "3",
                           "--journal", str(tmp_path / "journal.sqlite"), *extra],
                          cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=90)


def orders(gateway):
    """How many orders the gateway has been sent (its control port's `status`)."""
    reply = gateway.control("status")
    match = re.search(r"\borders=(\d+)", reply)
    assert match, reply
    return int(match.group(1))


def test_a_live_account_stops_the_run_after_connecting_until_both_opt_ins_are_given(tmp_path):
    (tmp_path / "buy.lua").write_text(BUYS)
    (tmp_path / "gateway.yaml").write_text("paper_gateway:\n  accounts: [U7654321]\n")
    (tmp_path / "moonwire.yaml").write_text("trading:\n  allow_live: false\n")
    (tmp_path / "allowed.yaml").write_text("trading:\n  allow_live: true\n")
    with Gateway("--config", str(tmp_path / "gateway.yaml"), "--seed", "3", "--tick-interval-ms", "50") as gateway:
        for extra, config in (((), "moonwire.yaml"), (("--live",), "moonwire.yaml"), ((), "allowed.yaml")):
            refused = run(tmp_path, gateway.port, *extra, config=config)
            said = refused.stdout + refused.stderr
            assert refused.returncode != 0, f"{extra} {config}: {said}"
            assert "account U7654321 is not a paper account" in said, said
            assert "needs both --live on the command line and trading.allow_live: true in the config" in said, said
            assert "on_start ran" not in said and "Fatal" not in said, said
            assert orders(gateway) == 0, "no order reached TWS"
        allowed = run(tmp_path, gateway.port, "--live", config="allowed.yaml")
        said = allowed.stdout + allowed.stderr
        assert allowed.returncode == 0, said
        assert "on_start ran" in said and "filled 1" in said, said
        assert orders(gateway) == 1
