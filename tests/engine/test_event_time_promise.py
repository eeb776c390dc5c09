"""The promise of the event-time rule: what fewer than ``quorum`` customers send, or a
group smaller than a share of those active, whenever they say it happened, changes nobody
else's alerts or summary.

A clean log (events in time order, replayed up to ``as_of``) is replayed again with one
customer's (then two customers') extra events mixed in: any number, at any position, with
any timestamp between the floor and the ceiling, the intruder an existing customer or a
new one. With fitted population statistics every other customer's alert and summary lines
are byte-identical. With live statistics the intruders join the population that segments
and tiers rank against, so only what reads it may differ: the test says exactly that.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import churnwatch
from churnwatch.analysis.fit import fit_log
from churnwatch.models.events import parse_rfc3339
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate
from tests.support.hostile import corpus
from tests.support.logs import POPULATION_SIGNALS

START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
DAY = 86_400.0
DAYS = 200
AS_OF = START + (DAYS + 30) * DAY
FLOOR = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
CEILING = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


def generated(tmp: Path, customers: int, seed: int) -> tuple[list[bytes], Settings]:
    """A clean generated log (events in time order) and fitted statistics for it."""
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=customers, days=DAYS, seed=seed,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    model = tmp / "model.json"
    model.write_bytes(fit_log(log, Settings.build(), horizon_weeks=13).dump())
    return log.read_bytes().splitlines(), Settings.build(
        detection={"population": {"mode": "fitted"}}, risk={"params_file": model})


class Clean:
    def __init__(self, tmp: Path) -> None:
        self.lines, self.fitted = generated(tmp, customers=40, seed=4)
        self.customers = sorted({orjson.loads(line)["customer_id"] for line in self.lines})
        self.live = Settings.build()
        self.results = {name: churnwatch.replay(self.lines, settings=s, as_of=AS_OF)
                        for name, s in (("fitted", self.fitted), ("live", self.live))}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    return Clean(tmp_path_factory.mktemp("promise"))


WHEN = st.one_of(
    st.floats(FLOOR, CEILING),  # anywhere the floor and the ceiling allow
    st.floats(START - 60 * DAY, START + 600 * DAY),  # around the log: the dangerous part
    st.sampled_from([START + 60 * DAY + 0.5, datetime(2025, 3, 1, tzinfo=UTC).timestamp()]),
)
EXTRA = st.lists(st.tuples(st.floats(0, 1), WHEN, st.sampled_from(["order", "visit"])),
                 min_size=1, max_size=60)


def mixed(clean: Clean, intruders: list[str], extra: list[tuple[float, float, str]]
          ) -> list[bytes]:
    """The clean log with each extra event (position as a share of the log, time, kind)
    sent by the intruders in turn."""
    lines = list(clean.lines)
    for n, (position, when, kind) in enumerate(extra):
        body = {"kind": "order" if kind == "order" else "engagement",
                "event_id": f"intruder-{n}", "customer_id": intruders[n % len(intruders)],
                "occurred_at": datetime.fromtimestamp(when, UTC).isoformat()}
        body |= {"order_id": f"io-{n}", "amount": 30.0} if kind == "order" else {
            "action": "visit"}
        lines.insert(int(position * len(lines)), orjson.dumps(body))
    return lines


def others(result: churnwatch.ReplayResult, intruders: list[str]
           ) -> tuple[list[bytes], list[bytes]]:
    """Every other customer's alert lines and summary lines, as the CLI writes them."""
    alerts = [a.model_dump_json().encode() for a in result.alerts
              if a.subject not in intruders]
    lines = [c.model_dump_json().encode() for c in result.customers
             if c.customer_id not in intruders]
    return alerts, lines


