"""Closes the loop: a customer with open alerts buys again, so recall can stop and be
measured (docs/DOMAIN.md: every warning is followed up and recall success is measured)."""

from __future__ import annotations

from churnwatch.models.events import Order
from churnwatch.models.vocabulary import SIGNAL_NAMES
from churnwatch.signals.base import Context, Finding, Reason, Signal, days


class Recovered(Signal):
    name = "recovered"
    reads = (Order,)

    def evaluate(self, ctx: Context) -> Finding | None:
        order = ctx.trigger
        if not isinstance(order, Order) or order.status != "placed" or not ctx.before.open_mask:
            return None
        signals = [n for i, n in enumerate(SIGNAL_NAMES) if ctx.before.open_mask >> i & 1]
        return Finding(
            signal=self.name,
            key=order.event_id,
            severity="low",
            reasons=(Reason("purchased_after_alert",
                            f"bought again {days(ctx.now - ctx.before.open_since)} days after "
                            f"the first open alert ({', '.join(signals)})"),),
            evidence={"recovered_from": ",".join(signals),
                      "days_since_first_alert": days(ctx.now - ctx.before.open_since),
                      "order_value": order.amount},
        )
