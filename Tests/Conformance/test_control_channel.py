"""The control channel of `moonwire run` cannot be faked or blocked (attacks first).

- A socket that never answers, next to the real one, hides nothing: runs are found by their
  registration and asked all at once, each bounded.
- A run's files are removed only when its socket refuses and its process is gone; a socket
  nobody registered is never touched.
- Multi-user (as root, with two ordinary users): a control folder another user made first is
  refused with an error naming it; another user can neither control a run nor remove its
  socket; a run refuses a peer of another user (SO_PEERCRED) and logs it; `halt` refuses a
  socket served by another user.
"""
import json
import os
import pathlib
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

from gateway_process import BINARY

VICTIM = os.environ.get("MOONWIRE_TEST_USER", "moonwire-ci")
ATTACKER = os.environ.get("MOONWIRE_TEST_OTHER_USER", "moonwire-other")

REST = """
function on_start() market.subscribe("AAPL") end
function on_quote(q)
  if placed or not q.bid then return end
  placed = true
  for i = 1, 2 do orders.buy("AAPL", 1, { limit = 1.00 }) end
  print("resting")
end
"""


def control_folder(journal):
    """Next to the journal (the tests keep its path short enough for a socket there)."""
    return pathlib.Path(str(journal) + ".control")


@pytest.fixture
def short_tmp():
    """A folder whose path leaves room for a socket (pytest's own can be too long for one)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mw-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def registrations(folder):
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".run")
    except (FileNotFoundError, PermissionError):
        return []


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def listening_socket(path):
    """A socket that accepts connections (the kernel's backlog) and never says a word."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    return server


class Run:
    """`moonwire run` on its built-in paper gateway, as `user` (None: this process's user)."""

    def __init__(self, folder, journal, user=None, env=None):
        (folder / "rest.lua").write_text(REST)
        self.journal = journal
        self.process = subprocess.Popen(as_user(user, [str(BINARY), "run", str(folder / "rest.lua"), "--journal", str(journal), "--no-watch"],
                                                env),
                                        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    @property
    def output(self):
        return "".join(self.lines)

    def wait_resting(self):
        wait_for(lambda: "resting" in self.output or self.process.poll() is not None, "the run to rest its orders")
        assert "resting" in self.output, self.output[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)


def as_user(user, command, env=None):
    if user is None:
        return command
    home = pwd.getpwnam(user).pw_dir
    settings = [f"HOME={home}", "XDG_CONFIG_HOME=" + str(pathlib.Path(home) / ".config")] + [f"{k}={v}" for k, v in (env or {}).items()]
    return ["runuser", "-u", user, "--", "env", *settings, *command]


def moonwire(command, journal, user=None, timeout=60, env=None):
    return subprocess.run(as_user(user, [str(BINARY), command, "--journal", str(journal)], env), capture_output=True, text=True,
                          timeout=timeout, cwd="/")


# MARK: one user


def test_a_socket_that_never_answers_hides_no_run(short_tmp):
    journal = short_tmp / "j.sqlite"
    run = Run(short_tmp, journal)
    silent = []
    try:
        run.wait_resting()
        folder = control_folder(journal)
        [real] = registrations(folder)
        # Named like a control socket, lower pid, nobody registered it (old scheme and new).
        silent.append(listening_socket(short_tmp / "j.sqlite.control.1"))
        silent.append(listening_socket(folder / "1.sock"))
        # Registered (this process, alive) and served by it, but it never answers.
        me = os.getpid()
        silent.append(listening_socket(folder / f"{me}.sock"))
        (folder / f"{me}.run").write_text(json.dumps({"pid": me, "socket": str(folder / f"{me}.sock"), "journal": str(journal)}))
        started = time.monotonic()
        halt = moonwire("halt", journal)
        took = time.monotonic() - started
        run.process.wait(timeout=60)
        assert f"moonwire run (process {real.stem}):" in halt.stdout, halt.stdout + halt.stderr
        assert "halted: no order leaves any more" in halt.stdout, halt.stdout
        assert took < 25, f"the silent socket held the halt up for {took:.1f} s"
        # The registered one that never answered is named, and halt says it could not confirm it.
        assert halt.returncode == 1, halt.stdout + halt.stderr
        assert f"process {me}" in halt.stderr and "did not acknowledge" in halt.stderr, halt.stderr
        # Nothing it could not open was removed.
        assert (short_tmp / "j.sqlite.control.1").exists() and (folder / "1.sock").exists() and (folder / f"{me}.sock").exists()
        assert run.process.returncode == 0, run.output[-3000:]
    finally:
        for server in silent:
            server.close()
        run.stop()


@pytest.mark.parametrize("spelling", ["link to the folder", "relative"])
def test_halt_finds_the_run_however_the_journal_is_spelled(short_tmp, spelling):
    """The run names its journal through a link to its folder (or relatively); `halt` names
    the real path: the same run (halt missed it and said there was none while it traded)."""
    real = short_tmp / "real"
    real.mkdir()
    (short_tmp / "alias").symlink_to(real)
    given = short_tmp / "alias" / "ja.sqlite" if spelling == "link to the folder" else pathlib.Path("ja.sqlite")
    run = Run(real, given)
    try:
        run.wait_resting()
        halt = moonwire("halt", real / "ja.sqlite")
        assert halt.returncode == 0, halt.stdout + halt.stderr
        assert "halted: no order leaves any more" in halt.stdout, halt.stdout
        run.process.wait(timeout=60)
        assert run.process.returncode == 0, run.output[-3000:]
    finally:
        run.stop()


def test_a_stale_registration_goes_and_a_socket_nobody_registered_stays(short_tmp):
    """A run that was killed leaves its registration and socket: `halt` finds its socket
    refusing and its process gone, removes both and says so. A socket without a
    registration is no run's: never touched. No signal is sent anywhere."""
    journal = short_tmp / "k.sqlite"
    folder = control_folder(journal)
    folder.mkdir(mode=0o700)
    dead = subprocess.Popen(["true"])
    dead.wait()
    for pid in (dead.pid, 5):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(str(folder / f"{pid}.sock"))
        stale.close()  # bound, then closed: nothing listens
    (folder / f"{dead.pid}.run").write_text(json.dumps({"pid": dead.pid, "socket": str(folder / f"{dead.pid}.sock"), "journal": str(journal)}))
    result = moonwire("halt", journal)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"removed the control files of process {dead.pid}, which no longer runs" in result.stdout
    assert "no running `moonwire run` with journal" in result.stderr
    assert not (folder / f"{dead.pid}.sock").exists() and not (folder / f"{dead.pid}.run").exists()
    assert (folder / "5.sock").exists(), "a socket nobody registered is left alone"


def test_a_control_folder_that_is_not_private_is_refused(short_tmp):
    journal = short_tmp / "o.sqlite"
    folder = control_folder(journal)
    folder.mkdir()
    folder.chmod(0o755)
    result = moonwire("status", journal)
    assert result.returncode == 1
    assert f"the control folder {folder} is not private to you" in result.stderr and "mode 0755" in result.stderr, result.stderr
    (short_tmp / "rest.lua").write_text(REST)
    run = subprocess.run([str(BINARY), "run", str(short_tmp / "rest.lua"), "--journal", str(journal), "--no-watch", "--duration", "30"],
                         cwd=short_tmp, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, "no run without its kill switch"
    assert f"the control folder {folder} is not private to you" in run.stderr, run.stderr


# MARK: two users (root runs them, as Scripts/test does)

multiuser = pytest.mark.multiuser


def need_two_users():
    if os.geteuid() != 0:
        pytest.skip("needs root, to act as two ordinary users with runuser (Scripts/test runs it so)")
    for user in (VICTIM, ATTACKER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            pytest.skip(f"user {user} does not exist (Scripts/test creates {VICTIM} and {ATTACKER} when run as root)")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is missing")
    # The binary must be theirs to run.
    probe = subprocess.run(as_user(VICTIM, [str(BINARY), "--version"]), capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"{VICTIM} cannot run {BINARY} ({probe.stderr.strip()}): copy it where every user can, and set MOONWIRE_BIN")


@pytest.fixture
def victim_folder():
    """A folder of the victim's, that others may look into (as a home folder often is)."""
    need_two_users()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mw-victim-"))
    user = pwd.getpwnam(VICTIM)
    os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o755)
    yield folder, user
    shutil.rmtree(folder, ignore_errors=True)


def victim_env(folder):
    return {"MOONWIRE_DATA": str(folder / "data")}


@multiuser
def test_folders_another_user_makes_under_tmp_block_nothing(victim_folder):
    """A journal path too long for a socket beside it: the socket goes in a folder the run
    makes under /tmp with a name nobody can take first. Another user who made every folder a
    guess would name (/tmp/moonwire-UID, the old place, open to all) blocks nothing: the run
    starts, its socket is in a private folder of its own, `halt` reaches it, and nothing of
    the victim's lands in the attacker's folders."""
    folder, user = victim_folder
    deep = folder / ("a-long-folder-name-" * 4)
    deep.mkdir()
    os.chown(deep, user.pw_uid, user.pw_gid)
    journal = deep / "journal.sqlite"
    planted = [pathlib.Path(f"/tmp/moonwire-{user.pw_uid}"), pathlib.Path(f"/tmp/moonwire-sock-{user.pw_uid}")]
    for path in planted:
        shutil.rmtree(path, ignore_errors=True)
        made = subprocess.run(as_user(ATTACKER, ["mkdir", "-m", "777", str(path)]), capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
    run = Run(deep, journal, user=VICTIM, env=victim_env(folder))
    try:
        run.wait_resting()
        [registration] = registrations(control_folder(journal))
        sock = pathlib.Path(json.loads(registration.read_text())["socket"])
        assert sock.parent.name.startswith("moonwire-sock-") and sock.parent not in planted, sock
        info = sock.parent.lstat()
        assert info.st_uid == user.pw_uid and stat.S_IMODE(info.st_mode) == 0o700, oct(info.st_mode)
        halt = moonwire("halt", journal, user=VICTIM, env=victim_env(folder))
        assert halt.returncode == 0, halt.stdout + halt.stderr
        assert "halted: no order leaves any more" in halt.stdout
        run.process.wait(timeout=60)
        assert run.process.returncode == 0, run.output[-3000:]
        assert not sock.parent.exists(), "the run removed its socket's folder when it stopped"
        for path in planted:
            assert list(path.iterdir()) == [], "nothing of the victim's went into the attacker's folder"
    finally:
        run.stop()
        for path in planted:
            shutil.rmtree(path, ignore_errors=True)


@multiuser
def test_another_user_can_neither_control_nor_remove_a_run(victim_folder):
    folder, user = victim_folder
    journal = folder / "j.sqlite"
    run = Run(folder, journal, user=VICTIM, env=victim_env(folder))
    try:
        run.wait_resting()
        control = control_folder(journal)
        [registration] = registrations(control)
        sock = control / (registration.stem + ".sock")
        assert sock.exists()
        for command in ("status", "halt"):
            attack = moonwire(command, journal, user=ATTACKER)
            assert attack.returncode == 1, attack.stdout + attack.stderr
            assert f"the control folder {control} is not private to you" in attack.stderr, attack.stderr
        assert sock.exists() and registration.exists(), "another user's command removed nothing"
        # Root reaches the socket past the folder's mode: the run checks who connects and refuses.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as peer:
            peer.settimeout(20)
            peer.connect(str(sock))
            peer.sendall(b"halt\n")
            answer = b""
            while chunk := peer.recv(4096):
                answer += chunk
        assert b"error: refused" in answer, answer
        wait_for(lambda: "control channel: refused `halt`" in run.output, "the run to log the refused peer", timeout=10)
        assert "root (uid 0)" in run.output
        status = moonwire("status", journal, user=VICTIM, env=victim_env(folder))
        assert status.returncode == 0 and "trading open" in status.stdout, status.stdout + status.stderr
        halt = moonwire("halt", journal, user=VICTIM, env=victim_env(folder))
        assert halt.returncode == 0, halt.stdout + halt.stderr
        assert "halted: no order leaves any more" in halt.stdout
        run.process.wait(timeout=60)
        assert run.process.returncode == 0, run.output[-3000:]
    finally:
        run.stop()


@multiuser
def test_halt_refuses_a_socket_another_user_serves(victim_folder):
    """Root plants a registration of the victim's naming a socket that root serves (open to
    all): `halt` checks who serves it (SO_PEERCRED), sends it nothing, and halts the real run."""
    folder, user = victim_folder
    journal = folder / "j.sqlite"
    run = Run(folder, journal, user=VICTIM, env=victim_env(folder))
    fake = None
    try:
        run.wait_resting()
        control = control_folder(journal)
        me = os.getpid()
        fake = listening_socket(control / f"{me}.sock")
        os.chmod(control / f"{me}.sock", 0o777)
        planted = control / f"{me}.run"
        planted.write_text(json.dumps({"pid": me, "socket": str(control / f"{me}.sock"), "journal": str(journal)}))
        os.chown(planted, user.pw_uid, user.pw_gid)
        os.chmod(planted, 0o600)
        halt = moonwire("halt", journal, user=VICTIM, env=victim_env(folder))
        assert "halted: no order leaves any more" in halt.stdout, halt.stdout + halt.stderr
        assert halt.returncode == 1, "a registered socket it could not trust is reported"
        assert f"is served by process {me} of root (uid 0)" in halt.stderr and "nothing sent" in halt.stderr, halt.stderr
        fake.settimeout(0.5)
        try:
            connection, _ = fake.accept()
            connection.settimeout(0.5)
            try:
                assert connection.recv(100) == b"", "nothing was sent to a socket another user serves"
            except socket.timeout:
                pass
            connection.close()
        except socket.timeout:
            pass
        run.process.wait(timeout=60)
    finally:
        if fake is not None:
            fake.close()
        run.stop()
