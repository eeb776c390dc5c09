"""取消关注公众号: the customer unfollowed the official account or unsubscribed."""

from __future__ import annotations

from churnwatch.models.events import ChannelChange
from churnwatch.signals.base import Context, Finding, Reason, Signal, tiered


class Unfollowed(Signal):
    name = "unfollowed"
    reads = (ChannelChange,)

    def evaluate(self, ctx: Context) -> Finding | None:
        e = ctx.trigger
        if not isinstance(e, ChannelChange) or e.action not in ("unfollow", "unsubscribe"):
            return None
        where = f" on {e.channel}" if e.channel else ""
        return Finding(
            signal=self.name,
            key=e.event_id,
            severity=tiered("medium", ctx),
            reasons=(Reason(f"customer_{e.action}d", f"customer chose to {e.action}{where}"),),
            evidence={"action": e.action, "channel": e.channel},
        )
