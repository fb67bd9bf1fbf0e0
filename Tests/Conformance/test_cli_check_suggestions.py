"""`moonwire check` suggests a handler by form and by meaning, not only by spelling: `on_tick`
got "did you mean on_fill?" (3 edits away; a trader who writes it means quotes), and `onQuote`
(as other platforms spell handlers) was not flagged at all, so it was silently never called."""
import subprocess

import pytest

from cli_helpers import environment
from gateway_process import BINARY

CASES = [
    ("on_tick", "on_quote"),
    ("onQuote", "on_quote"),
    ("OnQuote", "on_quote"),
    ("on_trade", "on_fill"),
    ("on_qoute", "on_quote"),
    ("onBar", "on_bar"),
    ("on_execution", "on_fill"),
    ("on_candle", "on_bar"),
]


def check(tmp_path, source):
    (tmp_path / "s.lua").write_text(source)
    return subprocess.run([str(BINARY), "check", "s.lua"], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("name,meant", CASES)
def test_a_misnamed_handler_gets_the_handler_it_means(tmp_path, name, meant):
    done = check(tmp_path, f"function on_start() end\nfunction {name}(x) end\n")
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, done.stdout
    assert f"{name} is not a handler Moonwire calls" in warnings[0], warnings
    assert f"did you mean {meant}?" in warnings[0], warnings
    # The summary does not count it as a handler (it is never called).
    summary = [line for line in done.stdout.splitlines() if line.startswith("ok: ")]
    assert len(summary) == 1 and summary[0].startswith("ok: s.lua loads; handlers: on_start"), done.stdout
    assert ("handlers: on_start; not called by Moonwire (only as posted events): " + name) in summary[0] or not name.startswith("on_"), summary


def test_helpers_that_merely_start_with_on_are_left_alone(tmp_path):
    done = check(tmp_path, "function once(x) end\nfunction online_mean(x) end\nfunction one_shot() end\nfunction on_quote(q) end\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stdout, done.stdout
