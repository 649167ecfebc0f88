"""The loop both pools share: long-poll ten messages, handle each, delete what is done in one batch.

What happens to a message:
- an S3 test event: deleted quietly;
- an order event whose work is done (execution started, order aggregated, or a duplicate): deleted;
- garbage (not an S3 event) or an object that is not an order: counted as an error and NOT deleted.
  Retrying cannot help, so its visibility is set to 0 at once: it comes back immediately and after
  maxReceiveCount (3) receives SQS moves it to the DLQ, instead of waiting out the visibility
  timeout three times;
- a transient AWS error: counted, NOT deleted; it reappears after its visibility timeout;
- received after a stop was asked, or interrupted while waiting for a slot or a backoff: kept in flight
  until every worker of the pool has stopped, then given back (visibility 0) so that another consumer
  can take it right away. Giving it back at once let the pool's own last long polls receive it again,
  and each receive counts toward the DLQ's maxReceiveCount: a stop could dead-letter a good order.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.consumer.messages import MessageKind, ObjectRef, UnreadableOrder, parse_message, read_order
from blackfriday.consumer.stats import PoolCounter, PoolStats
from blackfriday.consumer.visibility import SQS_BATCH, VisibilityExtender
from blackfriday.deployment.stack import QueueInfo
from blackfriday.errors import describe_client_error, error_code

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "ExecutionLimitExceeded",  # Step Functions: too many open executions in the account
    }
)
# A queue that is gone or refuses us will not come back by retrying: the run stops with exit 1.
FATAL_RECEIVE_CODES = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)
FIRST_BACKOFF_SECONDS = 0.5
LONGEST_BACKOFF_SECONDS = 20.0


class Interrupted(Exception):
    """A stop was asked while the work waited (for an in-flight slot or a backoff): give the message back."""


class Backoff:
    """Exponential backoff with full jitter that gives way to a stop request."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.ceiling = FIRST_BACKOFF_SECONDS

    def wait(self) -> None:
        if self.stop.wait(random.uniform(0, self.ceiling)):
            raise Interrupted()
        self.ceiling = min(LONGEST_BACKOFF_SECONDS, self.ceiling * 2)


def call_with_backoff(call: Callable[[], object], stop: threading.Event, stats: PoolStats):
    """Run an AWS call, backing off for as long as the service throttles it (botocore's own retries came first)."""
    backoff = Backoff(stop)
    while True:
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in THROTTLING_CODES:
                raise
            stats.add(PoolCounter.THROTTLED)
            backoff.wait()


class OrderHandler(Protocol):
    """What a pool does with one order: return the counter to bump (STARTED, DUPLICATES...) once done.

    Raise Interrupted to give the message back, UnreadableOrder when it can never succeed; any other
    exception leaves the message for a later retry."""

    def handle(self, order: dict, ref: ObjectRef, stop: threading.Event) -> PoolCounter: ...


class Verdict(Enum):
    DONE = "done"  # delete
    RETRY_NOW = "retry_now"  # can never succeed: visible again at once, so it reaches the DLQ quickly
    RELEASE = "release"  # not worked on: visible again once the pool has stopped
    LEAVE = "leave"  # transient failure: reappears after its visibility timeout


@dataclass(frozen=True)
class PoolSettings:
    workers: int
    wait_seconds: int  # long poll
    visibility_timeout: int


