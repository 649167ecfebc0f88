"""Queue and DLQ depths, sampled once a second for the dashboard and for --until-empty."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.deployment.stack import QueueInfo

SAMPLE_SECONDS = 1.0
DEPTH_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int
    dlq: int  # every message in the DLQ, visible or not

    @property
    def drained(self) -> bool:
        return not (self.visible or self.in_flight or self.delayed)


def _depths(sqs, url: str) -> tuple[int, int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)["Attributes"]
    return tuple(int(attributes.get(name, "0")) for name in DEPTH_ATTRIBUTES)


def queue_depth(sqs, queue: QueueInfo) -> QueueDepth:
    visible, in_flight, delayed = _depths(sqs, queue.url)
    dlq_visible, dlq_in_flight, _ = _depths(sqs, queue.dlq_url)
    return QueueDepth(visible, in_flight, delayed, dlq_visible + dlq_in_flight)


class QueueMonitor:
    def __init__(self, sqs, queues: dict[str, QueueInfo]):
        self.sqs = sqs
        self.queues = queues  # pool name -> queue
        self._latest: dict[str, QueueDepth] = {}
        self._last_error = ""
        self._lock = threading.Lock()

    def sample(self) -> dict[str, QueueDepth]:
        """Fresh depths of every queue (and remembered for `latest`)."""
        depths = {name: queue_depth(self.sqs, queue) for name, queue in self.queues.items()}
        with self._lock:
            self._latest = depths
            self._last_error = ""
        return depths

    @property
    def latest(self) -> dict[str, QueueDepth]:
        with self._lock:
            return dict(self._latest)

    @property
    def last_error(self) -> str:
        with self._lock:
            return self._last_error

    def run(self, shutdown: threading.Event) -> None:
        while True:
            try:
                self.sample()
            except (ClientError, BotoCoreError) as error:
                with self._lock:
                    self._last_error = f"GetQueueAttributes failed: {error}"
            if shutdown.wait(SAMPLE_SECONDS):
                return
