"""User mistakes get one or two plain lines and exit status 1, never a traceback.

Each case is also a row of README's "When something is wrong" table: the test keeps the
table true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from churnwatch.cli import main
from tests.support.golden import GOLDEN

ROOT = Path(__file__).parents[2]
SAMPLE = str(GOLDEN / "sample.jsonl")


@dataclass(frozen=True)
class Mistake:
    what: str  # the README row's first column
    args: list[str]
    message: str  # a fragment the user sees; also in the README row
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int = 1


def _replay(*extra: str, log: str = SAMPLE) -> list[str]:
    return ["replay", log, "--alerts", "{tmp}/a.jsonl", "--customers", "{tmp}/c.jsonl", *extra]


MISTAKES = [
    Mistake("output directory does not exist",
            ["replay", SAMPLE, "--alerts", "{tmp}/missing/a.jsonl", "--customers", "{tmp}/c"],
            "missing/a.jsonl: No such file or directory"),
    Mistake("`confirm` with its arguments swapped",
            ["confirm", "{tmp}/labels.jsonl", str(GOLDEN / "generated.alerts.jsonl")],
            "is not a line of labels"),
    Mistake("an invalid `CHURNWATCH_` value", _replay(),
            "CHURNWATCH_DETECTION__BASKET_DROP__RATIO='1.5': Input should be less than 1",
            {"CHURNWATCH_DETECTION__BASKET_DROP__RATIO": "1.5"}),
    Mistake("a duration that is not one", _replay(),
            "expected a duration such as 10m, 2h, 30d",
            {"CHURNWATCH_DETECTION__ALLOWED_LATENESS": "10 minutes"}),
    Mistake("`CHURNWATCH_CONFIG` pointing nowhere", _replay(),
            "CHURNWATCH_CONFIG={tmp}/nowhere.toml: No such file or directory",
            {"CHURNWATCH_CONFIG": "{tmp}/nowhere.toml"}),
    Mistake("`churnwatch worker` with no broker configured", ["worker"],
            "no Kafka broker configured: set CHURNWATCH_KAFKA__BROKERS=host:port"),
    Mistake("a broker address nobody listens on", ["produce", SAMPLE],
            "cannot connect to any broker of CHURNWATCH_KAFKA__BROKERS",
            {"CHURNWATCH_KAFKA__BROKERS": "127.0.0.1:1"}),
    Mistake("a log where no line is an event (a CSV file)", _replay(log="{tmp}/orders.csv"),
            "is a valid event"),
    Mistake("`schema` without `--out`", ["schema"], "Missing option '--out'", exit_code=2),
]


@pytest.mark.parametrize("case", MISTAKES, ids=lambda m: m.what)
def test_a_user_mistake_gets_plain_words(case: Mistake, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("customer_id,amount\nc1,10\n")
    (tmp_path / "labels.jsonl").write_text('{"customer_id": "c1", "churns": false, '
                                           '"churn_at": null, "expected_signals": []}\n')
    fill = {"tmp": str(tmp_path)}
    env = {k: v.format(**fill) for k, v in case.env.items()}
    result = CliRunner().invoke(main, [a.format(**fill) for a in case.args], env=env)
    assert result.exit_code == case.exit_code, result.output
    assert case.message.format(**fill) in result.stderr
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if not _is_report(line)]
    assert len(errors) <= 4, result.stderr  # usage errors carry click's 2-line usage hint


def _is_report(line: str) -> bool:
    """replay's own summary line, printed before it refuses the input."""
    return bool(re.match(r"\d+ lines in ", line))


def test_the_readme_table_lists_every_mistake_with_its_message() -> None:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("| ")]
    for case in MISTAKES:
        row = next((r for r in rows if r.startswith(f"| {case.what} |")), None)
        assert row is not None, f"README lacks a row for: {case.what}"
        fragment = case.message.format(tmp="…").split("{")[0][:40]
        assert fragment in row, (case.what, fragment)


def test_a_setting_the_command_does_not_use_only_warns(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _fill(_replay(), tmp_path),
                                env={"CHURNWATCH_KAFKA__SECURITY_PROTOCOL": "TLS"})
    assert result.exit_code == 0, result.output
    assert "CHURNWATCH_KAFKA__SECURITY_PROTOCOL='TLS'" in result.stderr
    assert "not used by this command" in result.stderr


def test_an_unknown_variable_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _fill(_replay(), tmp_path),
                                env={"CHURNWATCH_KAFKA_BROKERS": "kafka:9092"})
    assert result.exit_code == 0
    assert ("CHURNWATCH_KAFKA_BROKERS is not a churnwatch setting and is ignored; "
            "did you mean CHURNWATCH_KAFKA__BROKERS?") in result.stderr


def test_short_durations_are_understood(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["settings"],
                                env={"CHURNWATCH_DETECTION__ALLOWED_LATENESS": "2h"})
    assert result.exit_code == 0, result.output
    assert '"allowed_lateness": "PT2H"' in result.stdout


def test_replay_warns_when_lines_were_dropped_without_a_dead_letter_file(
        tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _fill(_replay(), tmp_path))
    assert result.exit_code == 0
    assert "warning: 4 lines were not applied; name a file with --dead-letter" in result.stderr


def test_replay_and_produce_read_standard_input(tmp_path: Path) -> None:
    data = Path(SAMPLE).read_bytes()
    args = _fill(_replay("--as-of", "2025-06-30T00:00:00Z", log="-"), tmp_path)
    result = CliRunner().invoke(main, args, input=data)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.jsonl").read_bytes() == \
        (GOLDEN / "sample.alerts.jsonl").read_bytes()
    produced = CliRunner().invoke(main, ["produce", "-"], input=data,
                                  env={"CHURNWATCH_KAFKA__BROKERS": ""})
    assert "no Kafka broker configured" in produced.stderr  # got past reading "-"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ["--debug", *_fill(_replay(), tmp_path)]
    args[args.index("--alerts") + 1] = str(tmp_path / "missing" / "a.jsonl")
    result = CliRunner().invoke(main, args)
    assert isinstance(result.exception, FileNotFoundError)


def _fill(args: list[str], tmp: Path) -> list[str]:
    return [a.format(tmp=tmp) for a in args]
