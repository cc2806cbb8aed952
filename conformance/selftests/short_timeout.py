"""A pytest plugin (`-p conformance.selftests.short_timeout`) that shortens the suite's per-case
time limit, so that a test of the time limit does not wait for the real one. The limit is read
from $CONFORMANCE_CASE_TIMEOUT_S (default 5 seconds)."""
import os


def pytest_configure(config):
    # Imported here, after the root conftest has registered it, so pytest can still rewrite it.
    from conformance import plugin
    plugin.CASE_TIMEOUT_S = float(os.environ.get("CONFORMANCE_CASE_TIMEOUT_S", "5"))
