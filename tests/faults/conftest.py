"""The fault suite runs workers against Apache Kafka: a one-node cluster of its own per
module (its tests pause and stall it), and three nodes for the cluster faults
(test_cluster_faults.py).

``make test`` runs a short version of every scenario; ``make faults`` the full one
(``CHURNWATCH_FAULTS=full``: 20 kills instead of 1, 200 customers instead of 100)."""

from collections.abc import Iterator

import pytest

from churnwatch.tools.apache_kafka import KafkaCluster, running_kafka
from tests.support.session import BROKERS_USED


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[KafkaCluster]:
    """A one-node Apache Kafka for this module alone: its tests freeze it."""
    with running_kafka(home=tmp_path_factory.mktemp("kafka")) as kafka:
        request.config.stash.setdefault(BROKERS_USED, set()).add(kafka.describe())
        yield kafka