def assert_nobody_else_moved(clean: Clean, intruders: list[str],
                             extra: list[tuple[float, float, str]]) -> None:
    result = churnwatch.replay(mixed(clean, intruders, extra), settings=clean.fitted,
                               as_of=AS_OF)
    expected = clean.results["fitted"]
    assert others(result, intruders) == others(expected, intruders)
    added = {f"intruder-{n}" for n in range(len(extra))}
    assert all(orjson.loads(d.raw)["event_id"] in added for d in result.dead_letters)
    assert result.counts.accepted + result.counts.late + result.counts.out_of_time == (
        expected.counts.accepted + len(extra))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=EXTRA, existing=st.booleans(), which=st.integers(0, 39))
def test_one_customer_whatever_it_sends_changes_nobody_elses_alerts(
        clean: Clean, extra: list[tuple[float, float, str]], existing: bool,
        which: int) -> None:
    intruder = clean.customers[which % len(clean.customers)] if existing else "intruder"
    assert_nobody_else_moved(clean, [intruder], extra)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=EXTRA, which=st.integers(0, 39))
def test_fewer_customers_than_the_quorum_change_nobody_elses_alerts(
        clean: Clean, extra: list[tuple[float, float, str]], which: int) -> None:
    assert_nobody_else_moved(clean, ["intruder", clean.customers[which]], extra)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=EXTRA)
def test_with_live_statistics_only_what_reads_the_population_may_differ(
        clean: Clean, extra: list[tuple[float, float, str]]) -> None:
    """The new customer joins the population: segments and tiers may shift, and with them
    ``segment_at_risk`` (and a ``recovered`` closing one). Every other alert fires for the
    same customer, signal and trigger (the same id), and recency, frequency and spend
    are the same."""
    result = churnwatch.replay(mixed(clean, ["intruder"], extra), settings=clean.live,
                               as_of=AS_OF)
    expected = clean.results["live"]
    for customer in clean.customers:
        got, want = result.alerts_for(customer), expected.alerts_for(customer)
        if any(a.data.signal in POPULATION_SIGNALS for a in got + want):
            continue
        assert [a.id for a in got] == [a.id for a in want], customer
        line, was = result.customer(customer), expected.customer(customer)
        assert (line.as_of, line.recency_days, line.frequency, line.monetary) == (
            was.as_of, was.recency_days, was.frequency, was.monetary), customer


def test_a_device_eight_months_fast_is_held_not_followed(clean: Clean) -> None:
    """The case found by hand: one customer's orders dated eight months after the log's
    start, all through it. Held as they come (fewer than max_held) and applied for that
    customer alone once the log has ended short of them; nobody else's alert changes."""
    when = datetime(2024, 9, 1, tzinfo=UTC).timestamp()
    extra = [(n / 200, when + n, "order") for n in range(200)]
    assert_nobody_else_moved(clean, ["fast-clock"], extra)
    result = churnwatch.replay(mixed(clean, ["fast-clock"], extra), settings=clean.fitted,
                               as_of=AS_OF)
    assert result.customer("fast-clock").frequency == 200  # held, then applied at the end


