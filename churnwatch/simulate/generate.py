"""Seeded synthetic event logs with ground truth, for demos, tests and evaluation.

The population mixes loyal and seasonal customers with drifting ones. Each drift kind is
the behaviour one signal is meant to catch, starting at a known time, and the labels file
says who churns, when and why. Loyal behaviour carries realistic noise (a skipped offer,
an unusually long gap), so precision is measurable too. With ``noise`` the log also has
duplicates, small reorderings and invalid lines, as real feeds do.

Speed matters (a million events in seconds), so events are written as JSON text directly.
"""

from __future__ import annotations

import heapq
import json
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DAY = 86_400

DRIFTS = {
    # archetype: (expected signals, why)
    "promo_skipper": (["promotion_skipped"], "stopped taking part in promotions"),
    "basket_shrinker": (["basket_drop"], "order value collapsed"),
    "complainer": (["complaint_escalated"], "complaint escalated to a refund demand"),
    "unfollower": (["unfollowed"], "unfollowed and unsubscribed"),
    "disengager": (["engagement_drop"], "stopped visiting and posting"),
    "silent": (["gone_quiet"], "stopped buying"),
    "vip_lapse": (["segment_at_risk", "gone_quiet"], "a top customer stopped buying"),
    "detractor": (["nps_detractor"], "gave a detractor score, then faded"),
}
STABLE = ("loyal", "seasonal")
WEIGHTS = {"loyal": 0.45, "seasonal": 0.10, **{k: 0.45 / len(DRIFTS) for k in DRIFTS}}


@dataclass(frozen=True)
class GenerateResult:
    events: int
    invalid: int
    duplicates: int
    customers: int
    seconds: float


