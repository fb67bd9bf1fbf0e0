"""`moonwire check` takes several files (it took one: a second was "Unexpected argument"), and
every finding starts with `file:line:` where the line is known, the file as given, so two
`s.lua` in two folders stay apart and an editor or a CI annotation can jump to the line."""
import subprocess

from cli_helpers import environment
from gateway_process import BINARY


def check(tmp_path, *files):
    return subprocess.run([str(BINARY), "check", *files], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True,
                          timeout=60)


def test_several_files_each_finding_with_its_file_and_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # A misnamed handler on line 4 (camel case, as other platforms spell handlers).
    (tmp_path / "a" / "s.lua").write_text("function on_start()\nend\n\nfunction onQuote(q) end\n")
    # A syntax error: the file ends inside on_start's parameter list (line 2).
    (tmp_path / "b" / "s.lua").write_text("function on_start(\n")
    # A call the API does not have, on line 2.
    (tmp_path / "c.lua").write_text('function on_start()\n  orders.by("AAPL", 1)\nend\n')
    (tmp_path / "good.lua").write_text("function on_quote(q) end\n")
    done = check(tmp_path, "a/s.lua", "b/s.lua", "c.lua", "good.lua")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert "ok: a/s.lua loads; handlers: on_start" in lines, done.stdout
    assert "ok: good.lua loads; handlers: on_quote" in lines, done.stdout
    assert any(line.startswith("warning: a/s.lua:4: onQuote is not a handler Moonwire calls; did you mean on_quote?")
               for line in lines), done.stdout
    assert any(line.startswith("error: b/s.lua:2: ") for line in lines), done.stdout
    assert any(line.startswith("error: c.lua:2: orders.by does not exist; did you mean orders.buy?") for line in lines), done.stdout
    # Neither failing file says it loads.
    assert not any(line.startswith(("ok: b/s.lua", "ok: c.lua")) for line in lines), done.stdout


def test_every_file_clean_exits_0_and_says_each(tmp_path):
    (tmp_path / "one.lua").write_text("function on_start() end\n")
    (tmp_path / "two.lua").write_text("function on_bar(b) end\n")
    done = check(tmp_path, "one.lua", "two.lua")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["ok: one.lua loads; handlers: on_start", "ok: two.lua loads; handlers: on_bar"], done.stdout


def test_a_warning_whose_line_the_file_does_not_show_still_names_the_file(tmp_path):
    # A handler table filled at run time: no line says `function on_tick(`.
    (tmp_path / "s.lua").write_text('function on_start() end\n_ENV["on_" .. "tick"] = function() end\n')
    done = check(tmp_path, "s.lua")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: s.lua: on_tick is not a handler Moonwire calls" in done.stdout, done.stdout


def test_no_file_is_a_usage_mistake(tmp_path):
    done = check(tmp_path)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert "Usage: moonwire check " in done.stderr, done.stderr
