"""The shipped documents stay true to the code they describe."""

import json
import re
from pathlib import Path

from churnwatch.models.alert import SCHEMA_VERSION, Alert
from churnwatch.models.rfm import SEGMENTS
from churnwatch.models.summary import CustomerSummary
from churnwatch.signals import SIGNAL_NAMES

ROOT = Path(__file__).parents[2]
CONTRACT = (ROOT / "docs" / "CONTRACT.md").read_text()
DOMAIN = (ROOT / "docs" / "DOMAIN.md").read_text()
README = (ROOT / "README.md").read_text()


def test_the_contract_names_exactly_the_signals_the_code_raises() -> None:
    table = CONTRACT.split("## Signals", 1)[1].split("##", 1)[0]
    named = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert named == set(SIGNAL_NAMES) - {"recovered"}
    assert "`recovered`" in table


def test_the_contract_lists_every_field_of_a_customer_line() -> None:
    line = CONTRACT.split("CUSTOMERS.jsonl: one line per customer", 1)[1].split("\n- ", 1)[0]
    assert re.findall(r"`([a-z_]+)`", line) == list(CustomerSummary.model_fields)


def test_the_readme_alert_example_is_a_valid_alert_of_this_version() -> None:
    section = README.split("## The alert", 1)[1]
    example = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    assert Alert.model_validate(example).type.endswith(f".{SCHEMA_VERSION}")


def test_the_domain_map_names_real_segments_and_files() -> None:
    code_map = DOMAIN.split("# Where each rule lives in churnwatch", 1)[1]
    for segment in ("general-develop", "lapsed-big-spender"):
        assert segment in code_map and segment in SEGMENTS.values()
    for path in set(re.findall(r"`((?:models|signals|deploy)/[\w./]+)`", code_map)):
        assert (ROOT / path).exists(), path


def test_links_in_the_readme_and_docs_point_at_files() -> None:
    for doc in (ROOT / "README.md", ROOT / "docs" / "CONTRACT.md", ROOT / "CHANGELOG.md"):
        for target in re.findall(r"\]\(([^)#]+)\)", doc.read_text()):
            if "://" not in target:
                assert (doc.parent / target).exists(), (doc.name, target)
