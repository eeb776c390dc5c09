"""Alert governance: how often one customer may be contacted about what.

Marketing automation acts on every alert, so the detector must not flood one customer:
a cooldown per (customer, signal) and a cap per customer over a window. ``recovered`` is
exempt: it stops campaigns rather than starting them.
"""

from __future__ import annotations

from churnwatch.models.state import DAY, CustomerState
from churnwatch.signals.base import CODES, Finding
from churnwatch.signals.detection import GovernanceSettings

RECOVERED = CODES["recovered"]


def suppression(finding: Finding, state: CustomerState, now: float,
                rule: GovernanceSettings) -> str | None:
    """Why this finding must not become an alert, or ``None`` if it may."""
    code = CODES[finding.signal]
    if code == RECOVERED:
        return None
    last = state.fired.get(code)
    if last is not None and now - last < rule.cooldown_days * DAY:
        return "cooldown"
    since = now - rule.cap_window_days * DAY
    recent = sum(1 for c, t in state.fired.items() if c != RECOVERED and t > since)
    if recent >= rule.cap_per_customer:
        return "cap"
    return None


def record(finding: Finding, state: CustomerState, now: float) -> None:
    """Remember the alert: for cooldown and cap, and as open until the customer buys."""
    code = CODES[finding.signal]
    state.fired[code] = int(now)
    if code != RECOVERED:
        state.open_mask |= 1 << code
        state.open_since = state.open_since or int(now)
