"""Prometheus metrics of a worker, on an injectable registry.

Labels carry kinds, signals, tiers, topics and partitions, never a customer identifier.
Names follow Prometheus conventions (base units, ``_total`` suffix on counters); Faust's
own PrometheusMonitor does not, so it is not used. Every label value that can be known at
start is created at zero, so rate() and the rules in deploy/prometheus see a series
before the first event instead of an absent one.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from churnwatch.engine import Stats
from churnwatch.models.calibration import BINS, Settled, bin_label, bin_of
from churnwatch.models.vocabulary import SIGNAL_NAMES, TIERS

# Alert latency spans a second (a live event crossing two agents) to an hour (a deadline
# reached only when event time moves on): roughly x2 steps across that range.
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
RESPONSE_BUCKETS = (900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800)
"""15 min to a week, with the tiers' windows (1 h, 4 h, 24 h, 48 h) as bucket bounds."""
_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
                  Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))  # v1
_NO_LIMIT = 1 << 60  # what cgroup v1 reports for "unlimited", roughly


M = TypeVar("M", Counter, Gauge, Histogram)


class Children(Generic[M]):
    """A labelled metric whose children are looked up in a dict: ``labels()`` validates
    the values and takes a lock at every call, and the worker asks for a child at every
    record and every alert. ``clear()`` drops the series and forgets the children (a
    child kept after its metric's ``clear()`` would no longer be exposed)."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child

    def clear(self) -> None:
        self.metric.clear()
        self._children.clear()


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        if registry is None:  # a registry passed in may have them already
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)
        self.events_in = Children(Counter("churnwatch_events_total",
                                          "Valid events taken in, by kind", ["kind"],
                                          registry=r))
        self.invalid = Counter("churnwatch_events_invalid_total",
                               "Invalid events sent to the dead-letter topic, by source topic",
                               ["topic"], registry=r)
        self.out_of_time = Counter("churnwatch_events_out_of_time_total",
                                   "Events whose occurred_at is not believable (before the "
                                   "floor, after the ceiling, too far ahead), dead-lettered",
                                   ["topic"], registry=r)
        self.detected = Counter("churnwatch_events_detected_total",
                                "Repartitioned events taken in by the detector", registry=r)
        self.duplicates = Counter("churnwatch_events_duplicate_total",
                                  "Events ignored because their event_id was already seen",
                                  registry=r)
        self.late = Counter("churnwatch_events_late_total",
                            "Events behind their customer's evaluated time (dead-lettered)",
                            registry=r)
        self.redelivered = Counter("churnwatch_messages_redelivered_total",
                                   "Messages skipped because their customer's state already "
                                   "holds them (redelivered, or forwarded again after a "
                                   "restart or rebalance)",
                                   registry=r)
        self.deferred = Counter("churnwatch_messages_deferred_total",
                                "Messages left unacked for a later read: they reached the "
                                "detect agent before table recovery ended, or for a partition "
                                "no longer this worker's (read again after the rebalance)",
                                registry=r)
        self.gaps = Counter("churnwatch_events_offsets_skipped_total",
                            "Offsets of the events topic the detect agent never received "
                            "(a gap between two consecutive messages of a partition)",
                            registry=r)
        self.alerts = Children(Counter("churnwatch_alerts_total",
                                       "Alerts sent to the recall topic", ["signal", "tier"],
                                       registry=r))
        self.held_out = Children(Counter("churnwatch_alerts_held_out_total",
                                         "Alerts for the holdout group, sent to the shadow "
                                         "topic instead of the recall topic",
                                         ["signal", "tier"], registry=r))
        self.response = Histogram(
            "churnwatch_follow_up_response_seconds", "Event time from a treated alert to the "
            "first action reported for it, by the alert's tier (windows: diamond 1 h, core "
            "4 h, potential 24 h, basic 48 h)", ["tier"], buckets=RESPONSE_BUCKETS,
            registry=r)
        self.overdue = Counter("churnwatch_follow_ups_overdue_total",
                               "Treated alerts whose tier's response window passed with no "
                               "action reported (loop.follow_up), by the alert's tier",
                               ["tier"], registry=r)
        self.outcomes = Counter("churnwatch_alert_outcomes_total",
                                "Alerts whose attribution window closed, by signal, tier, "
                                "group (treated, holdout) and whether the customer bought "
                                "again within it", ["signal", "tier", "group", "won"],
                                registry=r)
        self.outcome_revenue = Counter("churnwatch_alert_outcome_revenue_total",
                                       "Revenue of the orders within closed attribution "
                                       "windows (shop currency)",
                                       ["signal", "tier", "group"], registry=r)
        self.calibration = CalibrationMetrics(r)
        self.latency = Children(Histogram(
            "churnwatch_alert_latency_seconds",
            "Seconds from the alert's trigger to the broker's acknowledgement of the recall "
            "record: since='event_time' counts from the trigger's event time (includes the "
            "allowed lateness by design), since='received' from when the worker took in "
            "the message that triggered it (the event-time tick, for an alert released by event "
            "time passing)", ["since"], buckets=LATENCY_BUCKETS, registry=r))
        self.publish_errors = Counter("churnwatch_publish_errors_total",
                                      "Records the producer failed to send, by topic",
                                      ["topic"], registry=r)
        self.errors = Counter("churnwatch_errors_total",
                              "Exceptions caught in the worker's periodic tasks (the task "
                              "runs again next period), by task", ["task"], registry=r)
        self.rebalances = Counter("churnwatch_rebalances_total",
                                  "Consumer group rebalances this worker took part in",
                                  registry=r)
        self.assigned = Gauge("churnwatch_assigned_partitions",
                              "Partitions assigned to this worker, by topic it reads",
                              ["topic"], registry=r)
        self.ready = Gauge("churnwatch_ready", "1 while /readyz answers 200, else 0",
                           registry=r)
        self.customers = Gauge("churnwatch_customers", "Customers held by this worker",
                               registry=r)
        self.decoded = Gauge("churnwatch_customers_decoded", "Customers held decoded, "
                             "after the last flush (runtime.live_customers)", registry=r)
        self.watermark = Children(Gauge("churnwatch_watermark_seconds",
                                        "Event-time watermark (POSIX seconds) per events "
                                        "partition", ["partition"], registry=r))
        self.lag = Gauge("churnwatch_consumer_lag_messages",
                         "Messages between the consumer position and the partition end, "
                         "for the topics the worker reads", ["topic", "partition"],
                         registry=r)
        self.flush_seconds = Histogram("churnwatch_state_flush_seconds",
                                       "Time to get a batch's alerts, then the customer "
                                       "states it touched, confirmed by the broker",
                                       registry=r)
        self.state_writes = Counter("churnwatch_state_writes_total",
                                    "Customer states written to the changelog table", registry=r)
        self.model = Info("churnwatch_model", "Version of the fitted model parameters that "
                          "score risk (all workers should agree)", registry=r)
        self.build = Info("churnwatch_build", "Versions this worker runs", registry=r)
        self.build.info({"version": _version("churnwatch"),
                         "faust": _version("faust-streaming"),
                         "python": platform.python_version()})
        limit = memory_limit()
        if limit is not None:  # no series at all without a limit, rather than a false 0
            Gauge("churnwatch_memory_limit_bytes", "The container's memory limit (cgroup)",
                  registry=r).set(limit)
        for signal in SIGNAL_NAMES:
            for tier in TIERS:
                self.alerts.labels(signal, tier)
        for tier in TIERS:
            self.response.labels(tier)
            self.overdue.labels(tier)
        for since in ("event_time", "received"):
            self.latency.labels(since)

    def read_counts(self, stats: Stats) -> None:
        """Expose the detectors' own counts (:class:`DetectorCounts`): once per worker."""
        self.registry.register(DetectorCounts(stats))

    def declare_topics(self, sources: Mapping[str, str], outputs: tuple[str, ...]) -> None:
        """Zero series for the topics known at start; ``sources``: topic -> event kind."""
        for topic, kind in sources.items():
            self.events_in.labels(kind)
            self.invalid.labels(topic)
            self.out_of_time.labels(topic)
        for topic in outputs:
            self.publish_errors.labels(topic)


