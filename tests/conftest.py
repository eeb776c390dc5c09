"""pytester runs the README's pytest-plugin example as a user's test session would; the
broker fixtures (tests/support/cluster.py) serve every folder that starts workers.

Hypothesis judges its own speed by the wall clock: beside the broker tests on 2 cores
a strategy failed its "input generation is slow" check (1 input in 1.03 s). The suite
runs on busy machines by design, so timing checks are off; every property still runs.

``make test`` runs the ``serial`` tests in two lanes, the fault tests in one and the other
broker tests in the other, with the tests that need no broker first in the fault lane
(tests/run_suite.sh): the broker tests thus run beside a busy core, as they must hold up
on a busy machine."""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.session import BROKERS_USED, FAILED

pytest_plugins = ("pytester", "tests.support.cluster")  # the broker fixtures, for every tier

settings.register_profile("busy", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("busy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``serial`` what tests/run_suite.sh runs one at a time: tests that start the
    embedded broker (and its workers), and those that build the package in the source
    tree (setuptools' ``build/`` is shared). And ``faults`` the fault suite's, which runs in
    a lane of its own beside the other serial tests."""
    brokers = {"broker", "embedded_broker", "cluster"}
    for item in items:
        if (brokers & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("broker")
                or item.get_closest_marker("builds_package")):
            item.add_marker(pytest.mark.serial)
        if item.nodeid.startswith("tests/faults/"):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the brokers the session's broker tests ran on: what a green run stands for."""
    used = terminalreporter.config.stash.get(BROKERS_USED, set())
    if used:
        terminalreporter.write_line("brokers under test: " + "; ".join(sorted(used)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    if call.when == "call":
        item.stash[FAILED] = report.failed
    return report
