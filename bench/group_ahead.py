"""What a small group of customers with clocks far off does to everyone else's alerts, and
what the event-time rule costs on a clean log (RELIABILITY.md, "Event time no small group
can move").

A generated shop log (fitted population statistics, so nothing else can differ), replayed
clean and then with a group's events shifted: ``--intruders N`` customers not in the log
sending ``--orders`` orders each dated ``--ahead-days`` after the log's end, or
``--shifted P`` (a share) of the log's own customers with every event moved
``--ahead-days`` later. Counts every other customer's alerts lost, false and changed, and
clean events refused. On the clean log it also measures the rule's lag: how much later in
the input each alert comes out than its trigger, in input lines and in event time (the
newest seen then minus the alert's), and after which line the first alert comes out.
``--share``, ``--active-days`` and ``--quorum`` set the rule (``--share 0``: the count
alone, the rule before the share).

    .venv/bin/python bench/group_ahead.py --intruders 3 --orders 40 --ahead-days 240
    .venv/bin/python bench/group_ahead.py --shifted 0.01 --ahead-days 240
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

import churnwatch
from churnwatch.analysis.fit import fit_log
from churnwatch.engine import Census
from churnwatch.models.alert import Alert
from churnwatch.models.events import InvalidEvent, parse_rfc3339
from churnwatch.replayer.driver import detector_for, run
from churnwatch.replayer.inputs import Parsed, open_items
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate
from churnwatch.streams.runtime import CENSUS_MARGIN
from churnwatch.streams.store import partition_of


def shifted(lines: list[bytes], who: set[str], by: timedelta) -> list[bytes]:
    out = []
    for line in lines:
        if _customer(line) in who:
            body = orjson.loads(line)
            body["occurred_at"] = (parse_rfc3339(body["occurred_at"]) + by).isoformat()
            out.append(orjson.dumps(body))
        else:
            out.append(line)
    return out


def _customer(line: bytes) -> object:
    """The line's customer id, if it is a readable event with a valid time (the noisy
    log's broken lines stay as they are)."""
    try:
        body = orjson.loads(line)
        parse_rfc3339(body["occurred_at"])
        return body.get("customer_id")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def lag(lines: list[bytes], settings: Settings) -> tuple[int, list[int], list[float]]:
    """The line after which the first alert came out; per alert: the input lines between
    its trigger's and the line after which it came out, and the newest event time seen by
    then minus the alert's time (days)."""
    seen = {"line": 0, "newest": -float("inf")}
    position: dict[str, int] = {}

    def watched(items: Iterable[Parsed]) -> Iterator[Parsed]:
        for lineno, raw, event in items:
            seen["line"] = lineno
            if not isinstance(event, InvalidEvent):
                seen["newest"] = max(seen["newest"], event.ts)
                position[event.event_id] = lineno
            yield lineno, raw, event

    lines_after: list[int] = []
    days_after: list[float] = []
    first = 0
    with open_items(lines) as items:
        for out in run(detector_for(settings), watched(items), None):
            if isinstance(out, Alert) and not first:
                first = int(seen["line"])
            if isinstance(out, Alert) and out.data.trigger.event_id in position:
                lines_after.append(int(seen["line"] - position[out.data.trigger.event_id]))
                days_after.append((seen["newest"] - out.time.timestamp()) / 86_400)
    return first, lines_after, days_after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--intruders", type=int, default=0)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--shifted", type=float, default=0.0)
    parser.add_argument("--ahead-days", type=int, default=240)
    parser.add_argument("--share", type=float)
    parser.add_argument("--active-days", type=int)
    parser.add_argument("--quorum", type=int)
    args = parser.parse_args()
    rule = {k: v for k, v in (("share", args.share), ("active_days", args.active_days),
                              ("quorum", args.quorum)) if v is not None}
    start = datetime(2024, 1, 1, tzinfo=UTC)
    workdir = tempfile.TemporaryDirectory()  # the model file is read when replay starts
    tmp = Path(workdir.name)
    log = tmp / "shop.jsonl"
    generate(log, tmp / "labels.jsonl", customers=args.customers, days=args.days,
             seed=args.seed, start=start, noise=True)
    model = tmp / "model.json"
    model.write_bytes(fit_log(log, Settings.build(), horizon_weeks=13).dump())
    settings = Settings.build(detection={"population": {"mode": "fitted"},
                                         "event_time": rule},
                              risk={"params_file": model})
    clean = log.read_bytes().splitlines()
    end = start + timedelta(days=args.days)
    rng = random.Random(args.seed)
    customers = sorted({c for line in clean if isinstance(c := _customer(line), str)})
    group = set(rng.sample(customers, round(args.shifted * len(customers))))
    mixed = shifted(clean, group, timedelta(days=args.ahead_days))
    for c in range(args.intruders):
        for n in range(args.orders):
            mixed.insert(rng.randrange(1, len(mixed)), orjson.dumps({
                "kind": "order", "event_id": f"ahead-{c}-{n}", "customer_id": f"ahead-{c}",
                "order_id": f"ahead-{c}-{n}", "amount": 25.0, "occurred_at": (
                    end + timedelta(days=args.ahead_days, hours=n)).isoformat()}))
    group |= {f"ahead-{c}" for c in range(args.intruders)}
    as_of = end + timedelta(days=30)
    began = time.perf_counter()
    before = churnwatch.replay(clean, settings=settings, as_of=as_of)
    seconds = time.perf_counter() - began
    after = churnwatch.replay(mixed, settings=settings, as_of=as_of)
    want = {a.id: a.model_dump_json() for a in before.alerts if a.subject not in group}
    got = {a.id: a.model_dump_json() for a in after.alerts if a.subject not in group}
    changed = sum(want[i] != got[i] for i in want.keys() & got.keys())
    rule_now = settings.detection.event_time
    print(f"rule: share {rule_now.share}, active_days {rule_now.active_days}, quorum "
          f"{rule_now.quorum}")
    print(f"log: {len(clean):,} lines, {len(customers)} customers, {args.days} days; group: "
          f"{len(group)} customers ({args.intruders} new with {args.orders} orders each, "
          f"{len(group) - args.intruders} of the log's own), {args.ahead_days} days ahead")
    print(f"other customers' alerts: {len(want):,} clean, {len(got):,} with the group; "
          f"lost {len(want.keys() - got.keys()):,}, false {len(got.keys() - want.keys()):,}, "
          f"changed {changed:,}; refused as late: {before.counts.late:,} clean, "
          f"{after.counts.late:,} with it")
    first, lines_after, days_after = lag(clean, settings)
    q = statistics.quantiles
    print(f"clean replay: {seconds:.2f} s ({len(clean) / seconds:,.0f} lines/s); alerts "
          f"out after their trigger: lines p50 {q(lines_after, n=100)[49]:.0f} p99 "
          f"{q(lines_after, n=100)[98]:.0f}; event time newest-seen minus alert time, days: "
          f"p50 {q(days_after, n=100)[49]:.2f} p99 {q(days_after, n=100)[98]:.2f}; "
          f"first alert out after line {first:,}")
    print(census_sizes(clean, settings))
    workdir.cleanup()


def census_sizes(lines: list[bytes], settings: Settings, partitions: int = 4) -> str:
    """What a worker's tick carries per detect partition at the end of the log: each
    partition's census from an hour before its own answer (``CENSUS_MARGIN``), as JSON."""
    rule = settings.detection.event_time
    parts = [Census(rule.share, rule.quorum, rule.active_days) for _ in range(partitions)]
    for line in lines:
        customer = _customer(line)
        if isinstance(customer, str):
            ts = parse_rfc3339(orjson.loads(line)["occurred_at"]).timestamp()
            parts[partition_of(customer.encode(), partitions)].observe(customer, ts)
    summaries = [p.summary(p.time - CENSUS_MARGIN) for p in parts]
    sizes = [len(orjson.dumps(s.to_json())) for s in summaries]
    listed = [len(s.top) for s in summaries]
    return (f"census per partition ({partitions}) at the end: {min(listed)}-{max(listed)} "
            f"times listed, {min(sizes):,}-{max(sizes):,} bytes of JSON")


if __name__ == "__main__":
    main()
