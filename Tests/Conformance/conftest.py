import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))


def pytest_configure(config):
    # Tests where another local user acts next to a run: Scripts/test runs them as root, with
    # MOONWIRE_TEST_USER (the runner) and MOONWIRE_TEST_OTHER_USER (the attacker) created for it.
    config.addinivalue_line("markers", "multiuser: needs root to act as two ordinary users (runuser)")
