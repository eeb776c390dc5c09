"""deploy/prometheus rules and the Grafana dashboard, checked by Prometheus' promtool:
every expression parses, every alert has a unit test, and every metric they name is one
a worker exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from churnwatch.engine import Stats
from churnwatch.streams.metrics import Metrics
from tests.support.paths import ROOT, RULES

RULE_TESTS = sorted((ROOT / "deploy" / "prometheus").glob("rules*.test.yml"))
DASHBOARD = ROOT / "deploy" / "grafana" / "churnwatch.json"
# Grafana's own variables, which Prometheus does not know
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
METRIC = re.compile(r"\b((?:churnwatch|process|python)_[a-z_]+)\b")


def promtool(*args: str, cwd: Path = ROOT) -> None:
    tool = shutil.which("promtool")
    assert tool, "promtool is installed by `make system-deps`"
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", ())]
    for name, value in GRAFANA_VARIABLES.items():
        exprs = [e.replace(name, value) for e in exprs]
    return exprs


SUFFIXES = {"counter": ("_total",), "info": ("_info",), "gauge": ("",),
            "histogram": ("_bucket", "_count", "_sum")}


def exported_names() -> set[str]:
    """Series names a worker exports, with or without a sample yet."""
    names = set()
    metrics = Metrics()
    metrics.read_counts(Stats())  # as a worker does
    for family in metrics.registry.collect():
        names |= {sample.name for sample in family.samples}
        names |= {family.name + s for s in SUFFIXES.get(family.type, ())}
    return names


def test_rules_are_valid() -> None:
    promtool("check", "rules", str(RULES))


def test_rule_unit_tests_pass() -> None:
    assert len(RULE_TESTS) == 2
    promtool("test", "rules", *(t.name for t in RULE_TESTS), cwd=RULE_TESTS[0].parent)


def test_every_alert_has_a_unit_test() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = [test for path in RULE_TESTS for test in yaml.safe_load(path.read_text())["tests"]]
    fired = {case["alertname"] for test in tests for case in test.get("alert_rule_test", ())
             if case["exp_alerts"]}
    assert alerts - fired == set()
    assert len(alerts) >= 14


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 25
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel_{n}", "expr": e} for n, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    promtool("check", "rules", str(path))


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_metric_named_is_exported_by_a_worker(source: str) -> None:
    text = RULES.read_text() if source == "rules" else "\n".join(dashboard_exprs())
    named = set(METRIC.findall(text))
    assert named, "no metric found: the pattern is wrong"
    exported = exported_names() | {"churnwatch_memory_limit_bytes"}  # only in a cgroup
    assert named - exported == set()


def test_dashboard_layout() -> None:
    doc = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in doc["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"{p['title']} overlaps another panel"
        cells |= mine
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
    assert [v["name"] for v in doc["templating"]["list"]] == ["datasource"]


def test_registry_of_its_own_has_the_process_metrics() -> None:
    """The worker's registry is its own (tests run several in one process), so the
    process collectors must be added to it explicitly."""
    names = exported_names()
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total",
            "python_gc_collections_total", "python_info"} <= names
    assert "process_resident_memory_bytes" not in {
        s.name for f in Metrics(CollectorRegistry()).registry.collect() for s in f.samples}
