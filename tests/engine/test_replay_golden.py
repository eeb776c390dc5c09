"""Same log in, same bytes out: replay outputs are compared with reviewed golden files.

After a reviewed, intended behaviour change, ``make golden`` (pytest's
``--churnwatch-update-golden``) rewrites them; say in the commit why the alerts changed.
"""

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import churnwatch
from tests.golden.cases import CASES, GOLDEN, Case, run_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_replay_matches_the_golden_files_byte_for_byte(
        case: Case, tmp_path: Path, churnwatch_settings: churnwatch.Settings,
        golden: Callable[[churnwatch.ReplayResult, str], None]) -> None:
    golden(run_case(case, tmp_path, churnwatch_settings), f"../golden/{case.name}")


def test_the_sample_log_raises_each_signal_it_was_written_for() -> None:
    alerts = [orjson.loads(line) for line in (GOLDEN / "sample.alerts.jsonl").open("rb")]
    fired = {(a["subject"], a["data"]["signal"]) for a in alerts}
    assert fired >= {
        ("alice", "gone_quiet"), ("bob", "basket_drop"), ("carol", "complaint_escalated"),
        ("dave", "unfollowed"), ("erin", "promotion_skipped"), ("frank", "nps_detractor"),
        ("hana", "engagement_drop"), ("ivan", "gone_quiet"), ("ivan", "recovered")}
    assert not any(subject == "gina" for subject, _ in fired)


def test_the_sample_dead_letters_keep_line_reason_and_original_text() -> None:
    rows = [orjson.loads(line) for line in (GOLDEN / "sample.dead-letter.jsonl").open("rb")]
    assert [r["line"] for r in rows] == [32, 41, 51, 61]
    assert rows[3] == {"line": 61, "reason": rows[3]["reason"], "raw": "this line is not JSON"}
    assert "RFC 3339" in rows[0]["reason"]
    assert "score" in rows[1]["reason"]
