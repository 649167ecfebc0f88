"""The pools' names and counters, thread-safe counting, and a bounded latency sample: what the snapshot shows."""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from enum import StrEnum


class Pool(StrEnum):
    """A worker pool, named after the queue it drains (the key of StackInfo.queues)."""

    SHIPPING = "shipping"  # starts one OrderProcessingWorkflow execution per order
    ANALYTICS = "analytics"  # counts demand per SKU


class PoolCounter(StrEnum):
    RECEIVED = "received"  # order events taken off the queue (S3 test events not included)
    STARTED = "started"  # shipping: executions started
    AGGREGATED = "aggregated"  # analytics: valid orders counted
    REJECTED = "rejected"  # analytics: orders that fail validation, counted as rejected
    DUPLICATES = "duplicates"  # orders already handled: deleted, nothing done twice
    ERRORS = "errors"
    TEST_EVENTS = "test_events"  # S3's test event, deleted quietly
    THROTTLED = "throttled"  # calls the service throttled and that were retried
    CONFLICTS = "conflicts"  # analytics: transactions that met another one and were retried
    PROCESSED = "processed"  # messages deleted


POOL_COUNTERS: dict[Pool, tuple[PoolCounter, ...]] = {
    Pool.SHIPPING: (
        PoolCounter.RECEIVED, PoolCounter.STARTED, PoolCounter.DUPLICATES, PoolCounter.ERRORS,
        PoolCounter.TEST_EVENTS, PoolCounter.THROTTLED, PoolCounter.PROCESSED,
    ),
    Pool.ANALYTICS: (
        PoolCounter.RECEIVED, PoolCounter.AGGREGATED, PoolCounter.REJECTED, PoolCounter.DUPLICATES, PoolCounter.ERRORS,
        PoolCounter.TEST_EVENTS, PoolCounter.CONFLICTS, PoolCounter.PROCESSED,
    ),
}  # fmt: skip
# What "done" means for an order in each pool, as the summary and the dashboard show it.
DONE_COUNTERS: dict[Pool, tuple[PoolCounter, ...]] = {
    Pool.SHIPPING: (PoolCounter.STARTED,),
    Pool.ANALYTICS: (PoolCounter.AGGREGATED, PoolCounter.REJECTED),
}


class PoolStats:
    """Counters of one pool (received, started, duplicates, errors...), the messages in hand, the last error."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self._counts: Counter[str] = Counter()
        self._in_hand = 0
        self._last_error = ""
        self._lock = threading.Lock()

    def add(self, counter: PoolCounter, amount: int = 1) -> None:
        with self._lock:
            self._counts[counter] += amount

    def error(self, description: str) -> None:
        with self._lock:
            self._counts[PoolCounter.ERRORS] += 1
            self._last_error = description

    def hold(self, amount: int) -> None:
        """Messages received and not yet deleted or given back (negative to let go)."""
        with self._lock:
            self._in_hand += amount

    @property
    def in_hand(self) -> int:
        with self._lock:
            return self._in_hand

    @property
    def last_error(self) -> str:
        with self._lock:
            return self._last_error

    def snapshot(self) -> dict[PoolCounter, int]:
        with self._lock:
            return dict(self._counts)


class LatencySample:
    """Percentiles over a bounded reservoir (Vitter's algorithm R): exact up to `capacity` values, memory flat after."""

    def __init__(self, capacity: int = 10_000, seed: int = 0):
        self.capacity = capacity
        self._values: list[float] = []
        self._seen = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self._seen += 1
            if len(self._values) < self.capacity:
                self._values.append(seconds)
                return
            slot = self._random.randrange(self._seen)
            if slot < self.capacity:
                self._values[slot] = seconds

    @property
    def count(self) -> int:
        with self._lock:
            return self._seen

    def percentiles(self, *ranks: float) -> tuple[float | None, ...]:
        """Nearest-rank percentiles (0-100); None while nothing was measured."""
        with self._lock:
            ordered = sorted(self._values)
        if not ordered:
            return tuple(None for _ in ranks)
        return tuple(ordered[min(len(ordered), max(1, math.ceil(rank * len(ordered) / 100))) - 1] for rank in ranks)
