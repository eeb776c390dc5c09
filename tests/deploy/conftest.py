"""The deploy tests run workers too: the same broker fixture as tests/streams."""

from tests.streams.conftest import broker  # noqa: F401 - a fixture, used by name
