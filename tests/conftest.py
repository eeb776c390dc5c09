"""pytester runs the README's pytest-plugin example as a user's test session would.

``FAILED``: whether a test's own body failed, for fixtures that gather evidence at
teardown (tests/streams/conftest.py asks running workers where they are stuck)."""

from collections.abc import Iterator

import pytest

pytest_plugins = ("pytester",)

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    if call.when == "call":
        item.stash[FAILED] = report.failed
    return report
