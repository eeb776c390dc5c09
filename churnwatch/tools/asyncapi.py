"""An AsyncAPI 3.0 document of every topic churnwatch reads or writes, made from the code.

A consumer learns from it what the README says in prose: the topics, their keys, headers
and payloads, each payload by reference to the JSON Schemas beside it in ``schemas/``.
Topic names are the defaults; each is a setting (named in the channel's description).
``churnwatch schema`` writes it with the schemas; the suite validates it with the AsyncAPI
project's own parser.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from churnwatch.models.alert import SCHEMA_VERSION
from churnwatch.models.events import EVENT_SCHEMA_VERSION, KINDS
from churnwatch.settings import Settings
from churnwatch.streams.admin import own_topic

CUSTOMER_KEY = {"type": "string", "description": "the customer_id (UTF-8)"}
JSON_SCHEMA = "application/schema+json;version=draft-07"


def _ref(name: str) -> dict[str, Any]:
    """A payload by reference to a file of ``schemas/``: JSON Schema as pydantic writes
    it (an AsyncAPI Schema Object would refuse its OpenAPI-style discriminator)."""
    return {"schemaFormat": JSON_SCHEMA, "schema": {"$ref": f"./{name}"}}


def _event_message(kind: str, title: str) -> dict[str, Any]:
    return {
        "name": f"{kind}-event", "title": title, "contentType": "application/json",
        "summary": f"One {kind} event (docs/CONTRACT.md); `kind` may be absent on this topic.",
        "payload": _ref(f"{kind}.{EVENT_SCHEMA_VERSION}.json"),
        "bindings": {"kafka": {"key": {"type": "string",
                                       "description": "any; the customer_id is usual"}}},
    }


_DEAD_LETTER = {
    "type": "object", "required": ["topic", "partition", "offset", "reason"],
    "properties": {
        "topic": {"type": "string"}, "partition": {"type": "integer"},
        "offset": {"type": "integer"},
        "reason": {"type": "string", "description": "why it was not applied; 'late: ...' "
                   "for an event behind its customer's evaluated time"},
        "raw": {"type": "string", "description": "the original bytes, when UTF-8"},
        "raw_base64": {"type": "string", "description": "the original bytes otherwise"},
        "raw_bytes": {"type": "integer", "description": "size, for a message over "
                      "runtime.dead_letter_max_bytes (then no raw or raw_base64)"},
        "raw_sha256": {"type": "string"},
        "raw_head_base64": {"type": "string", "description": "the first bytes"},
    },
}

_CE_HEADERS = {
    "type": "object", "required": [
        "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time",
        "content-type"],
    "properties": {name: {"type": "string"} for name in (
        "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")}
    | {"content-type": {"const": "application/json"}},
}


def document(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or Settings.build()
    t, rt = settings.topics, settings.runtime
    inputs = {"orders": ("order", t.orders, "an order (a basket)"),
              "engagement": ("engagement", t.engagement, "a visit, post, follow, offer or "
                             "survey"),
              "complaints": ("complaint", t.complaints, "a service complaint"),
              "actions": ("action", t.actions, "what marketing did about an alert "
                          "(its id), for follow-ups and outcomes")}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for channel, (kind, topic, what) in inputs.items():
        messages[f"{kind}Event"] = _event_message(kind, what)
        channels[channel] = {
            "address": topic, "title": f"{kind} events",
            "description": f"Input: {what}. CHURNWATCH_TOPICS__{channel.upper()} names it.",
            "messages": {kind: {"$ref": f"#/components/messages/{kind}Event"}}}
        operations[f"read{channel.title()}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"churnwatch reads {channel}: invalid messages go to the dead-letter "
                       "topic, never lost"}
    messages["alertStructured"] = {
        "name": "alert", "title": "Alert, structured mode (the default)",
        "contentType": "application/cloudevents+json",
        "summary": "A CloudEvents 1.0 envelope: id is the idempotency key, data.signal "
                   "and data.reasons say why (docs/CONTRACT.md).",
        "headers": {"type": "object", "required": ["content-type"], "properties": {
            "content-type": {"const": "application/cloudevents+json; charset=utf-8"}}},
        "payload": _ref(f"alert.{SCHEMA_VERSION}.json"),
        "bindings": {"kafka": {"key": CUSTOMER_KEY}}}
    messages["alertBinary"] = {
        "name": "alert-binary", "title": "Alert, binary mode (runtime.cloudevents_mode)",
        "contentType": "application/json",
        "summary": "The envelope's attributes as ce_ headers; the value is its data.",
        "headers": _CE_HEADERS,
        "payload": _ref(f"alert.{SCHEMA_VERSION}.json#/$defs/AlertData"),
        "bindings": {"kafka": {"key": CUSTOMER_KEY}}}
    messages["deadLetter"] = {
        "name": "dead-letter", "title": "An input not applied, with the reason",
        "contentType": "application/json",
        "headers": {"type": "object", "properties": {
            name: {"type": "string"} for name in (
                "cw-reason", "cw-topic", "cw-partition", "cw-offset")}},
        "payload": _DEAD_LETTER}
    alert_messages = {"structured": {"$ref": "#/components/messages/alertStructured"},
                      "binary": {"$ref": "#/components/messages/alertBinary"}}
    channels["recall"] = {
        "address": t.recall, "title": "alerts",
        "description": "Output: one alert per record, keyed by customer, in one CloudEvents "
                       "Kafka binding mode. CHURNWATCH_TOPICS__RECALL names it; "
                       "runtime.routes can copy alerts of chosen signals or tiers to more "
                       "topics, in the same shape.",
        "messages": alert_messages}
    channels["holdout"] = {
        "address": t.holdout, "title": "held-out alerts",
        "description": "Output: alerts for the holdout group (loop.holdout_share), in the "
                       "recall topic's shape with the header cw-holdout: true. For "
                       "measuring outcomes only: never act on them. "
                       "CHURNWATCH_TOPICS__HOLDOUT names it.",
        "messages": alert_messages}
    channels["deadLetter"] = {
        "address": t.dead_letter, "title": "dead letters",
        "description": "Output: every input not applied (invalid, out of time, late), with "
                       "its reason and original bytes. CHURNWATCH_TOPICS__DEAD_LETTER names "
                       "it.",
        "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}}}
    internal = "Internal to churnwatch's workers: for reading only when debugging."
    messages["forwardedEvent"] = {
        "name": "forwarded-event", "title": "A valid input event, keyed by customer",
        "contentType": "application/json",
        "headers": {"type": "object", "required": ["cw-kind"], "properties": {
            "cw-kind": {"enum": list(KINDS)},
            "cw-source": {"type": "string", "description": "topic/partition@offset of the "
                          "input it came from: a re-forwarded event is recognised"}}},
        "payload": _ref(f"event.{EVENT_SCHEMA_VERSION}.json"),
        "bindings": {"kafka": {"key": CUSTOMER_KEY}}}
    messages["tick"] = {
        "name": "tick", "title": "Event-time progress of the sender's source partitions, "
        "and the censuses of its detect partitions",
        "contentType": "application/json",
        "headers": {"type": "object", "required": ["cw-tick"],
                    "properties": {"cw-tick": {"const": "1"}}},
        "payload": {"type": "object", "required": ["sources", "censuses"], "properties": {
            "sources": {"type": "object", "description": "source partition -> [event "
                        "time its customers reached or null, idle, next offset, last fetch "
                        "(epoch s) or null, last resumed (epoch s) or null]",
                        "additionalProperties": {"type": "array"}},
            "censuses": {"type": "object", "description": "detect partition -> [settled "
                         "mark or null, [newest times from `since` on, since or null, "
                         "[[day, customers], ...], customers]]",
                         "additionalProperties": {"type": "array"}}}}}
    messages["state"] = {
        "name": "customer-state", "title": "A customer's state (msgpack) or a partition's "
        "population statistics",
        "contentType": "application/octet-stream",
        "payload": {"type": "string", "format": "binary"},
        "bindings": {"kafka": {"key": {"type": "string"}}}}
    tick = {"tick": {"$ref": "#/components/messages/tick"}}
    # both paths' own topics: which one a deployment uses is a setting, and operators
    # grant ACLs from this document
    channels["events"] = {
        "address": own_topic(settings.changed("runtime", keyed_sources=False)),
        "title": "events by customer",
        "description": f"{internal} Two hops (the default): valid events repartitioned by "
        "customer, and ticks.",
        "messages": {"event": {"$ref": "#/components/messages/forwardedEvent"}, **tick}}
    channels["ticks"] = {
        "address": own_topic(settings.changed("runtime", keyed_sources=True)),
        "title": "event-time ticks",
        "description": f"{internal} One hop (runtime.keyed_sources): every worker's "
        "event-time progress, sent to every partition; the workers detect straight from "
        "the source topics.", "messages": tick}
    for table in ("customers", "populations"):
        channels[f"{table}Changelog"] = {
            "address": f"{rt.app_id}-{table}-changelog", "title": f"{table} table",
            "description": f"{internal} The changelog a restarted worker recovers from.",
            "messages": {"state": {"$ref": "#/components/messages/state"}}}
    for name, action, channel, summary in (
            ("forwardEvents", "send", "events",
             "two hops: the ingest agent forwards valid events, and ticks every second"),
            ("detectEvents", "receive", "events", "two hops: the detect agent"),
            ("sendTicks", "send", "ticks", "one hop: every worker ticks every second"),
            ("detectTicks", "receive", "ticks",
             "one hop: the detect agent, beside the source topics")):
        operations[name] = {"action": action, "channel": {"$ref": f"#/channels/{channel}"},
                            "summary": summary}
    for table in ("customers", "populations"):
        operations[f"write{table.title()}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{table}Changelog"}}
    operations["publishAlerts"] = {
        "action": "send", "channel": {"$ref": "#/channels/recall"},
        "summary": "churnwatch publishes alerts; a record may come twice after a crash, "
                   "always with the same id"}
    operations["publishHeldOut"] = {
        "action": "send", "channel": {"$ref": "#/channels/holdout"},
        "summary": "alerts of held-out customers, never on the recall topic"}
    operations["publishDeadLetters"] = {
        "action": "send", "channel": {"$ref": "#/channels/deadLetter"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "churnwatch", "version": metadata.version("churnwatch"),
                 "description": "Churn early-warning alerts from order, engagement and "
                                "complaint events (README.md, docs/CONTRACT.md). Alerts "
                                f"are schema {SCHEMA_VERSION}, input events "
                                f"{EVENT_SCHEMA_VERSION}."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "localhost:9092", "protocol": "kafka",
                              "description": "any Apache Kafka cluster: "
                                             "CHURNWATCH_KAFKA__BROKERS"}},
        "channels": channels, "operations": operations,
        "components": {"messages": messages}}
