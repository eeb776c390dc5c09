"""What a test session remembers across tests (pytest's stash), for the hooks in
tests/conftest.py and the broker fixtures."""

import pytest

FAILED = pytest.StashKey[bool]()
"""Whether a test's own body failed, for fixtures that gather evidence at teardown."""
BROKERS_USED = pytest.StashKey[set[str]]()
"""Each broker a test of this session ran on, as it describes itself (kind and version)."""
