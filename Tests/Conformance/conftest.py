import os
import pathlib
import shutil
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).parent))


def pytest_configure(config):
    # Tests where another local user acts next to a run: Scripts/test runs them as root, with
    # MOONWIRE_TEST_USER (the runner) and MOONWIRE_TEST_OTHER_USER (the attacker) created for it.
    config.addinivalue_line("markers", "multiuser: needs root to act as two ordinary users (runuser)")
    # Under pytest-xdist each worker is a user of its own: its own $HOME (a temporary folder,
    # removed at the end), so that what a run keeps there by default (the day's log, the config
    # folder) is not the other worker's.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        home = tempfile.mkdtemp(prefix=f"moonwire-e2e-home-{worker}-")
        config._moonwire_worker_home = home
        os.environ["HOME"] = home


def pytest_unconfigure(config):
    home = getattr(config, "_moonwire_worker_home", None)
    if home:
        shutil.rmtree(home, ignore_errors=True)
