"""Waiting for the broker to confirm records before acking the events behind them.

Faust's own guarantee is weaker than it looks. Table writes and ``send_soon`` queue
records in Faust's ``ProducerBuffer``, and a task hands them to aiokafka one at a time.
``ProducerBuffer.flush()`` (faust-streaming 0.11, ``flush_atmost``) returns as soon as
0.1 s pass without a record handed over, with records still queued, and the record being
handed over is not counted at all. Faust's commit calls it before committing offsets, so
on a busy machine a commit could cover events whose states were still in the buffer; a
stop or crash then lost them (a restart test missed the last alerts of its log about one
run in ten under load). Every queued record has a future that completes when the broker
acknowledges it (or fails): the worker waits for those instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 120.0
"""Seconds to wait for the broker (a paused broker holds the worker this long at most)."""


class DeliveryFailed(RuntimeError):
    """The broker refused a record (after the producer's own retries)."""


async def delivered(futures: Sequence[asyncio.Future[object]],
                    timeout: float = DELIVERY_TIMEOUT) -> bool:
    """True once the broker has acknowledged every record; False if some are still
    unconfirmed after ``timeout``. Raises :class:`DeliveryFailed` if one failed."""
    if not futures:
        return True
    done, pending = await asyncio.wait(futures, timeout=timeout)
    failed = [f for f in done if f.cancelled() or f.exception() is not None]
    if failed:
        raise DeliveryFailed(f"{len(failed)} of {len(futures)} records refused by the "
                             f"broker, e.g. {failed[0].exception()!r}")
    if pending:
        log.warning("%d of %d records not confirmed by the broker after %.0f s: their "
                    "events stay unacked", len(pending), len(futures), timeout)
        return False
    return True
