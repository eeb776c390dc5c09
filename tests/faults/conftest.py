"""The fault suite runs workers against the embedded broker, like tests/streams.

``make test`` runs a short version of every scenario; ``make faults`` the full one
(``CHURNWATCH_FAULTS=full``: 20 kills instead of 1, 200 customers instead of 100)."""

import os

from tests.streams.conftest import broker, cluster  # noqa: F401 - fixtures, used by name

FULL = os.environ.get("CHURNWATCH_FAULTS") == "full"
