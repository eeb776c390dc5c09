"""The built wheel, installed as a user installs it: one import package, no shadowing.

Builds the wheel from this checkout and installs it with its dependencies into a fresh
virtual environment (pip's cache makes that quick after ``make install``).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.support.packaging import PIP, run, wheel_and_fresh_venv

pytestmark = pytest.mark.builds_package
ROOT = Path(__file__).parents[2]








@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed from the package index; returns its python."""
    wheel, python = wheel_and_fresh_venv(tmp_path_factory.mktemp("wheel"))
    run([*PIP, "--python", str(python), "install", "--quiet", str(wheel)])
    return python


def test_the_wheel_installs_one_top_level_package(installed: Path, tmp_path: Path) -> None:
    record = run([str(installed), "-c", textwrap.dedent("""
        import json
        from importlib import metadata
        files = metadata.distribution("churnwatch").files
        print(json.dumps(sorted({f.parts[0] for f in files})))
    """)], cwd=tmp_path)  # not the checkout, whose churnwatch.egg-info would answer
    top = [p for p in json.loads(record) if not p.endswith(".dist-info") and p != ".."]
    assert top == ["churnwatch"], top  # ".." holds the console script


def test_a_project_with_its_own_models_package_imports_and_replays(
        installed: Path, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "models").mkdir(parents=True)
    (project / "models" / "__init__.py").write_text("SHOP_MODELS = True\n")
    (project / "signals").mkdir()
    (project / "signals" / "__init__.py").write_text("")
    (project / "events.jsonl").write_bytes((ROOT / "tests/golden/sample.jsonl").read_bytes())
    out = run([str(installed), "-c", textwrap.dedent("""
        import models, churnwatch
        assert models.SHOP_MODELS
        result = churnwatch.replay("events.jsonl", as_of="2025-06-30T00:00:00Z")
        print(len(result.alerts), result.counts.customers)
    """)], cwd=project)
    assert out.split() == ["14", "9"]
    cli = installed.parent / "churnwatch"
    run([str(cli), "replay", "events.jsonl", "--alerts", "a.jsonl", "--customers", "c.jsonl",
          "--as-of", "2025-06-30T00:00:00Z"], cwd=project)
    assert (project / "a.jsonl").read_bytes() == \
        (ROOT / "tests/golden/sample.alerts.jsonl").read_bytes()
