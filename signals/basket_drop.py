"""客单价骤降: an order far below the customer's own usual order value."""

from __future__ import annotations

from churnwatch.models.events import Order
from churnwatch.signals.base import Context, Finding, Reason, Signal, tiered


class BasketDrop(Signal):
    name = "basket_drop"
    reads = (Order,)

    def evaluate(self, ctx: Context) -> Finding | None:
        order, rule = ctx.trigger, ctx.settings.basket_drop
        if not isinstance(order, Order) or order.status != "placed":
            return None
        usual = ctx.before.usual_value / 100
        if ctx.before.orders < rule.min_orders or usual <= 0:
            return None
        ratio = order.amount / usual
        if ratio >= rule.ratio:
            return None
        return Finding(
            signal=self.name,
            key=order.event_id,
            severity=tiered("high" if ratio < rule.ratio / 2 else "medium", ctx),
            reasons=(Reason("order_value_below_usual",
                            f"order of {order.amount:.2f} is {ratio:.0%} of the usual "
                            f"{usual:.2f} (threshold {rule.ratio:.0%})"),),
            evidence={"order_value": order.amount, "usual_order_value": usual,
                      "ratio": round(ratio, 4), "threshold": rule.ratio,
                      "prior_orders": ctx.before.orders},
        )
