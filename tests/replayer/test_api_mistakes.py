"""Mistakes made with the Python API and the test helpers fail loudly, saying what to do,
instead of passing or returning nothing (a helper that cannot fail tests nothing)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

import churnwatch
from churnwatch.testing import EventLog, assert_fired, assert_not_fired

BASKET_DROP = EventLog().orders("c1", days=[0, 10, 20, 30]).order("c1", day=40, amount=20)


@pytest.mark.parametrize("name", ["basket-drop", "basket_dropped", "Basket_Drop"])
def test_a_misspelt_signal_raises_naming_the_likely_one(name: str) -> None:
    result = churnwatch.replay(BASKET_DROP)
    for check in (lambda: assert_not_fired(result, "c1", name),
                  lambda: assert_fired(result, "c1", name),
                  lambda: result.alerts_for("c1", name)):
        with pytest.raises(ValueError, match=r"did you mean 'basket_drop'.*signals: promotion"):
            check()
    assert_fired(result, "c1", "basket_drop")  # the right name still works


def test_an_event_log_refuses_an_invalid_event_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"engagement event \(customer 'c1', day 25\): "
                                         r"score: Field required"):
        EventLog().add("engagement", "c1", 25, action="survey")
    with pytest.raises(ValueError, match="amount: Input should be greater than"):
        EventLog().order("c1", 3, amount=-1)


def test_an_event_log_refuses_an_unknown_keyword_naming_the_likely_one() -> None:
    """Before: ``amout=20`` was kept as an extra field and the amount defaulted to 100."""
    with pytest.raises(ValueError, match=r"order events have no field 'amout': did you mean "
                                         r"'amount'\? \(fields: event_id, .*amount"):
        EventLog().order("c1", day=1, amout=20)
    with pytest.raises(ValueError, match=r"no field 'chanel': did you mean 'channel'"):
        EventLog().unfollow("c1", 2).engagement("c1", 3, "follow", chanel="email")


def test_strict_replay_raises_at_the_first_invalid_input_with_its_reason() -> None:
    missing_amount = {"kind": "order", "event_id": "e1", "customer_id": "c1",
                      "occurred_at": "2024-01-01T00:00:00Z", "order_id": "o1"}
    events = [*BASKET_DROP, missing_amount]
    with pytest.raises(churnwatch.InvalidInput, match="input 6 is not a valid event: "
                                                      "amount: Field required"):
        churnwatch.replay(events, strict=True)
    lenient = churnwatch.replay(events)
    assert [d.line for d in lenient.dead_letters] == [6]


def test_the_replay_fixture_is_strict(replay_events) -> None:  # type: ignore[no-untyped-def]
    bad = b'{"kind":"order","event_id":"e1","customer_id":"c1"}'
    with pytest.raises(churnwatch.InvalidInput):
        replay_events([bad])
    assert replay_events([bad], strict=False).counts.invalid == 1


@pytest.mark.parametrize("events", [
    {"kind": "engagement", "event_id": "e", "customer_id": "c", "action": "visit",
     "occurred_at": "2024-01-01T00:00:00Z"},
    '{"kind": "engagement", "event_id": "e"}',
    b'{"kind": "engagement", "event_id": "e"}\n',
])
def test_one_event_instead_of_a_list_is_an_error(events: object) -> None:
    with pytest.raises(TypeError, match="pass a list"):
        churnwatch.replay(events)  # type: ignore[arg-type]


def test_as_of_takes_a_date_as_its_midnight_utc() -> None:
    by_date = churnwatch.replay(BASKET_DROP, as_of=date(2024, 6, 30))
    by_time = churnwatch.replay(BASKET_DROP, as_of=datetime(2024, 6, 30, tzinfo=UTC))
    assert by_date.outputs() == by_time.outputs()
    assert by_date.customer("c1").as_of == datetime(2024, 6, 30, tzinfo=UTC)


def test_as_of_in_milliseconds_is_refused_with_the_seconds() -> None:
    with pytest.raises(ValueError, match=r"looks like milliseconds: pass POSIX seconds "
                                         r"\(1719705600\.0\)"):
        churnwatch.replay(BASKET_DROP, as_of=1_719_705_600_000)


def test_a_misspelt_setting_gets_a_did_you_mean() -> None:
    with pytest.raises(ValueError, match=r"settings: detection\.basket_drop\.ration is not a "
                                         r"churnwatch setting; did you mean "
                                         r"detection\.basket_drop\.ratio\?"):
        churnwatch.replay(BASKET_DROP, settings={"detection": {"basket_drop": {"ration": 0.3}}})
    with pytest.raises(ValueError, match=r"settings: detection\.basket_drop\.ratio=1\.5: "
                                         r"Input should be less than 1"):
        churnwatch.replay(BASKET_DROP, settings={"detection": {"basket_drop": {"ratio": 1.5}}})


def test_events_as_json_lines_still_work() -> None:
    lines = [orjson.dumps(e) for e in BASKET_DROP]
    assert churnwatch.replay(lines).outputs() == churnwatch.replay(BASKET_DROP).outputs()


ROWS = {
    "a misspelt signal in `assert_fired`, `assert_not_fired` or `alerts_for`":
        lambda: assert_fired(churnwatch.replay(BASKET_DROP), "c1", "basket-drop"),
    "an `EventLog` event the contract refuses":
        lambda: EventLog().add("engagement", "c1", 25, action="survey"),
    "an invalid input with `strict=True` (the `replay_events` fixture's default)":
        lambda: churnwatch.replay([*BASKET_DROP, {"kind": "order", "event_id": "e1",
                                                  "customer_id": "c1", "order_id": "o1",
                                                  "occurred_at": "2024-01-01T00:00:00Z"}],
                                  strict=True),
    "one event instead of a list": lambda: churnwatch.replay(BASKET_DROP.events[0]),
    "`as_of` in milliseconds": lambda: churnwatch.replay(BASKET_DROP, as_of=1719705600000),
    "a misspelt key in a settings dict": lambda: churnwatch.replay(
        BASKET_DROP, settings={"detection": {"basket_drop": {"ration": 0.3}}}),
}


def test_the_readme_table_of_api_mistakes_is_what_they_raise() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("| mistake | what churnwatch raises |"):]
    rows = dict(re.findall(r"^\| (.+?) \| `(.+?)` \|$", table[:table.index("\n\n")], re.M))
    assert rows.keys() == ROWS.keys()
    for what, call in ROWS.items():
        with pytest.raises(Exception) as caught:
            call()
        said = f"{type(caught.value).__name__}: {caught.value}"
        assert said.startswith(rows[what].split("…")[0]), (what, said)
