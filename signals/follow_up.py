"""``follow_up_overdue``: an alert's response window passed and nobody reported acting on it.

docs/DOMAIN.md: every warning is followed up, within the tier's window (1 h diamond, 4 h
core, 24 h potential, 48 h basic). Unlike the other signals this one is about the team,
not the customer's behaviour: it is not a :class:`~churnwatch.signals.base.Signal` run on
items, but raised by the engine when event time passes a treated alert's deadline
(models/attribution.py keeps the records), only when ``loop.follow_up`` is on. Cooldown and
cap do not apply (each breached alert gets exactly one, and none may crowd out a warning);
its id derives from the breached alert, so a replay or redelivery gives the same one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from churnwatch.models.alert import rfc3339
from churnwatch.models.attribution import ALERT, AT, SIGNAL, TIER
from churnwatch.models.rfm import RESPOND_HOURS
from churnwatch.models.vocabulary import SIGNAL_NAMES, TIERS
from churnwatch.signals.base import Finding, Reason

NAME = "follow_up_overdue"


def overdue_finding(record: list[Any]) -> Finding:
    """The finding for one breached record (its alert's CRC names the trigger)."""
    signal, tier = SIGNAL_NAMES[record[SIGNAL]], TIERS[record[TIER]]
    hours = RESPOND_HOURS[tier]
    alerted = rfc3339(datetime.fromtimestamp(record[AT], UTC))
    return Finding(
        signal=NAME,
        key=f"{record[ALERT]:08x}@{record[AT]}",
        severity="high" if tier in TIERS[:2] else "medium",
        reasons=(Reason("follow_up.overdue",
                        f"the {signal} alert of {alerted} was not acted on within the "
                        f"{tier} tier's {hours} h"),),
        evidence={"overdue_signal": signal, "overdue_tier": tier, "alerted_at": alerted,
                  "respond_hours": hours},
    )
