"""Topic creation and Kafka client options derived from the settings.

Source topics are created explicitly with the configured partition count: auto-created
topics get whatever the broker defaults to.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from churnwatch.errors import UserError
from churnwatch.settings import Settings
from churnwatch.streams.probe import require_protocol

TANSU_CLUSTER_ID = "tansu_cluster"
"""The cluster id Tansu reports by default and the launcher gives it: how a worker
recognises the embedded broker by its answers (``streams/admin.py``)."""

NO_BROKER = ("no Kafka broker configured: set CHURNWATCH_KAFKA__BROKERS=host:port\n"
             "  (for a local one: `churnwatch broker --port 9092` and "
             "CHURNWATCH_KAFKA__BROKERS=127.0.0.1:9092)")


def client_options(settings: Settings) -> dict[str, Any]:
    """kafka-python options for the configured security settings. Fails within seconds,
    naming the fix, when no broker is configured, none accepts a connection, or the first
    one does not speak the configured protocol (the clients themselves wait 30 s and then
    report ``NoBrokersAvailable``, or never give up on a TLS handshake)."""
    k = settings.kafka
    require_brokers(settings)
    _require_reachable(settings)
    options: dict[str, Any] = {"bootstrap_servers": k.brokers.split(","),
                               "security_protocol": k.security_protocol}
    if k.sasl_mechanism:
        options |= {"sasl_mechanism": k.sasl_mechanism,
                    "sasl_plain_username": k.sasl_username,
                    "sasl_plain_password": k.sasl_password.get_secret_value()
                    if k.sasl_password else None}
    if k.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(settings)
    return options


def require_brokers(settings: Settings) -> None:
    """A broker setting at all: the first thing a worker checks, before it takes a data
    directory or a port."""
    if not settings.kafka.brokers.strip():
        raise UserError(NO_BROKER)


def _require_reachable(settings: Settings, timeout: float = 5.0) -> None:
    k = settings.kafka
    tls = k.security_protocol in ("SSL", "SASL_SSL")
    problems = []
    for address in k.brokers.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as s:
                require_protocol(s, host.strip("[]"), address.strip(), settings,
                                 ssl_context(settings) if tls else None)
                return
        except (OSError, ValueError) as exc:
            problems.append(f"{address.strip()}: {getattr(exc, 'strerror', None) or exc}")
    raise UserError(f"cannot connect to any broker of CHURNWATCH_KAFKA__BROKERS ("
                    f"{'; '.join(problems)})\n  check the address, or start a local one with "
                    "`churnwatch broker`")


def ssl_context(settings: Settings) -> ssl.SSLContext:
    k = settings.kafka
    context = ssl.create_default_context(cafile=str(k.ssl_cafile) if k.ssl_cafile else None)
    if k.ssl_certfile:
        context.load_cert_chain(str(k.ssl_certfile),
                                str(k.ssl_keyfile) if k.ssl_keyfile else None)
    return context


def embedded_broker(settings: Settings) -> bool:
    """Whether the cluster is the embedded broker (Tansu), by what it answers: its cluster
    id. Its workarounds (``runtime.fast_group_join``) follow the broker, not who started
    it: a worker pointed at ``churnwatch broker`` by address needs them as much as the
    demo's, and one on Apache Kafka needs none of them."""
    admin = KafkaAdminClient(**client_options(settings), client_id="churnwatch-admin")
    try:
        return bool(admin.describe_cluster().get("cluster_id") == TANSU_CLUSTER_ID)
    finally:
        admin.close()


def source_topics(settings: Settings) -> dict[str, str]:
    """Topic name -> event kind."""
    t = settings.topics
    return {t.orders: "order", t.engagement: "engagement", t.complaints: "complaint",
            t.actions: "action"}


def own_topic(settings: Settings) -> str:
    """The detect agent's own topic: ``<app_id>-events`` with the events repartitioned by
    customer and the ticks (two hops), or ``<app_id>-ticks`` with only the ticks (one hop,
    ``runtime.keyed_sources``)."""
    rt = settings.runtime
    return f"{rt.app_id}-{'ticks' if rt.keyed_sources else 'events'}"


CUSTOMERS_TABLE, POPULATIONS_TABLE = "customers", "populations"
"""The worker's tables (streams/runtime.py); their changelogs are topics of their own."""


def changelog_topics(settings: Settings) -> list[str]:
    """The changelog topics of the worker's tables, as Faust names them."""
    return [f"{settings.runtime.app_id}-{table}-changelog"
            for table in (CUSTOMERS_TABLE, POPULATIONS_TABLE)]


def ensure_topics(settings: Settings) -> frozenset[str]:
    """Create missing topics; return every source partition (``topic/partition``) as the
    cluster has them now, which is what the event-time watermark waits to hear from.
    The worker's own topics (the detect agent's and the tables' changelogs, compacted as
    Faust would make them) are created here, and waited for: left to Faust, a worker
    could join the group before one was in the cluster's metadata, and the consumer
    assigned none of its partitions ("Ignoring missing topic") until the next metadata
    refresh, 5 minutes later: no event was detected meanwhile (seen 2026-12-07 for the
    events topic, 1 start in 5 under load, and for the populations changelog, 1 start of
    the hostile-input test in 9)."""
    t = settings.topics
    names = [*source_topics(settings), t.recall, t.holdout, t.dead_letter,
             *(route.topic for route in settings.runtime.routes), own_topic(settings)]
    changelogs = changelog_topics(settings)
    admin = KafkaAdminClient(**client_options(settings), client_id="churnwatch-admin")
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, t.partitions, t.replication_factor)
               for name in dict.fromkeys(names) if name not in existing]
        new += [NewTopic(name, t.partitions, t.replication_factor,
                         topic_configs={"cleanup.policy": "compact"})
                for name in changelogs if name not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                admin.create_topics(new)
        _source_partitions(admin, [own_topic(settings), *changelogs])
        return _source_partitions(admin, list(source_topics(settings)))
    finally:
        admin.close()


def _source_partitions(admin: KafkaAdminClient, topics: list[str]) -> frozenset[str]:
    """A topic just created may not be in every broker's metadata yet: ask again, briefly."""
    for _ in range(20):
        described = admin.describe_topics(topics)
        if all(t["error_code"] == 0 and t["partitions"] for t in described):
            return frozenset(f"{t['name']}/{p['partition_index']}"
                             for t in described for p in t["partitions"])
        time.sleep(0.5)
    raise RuntimeError(f"source topics not described by the cluster: {described}")
