"""Where things are in the repository, for tests that read them."""

from pathlib import Path

ROOT = Path(__file__).parents[2]
RULES = ROOT / "deploy" / "prometheus" / "churnwatch.rules.yml"
"""The Prometheus recording and alert rules, unit-tested with promtool and loaded by a
real Prometheus."""
