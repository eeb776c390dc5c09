"""One hop (``runtime.keyed_sources``) is only sound when partition p of every source
topic holds the same customers: a worker refuses to start otherwise, naming the topic."""

from __future__ import annotations

import pytest

from churnwatch.errors import UserError
from churnwatch.settings import Settings
from churnwatch.streams.admin import source_topics
from churnwatch.streams.app import create_app
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime


def _sources(settings: Settings, partitions: dict[str, int]) -> frozenset[str]:
    return frozenset(f"{topic}/{p}" for topic in source_topics(settings)
                     for p in range(partitions.get(topic, settings.topics.partitions)))


def _runtime(keyed: bool, partitions: dict[str, int]) -> Runtime:
    settings = Settings.build(kafka={"brokers": "localhost:1"},
                              runtime={"keyed_sources": keyed})
    return Runtime(settings, create_app(settings), Metrics(),
                   _sources(settings, partitions))


def test_a_source_topic_with_other_partitions_stops_one_hop_at_start() -> None:
    with pytest.raises(UserError, match=r"orders has 6.*unset runtime.keyed_sources"):
        _runtime(keyed=True, partitions={"orders": 6})


def test_co_partitioned_sources_run_one_hop_and_any_sources_run_two() -> None:
    assert _runtime(keyed=True, partitions={}).events_topic == "churnwatch-ticks"
    assert _runtime(keyed=False, partitions={"orders": 6}).events_topic == "churnwatch-events"
