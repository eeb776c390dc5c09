"""The Faust application and its Kafka settings, all from :class:`churnwatch.settings.Settings`."""

from __future__ import annotations

from typing import Any

import faust

from churnwatch.settings import Settings
from churnwatch.streams.admin import ssl_context
from churnwatch.streams.internals import ConsumerTransport, KeepQueuesOnResume
from churnwatch.streams.store import store_url


def create_app(settings: Settings) -> faust.App:
    k, rt = settings.kafka, settings.runtime
    if not k.brokers:
        raise ValueError("no broker configured: set CHURNWATCH_KAFKA__BROKERS")
    options: dict[str, Any] = {
        "broker": [f"kafka://{b.strip()}" for b in k.brokers.split(",")],
        # Faust reads env vars that override constructor arguments (a Kubernetes service
        # named `web` crashes it): every setting comes from our Settings, none from env.
        "env": {},
        "store": store_url(settings),
        "datadir": str(rt.data_dir / f"{rt.app_id}-data"),
        "web_enabled": False,
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        # one changelog send per record costs the broker ~100 us; batch them
        "producer_linger": 0.02,
        "producer_max_batch_size": 262_144,
        # Faust would wait, at shutdown and rebalance, for every in-flight event to be
        # acked; ours are acked by a flush that has stopped by then, so SIGTERM hung.
        # Unacked events are redelivered to the next owner, and the detector's state
        # makes redelivery harmless (offsets and event ids per customer).
        "stream_wait_empty": False,
    }
    credentials = _credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    if rt.fast_group_join:
        # The embedded broker makes a group join wait session_timeout / 2: 30 s with Faust
        # defaults, ~1 s with these. Production Kafka wants the usual values.
        options |= {"broker_session_timeout": 2.0, "broker_heartbeat_interval": 0.5,
                    "broker_rebalance_timeout": 2.0}
        # Tansu answers ListOffsets "latest" with the first offset of the partition's last
        # batch + 1 (measured: 1 for 100 records in one batch). Faust's table recovery
        # reads each changelog up to that answer, so a restart can miss the tail of the
        # last batch and resume from stale customer states. One record per batch makes
        # the answer exact (measured: 100 for 100).
        options["producer_max_batch_size"] = 1
    app = faust.App(rt.app_id, **options)
    # before the consumer and the producer
    app.transport = ConsumerTransport(app.conf.broker_consumer, app,
                                      idempotent=k.idempotent is not False)
    app.flow_control = KeepQueuesOnResume(loop=app.loop)  # before any stream exists
    # Faust logs a warning for every buffered send past 100 (3 % of worker time under
    # load, measured with py-spy); alert bursts and batched state writes exceed it.
    app.producer.buffer.max_messages = 100_000
    return app


def _credentials(settings: Settings) -> Any:
    k = settings.kafka
    if k.security_protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings) if k.security_protocol.endswith("SSL") else None
    if k.security_protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=k.sasl_username,
        password=k.sasl_password.get_secret_value() if k.sasl_password else None,
        ssl_context=context,
        mechanism=k.sasl_mechanism or "PLAIN",
    )
