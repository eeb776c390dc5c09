import pytest

from tests.support.events import detect, engage, signals_of


@pytest.mark.parametrize(("score", "severity"), [(0, "high"), (3, "high"), (6, "medium")])
def test_detractor_scores_fire(score: int, severity: str) -> None:
    alerts = detect([engage("survey", 0, score=score)])
    assert signals_of(alerts) == ["nps_detractor"]
    assert alerts[0].data.severity == severity


@pytest.mark.parametrize("score", [7, 10])
def test_passive_and_promoter_scores_do_not(score: int) -> None:
    assert signals_of(detect([engage("survey", 0, score=score)])) == []