def utc_seconds(t: float) -> str:
    """An event time as the generated logs write it: UTC, whole seconds, with a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class _Customer:
    """Writes one customer's events into ``out`` as (time, json) pairs."""

    def __init__(self, cid: str, archetype: str, rng: random.Random, start: float,
                 end: float, out: list[tuple[float, str]]) -> None:
        self.cid, self.kind, self.rng = cid, archetype, rng
        self.start, self.end, self.out = start, end, out
        self.seq = 0
        vip = archetype == "vip_lapse"
        self.gap = rng.uniform(6, 12) if vip else rng.uniform(12, 40)  # days between orders
        self.value = rng.uniform(400, 1500) if vip else rng.lognormvariate(4.0, 0.6)
        self.visits = rng.uniform(4, 12)  # per 30 days
        self.drift = (start + rng.uniform(0.35, 0.65) * (end - start)
                      if archetype in DRIFTS else None)

    def _emit(self, t: float, kind: str, fields: str) -> None:
        self.seq += 1
        self.out.append((t, f'{{"kind":"{kind}","event_id":"{self.cid}-{self.seq}",'
                            f'"customer_id":"{self.cid}",'
                            f'"occurred_at":"{utc_seconds(t)}"{fields}}}'))

    def order(self, t: float, value: float, promotion: str | None = None) -> None:
        promo = f',"promotion_id":"{promotion}"' if promotion else ""
        items = 1 + int(value // 40)
        self._emit(t, "order", f',"order_id":"{self.cid}-o{self.seq}",'
                               f'"amount":{value:.2f},"currency":"EUR","items":{items}{promo}')

    def engagement(self, t: float, action: str, extra: str = "") -> None:
        self._emit(t, "engagement", f',"action":"{action}"{extra}')

    def complaint(self, t: float, ticket: str, severity: str, status: str = "opened") -> None:
        self._emit(t, "complaint", f',"ticket_id":"{ticket}","severity":"{severity}",'
                                   f'"status":"{status}"')

    def after_drift(self, t: float) -> bool:
        return self.drift is not None and t >= self.drift

    def generate(self) -> None:
        rng = self.rng
        self.engagement(self.start + rng.uniform(0, 20) * DAY, "follow", ',"channel":"wechat"')
        self._orders()
        self._visits()
        self._promotions()
        self._voice()
        self._drift_events()

    def _basket(self, t: float) -> float:
        value = self.value * self.rng.lognormvariate(0, 0.15)
        if self.kind == "basket_shrinker" and self.after_drift(t):
            value *= self.rng.uniform(0.1, 0.25)
        return value

    def _stops_buying_at(self) -> float:
        if self.drift is None:
            return self.end
        if self.kind in ("silent", "vip_lapse"):
            return self.drift
        # the other drifts fade out a while after the visible warning sign
        return self.drift + self.rng.uniform(45, 120) * DAY

    def _orders(self) -> None:
        rng = self.rng
        t = self.start + rng.uniform(0, self.gap) * DAY
        stop = self._stops_buying_at()
        if self.kind == "seasonal":
            season = rng.uniform(280, 320)  # day of year the season starts
            year = self.start
            while year < self.end:
                t = year + season * DAY
                for _ in range(rng.randint(2, 5)):
                    t += rng.uniform(3, 12) * DAY
                    if t < self.end:
                        self.order(t, self._basket(t))
                year += 365 * DAY
            return
        while t < min(stop, self.end):
            self.order(t, self._basket(t))
            # gamma with shape 4: regular, but with an occasional long gap
            t += rng.gammavariate(4.0, self.gap / 4.0) * DAY

    def _visits(self) -> None:
        rng, rate = self.rng, self.visits / (30 * DAY)
        t = self.start + rng.expovariate(rate)
        while t < self.end:
            if self.kind == "disengager" and self.after_drift(t):
                t += rng.expovariate(rate * 0.05)
                continue
            if self.kind in DRIFTS and t > self._stops_buying_at() + 60 * DAY:
                break
            self.engagement(t, "community_post" if rng.random() < 0.2 else "visit")
            t += rng.expovariate(rate)

    def _promotions(self) -> None:
        rng, n = self.rng, 0
        t = self.start + rng.uniform(10, 40) * DAY
        stop = self._stops_buying_at()
        while t < self.end:
            n += 1
            promo = f"{self.cid}-p{n}"
            length = rng.uniform(7, 14) * DAY
            self.engagement(t, "promotion_offered",
                            f',"promotion_id":"{promo}","expires_at":"{utc_seconds(t + length)}"')
            skipping = self.kind == "promo_skipper" and self.after_drift(t)
            if t < stop and not skipping and rng.random() < 0.92:
                when = t + rng.uniform(0.1, 0.9) * length
                self.order(when, self._basket(when), promo)
            t += rng.uniform(25, 50) * DAY

    def _voice(self) -> None:
        rng = self.rng
        t = self.start + rng.uniform(60, 200) * DAY
        while t < min(self.end, self._stops_buying_at()):
            self.engagement(t, "survey", f',"score":{rng.choice((7, 8, 8, 9, 9, 10, 10))}')
            if rng.random() < 0.3:
                self.complaint(t + DAY, f"{self.cid}-t{int(t)}", "inquiry", "resolved")
            t += rng.uniform(120, 240) * DAY

    def _drift_events(self) -> None:
        if self.drift is None:
            return
        rng, t = self.rng, self.drift
        if self.kind == "complainer":
            ticket = f"{self.cid}-t-esc"
            self.complaint(t, ticket, rng.choice(("minor", "major")))
            self.complaint(t + rng.uniform(3, 20) * DAY, ticket,
                           rng.choice(("refund_request", "exchange_request")), "updated")
        elif self.kind == "unfollower":
            self.engagement(t, "unfollow", ',"channel":"wechat"')
            self.engagement(t + rng.uniform(0, 5) * DAY, "unsubscribe", ',"channel":"email"')
        elif self.kind == "detractor":
            self.engagement(t, "survey", f',"score":{rng.randint(0, 5)}')

    def label(self) -> dict[str, object]:
        signals, why = DRIFTS.get(self.kind, ([], "stable"))
        return {
            "customer_id": self.cid,
            "archetype": self.kind,
            "churns": self.kind in DRIFTS,
            "churn_at": utc_seconds(self.drift) if self.drift is not None else None,
            "expected_signals": signals,
            "why": why,
        }


_INVALID = (
    '{{"kind":"order","event_id":"bad-{n}","customer_id":"c-x","occurred_at":"{t}",'
    '"order_id":"o","amount":-5}}',
    '{{"kind":"order","event_id":"bad-{n}","customer_id":"","occurred_at":"{t}",'
    '"order_id":"o","amount":5}}',
    '{{"kind":"engagement","event_id":"bad-{n}","customer_id":"c-x",'
    '"occurred_at":"2024-13-45 nonsense","action":"visit"}}',
    '{{"kind":"engagement","event_id":"bad-{n}","customer_id":"c-x","occurred_at":"{t}",'
    '"action":"survey","score":42}}',
    '{{"kind":"teleport","event_id":"bad-{n}"}}',
    '{{"kind":"order", truncated',
)


def _with_noise(events: list[tuple[float, str]], rng: random.Random) -> Iterator[
        tuple[float, str]]:
    """Duplicates (0.5 %), reordering within two minutes, invalid lines (0.1 %)."""
    for t, line in events:
        yield t + rng.uniform(0, 120), line
        if rng.random() < 0.005:
            yield t + rng.uniform(0, 240), line
        if rng.random() < 0.001:
            n = rng.randrange(10**9)
            yield t, rng.choice(_INVALID).format(n=n, t=utc_seconds(t))


CHUNK = 200_000
"""Events held in memory at once; the rest wait in sorted runs on disk."""


def generate(log: Path, labels: Path, *, customers: int, days: int, seed: int,
             start: datetime, noise: bool) -> GenerateResult:
    """Write the log in event-time order with memory flat in its size: customers are made
    one at a time and their events sorted in runs of ``CHUNK`` spilled to disk, then
    merged. The random draws happen in the same order as when everything was held in
    memory (every customer's archetype and seed first, then the noise over the events in
    customer order), so the same seed gives the same bytes."""
    began = time.perf_counter()
    rng = random.Random(seed)
    t0 = start.astimezone(UTC).timestamp()
    end = t0 + days * DAY
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    plan = [(rng.choices(kinds, weights)[0], rng.getrandbits(64)) for _ in range(customers)]
    made = total = invalid = 0
    with tempfile.TemporaryDirectory(prefix="churnwatch-generate-") as tmp, \
            labels.open("w", encoding="utf-8") as out_labels:
        runs: list[Path] = []
        chunk: list[tuple[float, str]] = []
        for i, (kind, customer_seed) in enumerate(plan):
            own: list[tuple[float, str]] = []
            c = _Customer(f"c{i:07d}", kind, random.Random(customer_seed), t0, end, own)
            c.generate()
            out_labels.write(json.dumps(c.label(), separators=(",", ":")) + "\n")
            events = [e for e in own if e[0] < end]
            made += len(events)
            for t, line in _with_noise(events, rng) if noise else events:
                chunk.append((t, line))
                total += 1
                invalid += '"event_id":"bad-' in line or "truncated" in line
            if len(chunk) >= CHUNK:
                runs.append(_spill(chunk, Path(tmp) / f"run{len(runs)}"))
                chunk = []
        chunk.sort(key=_time)
        with log.open("w", encoding="utf-8") as out:
            # merge is stable: a tie goes to the earlier run, as one stable sort would
            for _, line in heapq.merge(*map(_read_run, runs), chunk, key=_time):
                out.write(line + "\n")
    return GenerateResult(events=total, invalid=invalid, duplicates=total - made - invalid,
                          customers=customers, seconds=time.perf_counter() - began)


def _time(event: tuple[float, str]) -> float:
    return event[0]


def _spill(chunk: list[tuple[float, str]], path: Path) -> Path:
    chunk.sort(key=_time)
    with path.open("w", encoding="utf-8") as out:
        out.writelines(f"{t!r}\t{line}\n" for t, line in chunk)
    return path


def _read_run(path: Path) -> Iterator[tuple[float, str]]:
    with path.open(encoding="utf-8") as src:
        for row in src:
            t, line = row.rstrip("\n").split("\t", 1)
            yield float(t), line
