"""``churnwatch cdnow``: the CDNOW benchmark data as a log of contract order events.

CDNOW (Fader & Hardie) is the dataset the customer-base models were published on: CD
purchases of the customers acquired in Q1 1997, to June 1998. Lines are
``customer [sample_id] yyyymmdd cds dollars``. As in the published analyses, purchases of
one customer on one day are one order, so repeat purchases count days with a purchase.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import orjson


def convert(src: Path, out: Path) -> int:
    """Write one order event per customer-day, in time order; return how many."""
    days: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    with src.open() as f:
        for line in f:
            cols = line.split()
            if len(cols) < 4 or not cols[0].isdigit():
                continue  # the header of the master file
            customer, date = cols[0], cols[-3]
            total = days[(date, customer)]
            total[0] += float(cols[-2])  # CDs
            total[1] += float(cols[-1])  # dollars
    with out.open("wb") as dst:
        for (date, customer), (cds, dollars) in sorted(days.items()):
            when = f"{date[:4]}-{date[4:6]}-{date[6:]}T00:00:00Z"
            event: dict[str, object] = {
                "kind": "order", "event_id": f"cdnow-{customer}-{date}",
                "customer_id": customer, "occurred_at": when,
                "order_id": f"{customer}-{date}", "amount": round(dollars, 2),
                "currency": "USD",
            }
            if cds >= 1:
                event["items"] = int(cds)
            dst.write(orjson.dumps(event) + b"\n")
    return len(days)
