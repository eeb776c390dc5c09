"""pytester runs the README's pytest-plugin example as a user's test session would.

``FAILED``: whether a test's own body failed, for fixtures that gather evidence at
teardown (tests/streams/conftest.py asks running workers where they are stuck).

Hypothesis judges its own speed by the wall clock: beside the broker tests on 2 cores
a strategy failed its "input generation is slow" check (1 input in 1.03 s). The suite
runs on busy machines by design, so timing checks are off; every property still runs.

``make test`` runs the ``serial`` tests in one session and the rest in another beside it
(tests/run_suite.sh): the broker tests thus run beside a busy core, as they must hold up
on a busy machine."""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("pytester",)

settings.register_profile("busy", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("busy")

FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``serial`` what tests/run_suite.sh runs one at a time: tests that start the
    embedded broker (and its workers), and those that build the package in the source
    tree (setuptools' ``build/`` is shared)."""
    for item in items:
        if ("broker" in getattr(item, "fixturenames", ()) or item.get_closest_marker("broker")
                or item.get_closest_marker("builds_package")):
            item.add_marker(pytest.mark.serial)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    if call.when == "call":
        item.stash[FAILED] = report.failed
    return report