class QueuePool:
    def __init__(
        self,
        gateway,
        queue: QueueInfo,
        settings: PoolSettings,
        handler: OrderHandler,
        extender: VisibilityExtender,
        stop: threading.Event,
        on_fatal: Callable[[str], None],
        stats: PoolStats,
    ):
        self.pool = stats.pool
        self.sqs = gateway.client("sqs")
        self.s3 = gateway.client("s3")
        self.queue = queue
        self.settings = settings
        self.handler = handler
        self.extender = extender
        self.stop = stop
        self.on_fatal = on_fatal
        self.stats = stats
        self._threads: list[threading.Thread] = []
        self._released: list[str] = []  # receipt handles to give back once the workers have stopped
        self._released_lock = threading.Lock()
        extender.register_queue(queue.url, settings.visibility_timeout, self.stats)

    @property
    def queue_name(self) -> str:
        return self.queue.arn.rsplit(":", 1)[-1]

    def start(self) -> None:
        for number in range(self.settings.workers):
            thread = threading.Thread(target=self._work, name=f"{self.pool}-{number + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def is_alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        backoff = Backoff(self.stop)
        while not self.stop.is_set():
            try:
                self.receive_and_handle()
                backoff = Backoff(self.stop)
            except ClientError as error:
                if error_code(error) in FATAL_RECEIVE_CODES:
                    self.on_fatal(describe_client_error(error, self.queue_name))
                    return
                self.stats.error(describe_client_error(error, self.queue_name))
                self._pause(backoff)
            except BotoCoreError as error:
                self.stats.error(f"ReceiveMessage on {self.queue_name} failed: {error}")
                self._pause(backoff)

    @staticmethod
    def _pause(backoff: Backoff) -> None:
        try:
            backoff.wait()
        except Interrupted:
            pass

    def receive_and_handle(self) -> None:
        received_at = time.monotonic()
        response = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=SQS_BATCH,
            WaitTimeSeconds=self.settings.wait_seconds,
            VisibilityTimeout=self.settings.visibility_timeout,
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        handles = [message["ReceiptHandle"] for message in messages]
        self.stats.hold(len(messages))
        self.extender.track(self.queue.url, handles, received_at)
        verdicts: dict[Verdict, list[str]] = {verdict: [] for verdict in Verdict}
        try:
            for message in messages:
                verdict = Verdict.RELEASE if self.stop.is_set() else self.handle_message(message)
                verdicts[verdict].append(message["ReceiptHandle"])
        finally:
            # Untracked before they are deleted, so the extender never renews a handle that no longer exists; the
            # released ones stay tracked (invisible) until they are given back.
            with self._released_lock:
                self._released += verdicts[Verdict.RELEASE]
            self.extender.untrack(self.queue.url, [handle for handle in handles if handle not in verdicts[Verdict.RELEASE]])
        try:
            self._delete(verdicts[Verdict.DONE])
            self._make_visible(verdicts[Verdict.RETRY_NOW])
        finally:
            self.stats.hold(-len(messages))

    def give_back_released(self) -> None:
        """Make the messages released by a stop visible again; call once no worker of the pool receives any more."""
        with self._released_lock:
            handles, self._released = self._released, []
        self.extender.untrack(self.queue.url, handles)
        for start in range(0, len(handles), SQS_BATCH):
            self._make_visible(handles[start : start + SQS_BATCH])

    def handle_message(self, message: dict) -> Verdict:
        parsed = parse_message(message.get("Body", ""))
        if parsed.kind is MessageKind.TEST_EVENT:
            self.stats.add(PoolCounter.TEST_EVENTS)
            return Verdict.DONE
        self.stats.add(PoolCounter.RECEIVED)
        if parsed.kind is MessageKind.GARBAGE:
            self.stats.error(f"message {message.get('MessageId')} on {self.queue_name}: {parsed.problem}")
            return Verdict.RETRY_NOW
        try:
            for ref in parsed.objects:
                order = read_order(self.s3, ref)
                self.stats.add(self.handler.handle(order, ref, self.stop))
            return Verdict.DONE
        except Interrupted:
            return Verdict.RELEASE
        except UnreadableOrder as problem:
            self.stats.error(f"{problem} (left for {self.queue_name}'s DLQ)")
            return Verdict.RETRY_NOW
        except ClientError as error:
            self.stats.error(describe_client_error(error))
            return Verdict.LEAVE
        except Exception as error:  # noqa: BLE001 - one bad message must never stop the pool
            self.stats.error(f"{type(error).__name__} handling message {message.get('MessageId')}: {error}")
            return Verdict.LEAVE

    def _delete(self, handles: list[str]) -> None:
        if not handles:
            return
        entries = [{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(handles)]
        try:
            response = self.sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            # Not deleted: the messages come back and are recognised as duplicates then.
            self.stats.error(f"DeleteMessageBatch on {self.queue_name} failed: {error}")
            return
        self.stats.add(PoolCounter.PROCESSED, len(response.get("Successful", [])))
        for failure in response.get("Failed", []):
            self.stats.error(f"DeleteMessage on {self.queue_name} failed: {failure.get('Code')}: {failure.get('Message', '')}")

    def _make_visible(self, handles: list[str]) -> None:
        if not handles:
            return
        entries = [{"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0} for index, handle in enumerate(handles)]
        try:
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue.url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            # Harmless: they reappear after their visibility timeout instead of at once.
            self.stats.error(f"ChangeMessageVisibilityBatch on {self.queue_name} failed: {error}")
