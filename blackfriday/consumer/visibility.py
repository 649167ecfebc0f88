"""Keep messages in hand invisible while their work lasts, so no other worker gets them meanwhile.

Work on a message can outlast the visibility timeout (a worker waits for a --max-inflight slot, a
throttled call backs off). A message whose deadline comes within half its timeout gets its timeout
renewed (ChangeMessageVisibilityBatch, ten at a time) until its worker deletes it or lets it go.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.consumer.stats import PoolStats

SQS_BATCH = 10
LONGEST_TICK_SECONDS = 5.0
SHORTEST_TICK_SECONDS = 0.2


@dataclass
class _Queue:
    timeout: int
    stats: PoolStats


class VisibilityExtender:
    def __init__(self, sqs):
        self.sqs = sqs
        self._queues: dict[str, _Queue] = {}
        self._deadlines: dict[tuple[str, str], float] = {}  # (queue url, receipt handle) -> monotonic deadline
        self._lock = threading.Lock()

    def register_queue(self, queue_url: str, timeout_seconds: int, stats: PoolStats) -> None:
        self._queues[queue_url] = _Queue(timeout_seconds, stats)

    @property
    def tick_seconds(self) -> float:
        shortest = min((queue.timeout for queue in self._queues.values()), default=LONGEST_TICK_SECONDS * 4)
        return max(SHORTEST_TICK_SECONDS, min(LONGEST_TICK_SECONDS, shortest / 4))

    def track(self, queue_url: str, receipt_handles: list[str], received_at: float) -> None:
        """`received_at`: time.monotonic() taken before the receive call, so deadlines are never late."""
        deadline = received_at + self._queues[queue_url].timeout
        with self._lock:
            for handle in receipt_handles:
                self._deadlines[(queue_url, handle)] = deadline

    def untrack(self, queue_url: str, receipt_handles: list[str]) -> None:
        with self._lock:
            for handle in receipt_handles:
                self._deadlines.pop((queue_url, handle), None)

    @property
    def tracked(self) -> int:
        with self._lock:
            return len(self._deadlines)

    def extend_due(self, now: float | None = None) -> int:
        """One pass: renew every message within half its timeout of its deadline; returns how many were renewed."""
        now = time.monotonic() if now is None else now
        due: dict[str, list[str]] = {}
        with self._lock:
            for (queue_url, handle), deadline in self._deadlines.items():
                if deadline - now <= self._queues[queue_url].timeout / 2:
                    due.setdefault(queue_url, []).append(handle)
        renewed = 0
        for queue_url, handles in due.items():
            for start in range(0, len(handles), SQS_BATCH):
                renewed += self._renew(queue_url, handles[start : start + SQS_BATCH], now)
        return renewed

    def _renew(self, queue_url: str, handles: list[str], renewed_at: float) -> int:
        """`renewed_at`: taken before the call, so the new deadline is never later than SQS's."""
        queue = self._queues[queue_url]
        entries = [{"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": queue.timeout} for index, handle in enumerate(handles)]
        try:
            response = self.sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            queue.stats.error(f"ChangeMessageVisibilityBatch on {queue_url} failed: {error}")
            return 0
        renewed = 0
        with self._lock:
            for success in response.get("Successful", []):
                key = (queue_url, handles[int(success["Id"])])
                if key in self._deadlines:  # not deleted meanwhile
                    self._deadlines[key] = renewed_at + queue.timeout
                    renewed += 1
            # A failure on a message that is still held means it may reappear; one deleted meanwhile is fine.
            lost = [failure for failure in response.get("Failed", []) if (queue_url, handles[int(failure["Id"])]) in self._deadlines]
        for failure in lost:
            queue.stats.error(f"ChangeMessageVisibility on {queue_url} failed: {failure.get('Code')}: {failure.get('Message', '')}")
        return renewed

    def run(self, shutdown: threading.Event) -> None:
        while not shutdown.wait(self.tick_seconds):
            self.extend_due()