def test_a_shop_log_with_20_000_hostile_lines_keeps_every_other_alert(tmp_path: Path) -> None:
    """The user's case: a generated shop log (400 customers, 200 days, with its own
    duplicates, reordering and invalid lines) and about 20,000 hostile lines mixed in:
    malformed and out-of-range events, 100 orders from customers whose ids hold control
    characters, and 836 orders of one customer dated 2025-03-01, eight months past the
    log's start. Every other customer's alerts and summary are the clean log's, byte for
    byte; every hostile line but the early customer's is dead-lettered with its bytes."""
    log = tmp_path / "shop.jsonl"
    generate(log, tmp_path / "labels.jsonl", customers=400, days=DAYS, seed=7,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    model = tmp_path / "model.json"
    model.write_bytes(fit_log(log, Settings.build(), horizon_weeks=13).dump())
    fitted = Settings.build(detection={"population": {"mode": "fitted"}},
                            risk={"params_file": model})
    clean = log.read_bytes().splitlines()
    early = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
    hostile = [*corpus(clean, 19_000, seed=21),
               *(orjson.dumps({"kind": "order", "event_id": f"ctl-{n}",
                               "customer_id": f"c\u0000\u0007\n{n}", "order_id": f"ctl-{n}",
                               "occurred_at": "2024-03-01T00:00:00Z", "amount": 10.0})
                 for n in range(100))]
    fast = [orjson.dumps({"kind": "order", "event_id": f"fast-{n}", "customer_id": "fast",
                          "order_id": f"fast-{n}", "amount": 25.0, "occurred_at":
                          datetime.fromtimestamp(early + n * 60, UTC).isoformat()})
            for n in range(836)]
    rng = random.Random(21)
    mixed = list(clean)
    for raw in [*hostile, *fast]:
        mixed.insert(rng.randrange(1, len(mixed)), raw)
    expected = churnwatch.replay(clean, settings=fitted, as_of=AS_OF)
    result = churnwatch.replay(mixed, settings=fitted, as_of=AS_OF)
    assert others(result, ["fast"]) == others(expected, ["fast"])
    assert len(result.alerts_for("fast")) < 5  # its own, at its own time: no storm
    assert result.customer("fast").frequency == 836  # held, and applied in the end
    refused = [d.raw for d in result.dead_letters]
    assert sorted(refused) == sorted([d.raw for d in expected.dead_letters] + hostile)
    assert result.counts.late == expected.counts.late


class Shop:
    """A clean log of 200 customers: a twentieth of them is 10."""

    def __init__(self, tmp: Path) -> None:
        self.lines, self.fitted = generated(tmp, customers=200, seed=9)
        self.events = [orjson.loads(line) for line in self.lines]
        self.customers = sorted({e["customer_id"] for e in self.events})
        self.result = churnwatch.replay(self.lines, settings=self.fitted, as_of=AS_OF)

    def shifted(self, group: set[str], by: float) -> list[bytes]:
        """The log with every event of the group's customers moved ``by`` seconds."""
        out = []
        for line, event in zip(self.lines, self.events, strict=True):
            if event["customer_id"] not in group:
                out.append(line)
                continue
            when = parse_rfc3339(event["occurred_at"]).timestamp() + by
            out.append(orjson.dumps(event | {"occurred_at": datetime.fromtimestamp(
                when, UTC).isoformat()}))
        return out

    def at_most_a_twentieth(self, group: set[str]) -> bool:
        """Whether the group is at most a twentieth of the customers seen at every point
        of the log (or two, fewer than the quorum): a share of those active, as the rule
        counts them, from the start."""
        seen: set[str] = set()
        theirs = 0
        for event in self.events:
            customer = event["customer_id"]
            if customer not in seen:
                seen.add(customer)
                theirs += customer in group
                if theirs > max(2, len(seen) // 20):
                    return False
        return True


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return Shop(tmp_path_factory.mktemp("shop"))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 199), min_size=1, max_size=10, unique=True),
       to=st.one_of(st.floats(FLOOR, CEILING - (DAYS + 1) * DAY),
                    st.floats(START - 30 * DAY, START + 400 * DAY)))
def test_a_twentieth_of_the_customers_with_their_clocks_anywhere_change_nobody_else(
        shop: Shop, picks: list[int], to: float) -> None:
    """Up to a twentieth of the customers (ten of 200) with every event moved by the same
    amount, anywhere from 1970 to 2100: a shop's clock months fast or slow, a store
    writing local time as UTC. Every other customer's alerts and summary are the clean
    log's, byte for byte, and nothing of theirs is refused."""
    group = {shop.customers[i] for i in picks}
    assume(shop.at_most_a_twentieth(group))
    result = churnwatch.replay(shop.shifted(group, to - START), settings=shop.fitted,
                               as_of=AS_OF)
    assert others(result, list(group)) == others(shop.result, list(group))
    refused = {orjson.loads(d.raw)["customer_id"] for d in result.dead_letters}
    assert refused <= group
