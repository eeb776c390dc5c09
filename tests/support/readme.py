"""The README as tests read it: the rows of its tables that promise something."""

from __future__ import annotations

import re

from tests.support.paths import ROOT


def readme_row(what: str) -> str:
    rows = [r for r in (ROOT / "README.md").read_text().splitlines()
            if r.startswith(f"| {what} |")]
    assert rows, f"README lacks a row for: {what}"
    return rows[0]


def promised_seconds(what: str) -> float:
    """The bound the README's row states ("within N s")."""
    said = re.search(r"within (\d+) s", readme_row(what))
    assert said, f"README's row for {what} states no time"
    return float(said.group(1))
