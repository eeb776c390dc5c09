"""schemas/asyncapi.json is a valid AsyncAPI 3.0 document, by the AsyncAPI project's own
parser (node; `make test` installs it), with every $ref to the JSON Schemas resolved."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson

from churnwatch.settings import Settings
from churnwatch.tools.asyncapi import document

ROOT = Path(__file__).parents[2]
CHECKER = ROOT / "tests" / "asyncapi"


def test_the_official_parser_finds_no_error_in_the_asyncapi_document() -> None:
    assert (CHECKER / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "the AsyncAPI parser is missing: `make test` installs it (npm ci --prefix "
        "tests/asyncapi)")
    run = subprocess.run(["node", "validate.mjs", str(ROOT / "schemas" / "asyncapi.json")],
                         cwd=CHECKER, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid: 11 channels, 13 operations, 10 messages" in run.stdout


def test_the_document_names_every_topic_the_settings_name() -> None:
    settings = Settings.build()
    topics, app = settings.topics, settings.runtime.app_id
    addresses = {c["address"] for c in document()["channels"].values()}
    assert addresses == {topics.orders, topics.engagement, topics.complaints, topics.actions,
                         topics.recall, topics.holdout, topics.dead_letter, f"{app}-events",
                         f"{app}-ticks", f"{app}-customers-changelog",
                         f"{app}-populations-changelog"}
    committed = orjson.loads((ROOT / "schemas" / "asyncapi.json").read_bytes())
    assert committed == orjson.loads(orjson.dumps(document()))


def test_both_paths_own_topics_are_documented_whichever_is_configured() -> None:
    """Operators grant ACLs from the shipped document, written with the default (two
    hops); before, the one-hop path's ticks topic was missing from it (issue 38)."""
    app = Settings.build().runtime.app_id
    for keyed in (False, True):
        doc = document(Settings.build(runtime={"keyed_sources": keyed}))
        addresses = {c["address"] for c in doc["channels"].values()}
        assert {f"{app}-ticks", f"{app}-events"} <= addresses
        assert set(doc["channels"]["ticks"]["messages"]) == {"tick"}
        refs = {op["channel"]["$ref"].rpartition("/")[2] for op in doc["operations"].values()}
        assert refs == set(doc["channels"])  # every channel is used, none is missing
