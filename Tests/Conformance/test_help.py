"""`--help` works for every command: the help on standard output, exit 0 (it printed
`error: CommandError(... helpRequested ...)` and exited 1). The commands are read from
`moonwire --help` itself, so a new command is covered without editing this file."""
import os
import re
import subprocess

import pytest

from gateway_process import BINARY


def help_of(*words):
    return subprocess.run([str(BINARY), *words], capture_output=True, text=True, timeout=30)


def subcommands(*path):
    """The subcommands `moonwire [path] --help` lists under SUBCOMMANDS."""
    text = help_of(*path, "--help").stdout
    section = text.split("SUBCOMMANDS:", 1)
    if len(section) < 2:
        return []
    names = []
    for line in section[1].splitlines():
        match = re.match(r"^  (\S+)", line)
        if match and not line.startswith("  See '"):
            names.append(match.group(1))
    return names


def every_command():
    found, frontier = [], [()]
    while frontier:
        path = frontier.pop()
        for name in subcommands(*path):
            found.append(path + (name,))
            frontier.append(path + (name,))
    return found


def test_the_commands_are_found():
    commands = every_command()
    assert ("run",) in commands and ("backtest",) in commands and ("history", "import") in commands, commands


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_prints_its_help_and_exits_0(flag):
    for command in [()] + every_command():
        result = help_of(*command, flag)
        assert result.returncode == 0, f"moonwire {' '.join(command)} {flag}: {result.returncode} {result.stderr}"
        assert "USAGE:" in result.stdout, f"moonwire {' '.join(command)} {flag}: {result.stdout!r}"
        assert "error" not in result.stderr.lower(), result.stderr


def test_help_subcommand_and_version():
    result = help_of("help", "run")
    assert result.returncode == 0 and "USAGE: moonwire run" in result.stdout, result
    version = help_of("--version")
    assert version.returncode == 0 and version.stdout.strip(), version


def test_help_into_a_pipe_closed_early():
    # `moonwire --help | head -1`: the reader goes away; no crash, no trap.
    reader_gone = subprocess.run(f"'{BINARY}' run --help | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
                                 shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=30)
    status = int(reader_gone.stdout.strip())
    assert status in (0, 141), f"exit {status} (141 is SIGPIPE, as for any program writing to a closed pipe)"