class DetectorCounts(Collector):
    """What the detectors count themselves (``Stats``), read when Prometheus scrapes:
    findings held back by governance, action reports by what they matched, risks not
    followed. Known label values are there at zero from the start."""

    SUPPRESSED = ("cooldown", "cap")
    ACTIONS = ("answered", "repeat", "unknown_alert")

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        suppressed = CounterMetricFamily("churnwatch_alerts_suppressed",
                                         "Findings held back by governance",
                                         labels=["reason"])
        for reason in (*self.SUPPRESSED, *sorted(set(self.stats.suppressed)
                                                 - set(self.SUPPRESSED))):
            suppressed.add_metric([reason], self.stats.suppressed[reason])
        yield suppressed
        actions = CounterMetricFamily("churnwatch_actions", "Action reports taken in, by "
                                      "what they matched: answered (the first for a treated "
                                      "alert), repeat, unknown_alert", labels=["result"])
        for result in (*self.ACTIONS, *sorted(set(self.stats.actions) - set(self.ACTIONS))):
            actions.add_metric([result], self.stats.actions[result])
        yield actions
        yield CounterMetricFamily("churnwatch_risk_predictions_untracked", "Risks published "
                                  "while their customer had the most open (4): not followed",
                                  value=self.stats.untracked)

    def describe(self) -> Iterator[Metric]:
        """The names, for the registry's check against duplicates."""
        for family in self.collect():
            family.samples = []
            yield family


