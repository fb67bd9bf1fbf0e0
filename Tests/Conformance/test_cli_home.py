"""`~` is $HOME, as in the shell: the user's config folder and data folder follow `HOME=...`
(Foundation on Linux reads only the password database, so `HOME=/elsewhere moonwire ...`
used the account's home)."""
import os
import subprocess

from gateway_process import BINARY


def test_the_config_and_data_folders_follow_home(tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "moonwire").mkdir(parents=True)
    (home / ".config" / "moonwire" / "moonwire.yaml").write_text("connection:\n  client_id: 42\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IB_", "IBKR_", "MOONWIRE_", "XDG_"))}
    env["HOME"] = str(home)
    done = subprocess.run([str(BINARY), "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"config file: {home}/.config/moonwire/moonwire.yaml (the user's config folder)" in done.stdout, done.stdout
    assert "42" in done.stdout, done.stdout
    assert f"data folder: {home}/.local/share/moonwire " in done.stdout, done.stdout
