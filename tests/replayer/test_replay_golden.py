"""Same log in, same bytes out: replay outputs are compared with reviewed golden files.

After a reviewed, intended behaviour change, ``make golden`` (pytest's
``--churnwatch-update-golden``) rewrites them; say in the commit why the alerts changed.
"""

import gc
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import churnwatch
from tests.support.golden import CASES, GOLDEN, Case, run_case


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


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_few_states_decoded_give_the_golden_bytes(case: Case, tmp_path: Path) -> None:
    """Replay beyond ``runtime.live_customers`` keeps states encoded (compacted every
    ``COMPACT_EVERY`` items; customer lines read without decoding into the live set):
    with a limit of 5 the generated log's 80 customers are mostly encoded."""
    settings = churnwatch.Settings.build(runtime={"live_customers": 5})
    result = run_case(case, tmp_path, settings)
    for kind, produced in result.outputs().items():
        path = GOLDEN / f"{case.name}.{kind}.jsonl"
        assert produced == (path.read_bytes() if path.exists() else b""), kind


def test_replay_hands_every_object_back_to_the_collector(tmp_path: Path) -> None:
    """Replay freezes what is alive while it runs (``_long_lived_spared``): afterwards
    nothing stays frozen, and objects somebody else froze stay frozen."""
    case = CASES[1]  # the generated log: over COMPACT_EVERY lines, so it freezes
    gc.unfreeze()
    run_case(case, tmp_path, churnwatch.Settings.build())
    assert gc.get_freeze_count() == 0
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        run_case(case, tmp_path, churnwatch.Settings.build())
        # none of ours added, theirs not handed back (a few of theirs freed meanwhile)
        assert frozen - 100 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
