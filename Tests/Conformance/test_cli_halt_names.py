"""`moonwire halt` names the orders it cancelled (which order, whose, what), not only how many:
the run's answer said `cancelled: 1 (ids 3)`, and a trader had to look the ids up."""
import re
import subprocess
import time

from cli_helpers import environment
from gateway_process import BINARY

RESTING = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = true
  orders.buy("AAPL", 1, { limit = math.floor(q.bid * 50) / 100 })
end
function on_order(o)
  if o.status == "submitted" and not said then said = true print("working " .. o.id) end
end
"""


def test_halt_names_each_order_it_cancelled(tmp_path):
    (tmp_path / "rest.lua").write_text(RESTING)
    journal = tmp_path / "j.sqlite"
    env = environment(tmp_path)
    run = subprocess.Popen([str(BINARY), "run", "rest.lua", "--journal", str(journal), "--duration", "120", "--status-every", "0"],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen, order_id = [], None
        deadline = time.time() + 60
        while time.time() < deadline and order_id is None:
            line = run.stdout.readline()
            if not line:
                break
            seen.append(line)
            if match := re.search(r"working (\d+)", line):
                order_id = match.group(1)
        assert order_id, "".join(seen)
        halt = subprocess.run([str(BINARY), "halt", "--journal", str(journal)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
        assert halt.returncode == 0, halt.stdout + halt.stderr
        assert re.search(rf"^  cancelled: 1 \(ids {order_id}\)$", halt.stdout, re.M), halt.stdout
        assert re.search(rf"^  order {order_id} of rest: BUY 1 AAPL LMT \d+\.\d\d, cancelled$", halt.stdout, re.M), halt.stdout
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
