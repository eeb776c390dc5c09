"""The README's Python examples run as written, and print what the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from churnwatch.testing import EventLog

ROOT = Path(__file__).parents[2]


def _blocks(section: str) -> list[str]:
    """The fenced blocks of a README section, in order."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```[a-z]*\n(.*?)```", body, re.S)


def test_the_python_api_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    code, shown = _blocks("Using churnwatch from Python")[:2]
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown
    assert (tmp_path / "events.jsonl").exists()


def test_the_pytest_plugin_example_passes_and_its_golden_check_can_fail(
        pytester: pytest.Pytester) -> None:
    code = _blocks("Testing your rules with pytest")[0]
    pytester.makepyfile(test_rules=code)
    log = EventLog().orders("c1", days=range(0, 200, 9)).order("c1", day=205, amount=10)
    (pytester.path / "logs").mkdir()
    log.write(pytester.path / "logs" / "march.jsonl")
    # the plugin comes from the installed package's pytest11 entry point, not a conftest
    first = pytester.runpytest_subprocess("--churnwatch-update-golden")
    first.assert_outcomes(passed=2)
    assert (pytester.path / "golden" / "march.alerts.jsonl").read_bytes()
    pytester.runpytest_subprocess().assert_outcomes(passed=2)
    golden = pytester.path / "golden" / "march.alerts.jsonl"
    golden.write_bytes(golden.read_bytes().replace(b'"basket_drop"', b'"gone_quiet"', 1))
    failed = pytester.runpytest_subprocess()
    failed.assert_outcomes(passed=1, failed=1)
    failed.stdout.fnmatch_lines(["*data.signal: 'gone_quiet' -> 'basket_drop'*"])
