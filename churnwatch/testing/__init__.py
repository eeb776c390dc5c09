"""Helpers for tests of churnwatch rules, ours and users': ``EventLog`` writes events by
day, the assertions say which alert was or was not raised, and ``plugin`` gives pytest
the ``event_log``, ``replay_events`` and ``golden`` fixtures (README, "Testing your rules
with pytest")."""

from churnwatch.testing.helpers import (
    EventLog,
    assert_fired,
    assert_matches_golden,
    assert_not_fired,
)

__all__ = ["EventLog", "assert_fired", "assert_matches_golden", "assert_not_fired"]
