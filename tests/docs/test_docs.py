"""The shipped documents stay true to the code they describe."""

import json
import re
import subprocess
from importlib import metadata
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
    assert named == set(SIGNAL_NAMES) - {"recovered", "follow_up_overdue"}
    assert "`recovered`" in table
    # the team's own signal, about follow-ups, is documented with what churnwatch adds
    assert "`follow_up_overdue`" in CONTRACT.split("## What churnwatch adds", 1)[1]


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


def test_the_readme_command_table_has_every_command_with_every_option() -> None:
    """Before: demo, fit, evaluate and cdnow were missing, and ``demo --seconds``."""
    from churnwatch.cli import main

    table = README.split("| command | what it does |", 1)[1].split("\n\n", 1)[0]
    rows = {m.group(1): m.group(0)
            for m in re.finditer(r"^\| `churnwatch (\w+)[^\n]*", table, re.M)}
    missing = [f"{name} {option}".strip() for name, command in main.commands.items()
               for option in ([""] if name not in rows else
                              [o for p in command.params for o in p.opts
                               if o.startswith("--") and o not in rows[name]])]
    assert not missing, missing


def _schema(name: str) -> dict:
    return json.loads((ROOT / "schemas" / name).read_text())


def test_the_alert_schema_requires_what_the_contract_requires() -> None:
    said = CONTRACT.split("## Alerts (the recall topic)", 1)[1].split("`data` carries", 1)[0]
    required = said.split("Required:", 1)[1]
    assert set(re.findall(r"`([a-z]+)`", required)) == set(
        _schema(f"alert.{SCHEMA_VERSION}.json")["required"])


def test_the_customer_schema_requires_every_field_the_contract_lists() -> None:
    line = CONTRACT.split("CUSTOMERS.jsonl: one line per customer", 1)[1].split("\n- ", 1)[0]
    assert set(re.findall(r"`([a-z_]+)`", line)) == set(
        _schema(f"customer.{SCHEMA_VERSION}.json")["required"])


def test_one_true_version_statement() -> None:
    """CHANGELOG says since which release alerts are of this schema version; the package is
    that release or later, and CONTRACT says which earlier release still writes the one
    before."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    stated = re.search(r"\(`(v\d+)` since (\d+\.\d+)", changelog)
    assert stated is not None
    version, since = stated.groups()
    assert version == SCHEMA_VERSION
    package = tuple(int(p) for p in metadata.version("churnwatch").split(".")[:2])
    assert package >= tuple(int(p) for p in since.split("."))
    earlier = re.search(r"stays on churnwatch (\d+\.\d+)\.x, which writes (v\d+)", CONTRACT)
    assert earlier is not None
    assert tuple(int(p) for p in earlier.group(1).split(".")) < package
    assert int(earlier.group(2)[1:]) == int(SCHEMA_VERSION[1:]) - 1


DOCUMENTS = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), ROOT / "pyproject.toml",
             *(ROOT / "deploy").glob("*.*")]


def _shipped(path: Path) -> bool:
    """A file or folder a clean clone has: in a git checkout, local leftovers (a built
    venv, generated data) do not count, so the test fails here as it would in CI."""
    if not (ROOT / ".git").exists():
        return path.exists()
    relative = path.resolve().relative_to(ROOT.resolve()).as_posix()
    tracked = subprocess.run(["git", "ls-files", "--", relative], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    return bool(tracked.strip())


def test_every_relative_link_and_named_document_exists() -> None:
    missing = []
    for doc in DOCUMENTS:
        text = doc.read_text()
        links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)  # markdown links
        named = re.findall(r"(?<![\w/.])((?:docs|schemas|deploy|bench|tests)/[\w./-]+\.\w+)",
                           text)  # paths named in prose
        for target in links:
            if not re.match(r"[a-z]+:", target) and not _shipped(doc.parent / target):
                missing.append(f"{doc.name}: {target}")
        missing += [f"{doc.name}: {p}" for p in named if not _shipped(ROOT / p)]
    assert not missing, missing


def test_the_readme_layout_names_every_package_and_only_real_files() -> None:
    """The Layout section is how a newcomer finds things: every folder it names exists,
    every file it names is in that folder, and every package of the tree is named."""
    layout = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    entries: dict[str, str] = {}
    for block in re.findall(r"```\n(.*?)```", layout, re.S):
        name = ""
        for line in block.splitlines():
            text = line
            if line and not line[0].isspace():
                name, _, text = line.partition(" ")
                entries[name] = ""
            entries[name] += text
    for name, text in entries.items():
        assert (ROOT / name).exists(), name
        if name.endswith("/"):
            for file in re.findall(r"\b([a-z_]+\.(?:py|json))\b", text):
                assert (ROOT / name / file).exists(), f"{name}{file}"
    packages = {f"{p.parent.relative_to(ROOT).as_posix()}/"
                for p in (ROOT / "churnwatch").glob("*/__init__.py")}
    linked = {f"{p.name}/" for p in (ROOT / "churnwatch").iterdir() if p.is_symlink()}
    named = {n for n in entries if n.endswith("/")}
    assert (packages - {f"churnwatch/{n}" for n in linked}) | linked <= named