class CalibrationMetrics:
    """Is the risk still true (models/calibration.py)? Counters per horizon and risk
    decile, which add up across workers; deploy/prometheus derives ECE and Brier."""

    def __init__(self, r: CollectorRegistry) -> None:
        labels = ["horizon_days", "bin"]
        self.settled = Counter("churnwatch_risk_predictions_settled_total",
                               "Risks published on alerts whose horizon closed, by horizon "
                               "and risk decile (its lower edge)", labels, registry=r)
        self.churned = Counter("churnwatch_risk_predictions_churned_total",
                               "Of those, the ones whose customer bought nothing within the "
                               "horizon", labels, registry=r)
        self.expected = Counter("churnwatch_risk_expected_churned_total",
                                "Sum of those risks: the churn they predicted", labels,
                                registry=r)
        self.squared = Counter("churnwatch_risk_squared_error_total",
                               "Sum of the squared errors of those risks (Brier score "
                               "numerator)", labels, registry=r)
        self.max_ece = Gauge("churnwatch_risk_max_ece", "The setting risk.max_ece: the "
                             "30-day ECE above which ChurnwatchRiskMiscalibrated fires",
                             registry=r)

    def declare(self, horizon_days: float) -> None:
        """Zero series for the current model's horizon, every risk decile."""
        for b in range(BINS):
            for counter in (self.settled, self.churned, self.expected, self.squared):
                counter.labels(f"{horizon_days:g}", bin_label(b))

    def count(self, settled: Settled) -> None:
        labels = (f"{settled.horizon_days:g}", bin_label(bin_of(settled.risk_ppm)))
        error = settled.risk - settled.churned
        self.settled.labels(*labels).inc()
        self.expected.labels(*labels).inc(settled.risk)
        self.squared.labels(*labels).inc(error * error)
        if settled.churned:
            self.churned.labels(*labels).inc()


def memory_limit(paths: tuple[Path, ...] = _CGROUP_LIMITS) -> int | None:
    """The cgroup memory limit in bytes, or None without one (or outside a container)."""
    for path in paths:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < _NO_LIMIT:
            return int(text)
        return None
    return None


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"

