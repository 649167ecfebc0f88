"""SQS: the queue index that keeps large backlogs linear, long polls that wait outside the request gate, and a queue's
access policy kept by a SetQueueAttributes that does not name it."""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.utils import unix_time_millis
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

from blackfriday.emulator import gate
from blackfriday.emulator.fixes.registry import Fingerprint, Patch

Queue, Message, SQSBackend = sqs_models.Queue, sqs_models.Message, sqs_models.SQSBackend


# SQS: moto finds visible, in-flight and delayed messages, and the message behind a receipt
# handle, by scanning every message of the queue with two clock reads each. `Queue.attributes`
# computes all three counts (3 scans), SendMessage builds the attributes, and ReceiveMessage builds
# them three times per received message (the retention check): a backlog of N messages costs O(N)
# per send and O(N) per received message, quadratic over a run. The fix keeps, per queue, an index
# of receipt handles and the small set of messages that may be in flight or delayed ("touched"):
# every other message of the queue is visible. Counts cost O(in flight + delayed), deletes O(1)
# lookups, receives stop scanning once they have their batch. FIFO queues (deduplication, groups)
# keep moto's own code: the pipeline uses standard queues.
MAXIMUM_TOTAL_VISIBILITY_MS = 43200 * 1000  # SQS: a message stays invisible 12 hours at most in all


class QueueIndex:
    def __init__(self) -> None:
        self.key = uuid.uuid4().hex  # stored on messages instead of the queue: received messages get deep-copied
        self.handles: dict[str, Any] = {}  # every receipt handle of every message in the queue
        self.touched: set[Any] = set()  # in the queue and possibly in flight or delayed
        self.lock = threading.Lock()

    def holds(self, message: Any) -> bool:
        return getattr(message, "bf_queue_key", None) == self.key

    def touch(self, message: Any) -> None:
        with self.lock:
            self.touched.add(message)


QUEUE_INDEXES: weakref.WeakValueDictionary[str, QueueIndex] = weakref.WeakValueDictionary()


def index_of(queue: Any) -> QueueIndex:
    index = queue.__dict__.get("bf_index")
    if index is None:
        index = queue.__dict__.setdefault("bf_index", QueueIndex())
        QUEUE_INDEXES[index.key] = index
    return index


def index_holding(message: Any) -> QueueIndex | None:
    key = getattr(message, "bf_queue_key", None)
    return QUEUE_INDEXES.get(key) if key else None


def hidden_counts(queue: Any) -> tuple[int, int, int]:
    """(messages not visible or delayed, not visible, delayed), from the touched set only."""
    index = index_of(queue)
    now = unix_time_millis()
    hidden = not_visible = delayed = 0
    with index.lock:
        for message in list(index.touched):
            is_delayed = now < message.delayed_until  # as Message.delayed
            is_in_flight = not now > message.visible_at  # as not Message.visible
            if not index.holds(message) or not (is_delayed or is_in_flight):
                index.touched.discard(message)  # moved to a DLQ, or visible again until its visibility changes
                continue
            hidden += 1
            not_visible += is_in_flight
            delayed += is_delayed
    return hidden, not_visible, delayed


class VisibleMessages:
    """What `Queue.messages` returned as a list, computed lazily: ReceiveMessage stops after its batch."""

    def __init__(self, queue: Any):
        self.queue = queue

    def __iter__(self) -> Iterator[Any]:
        now = unix_time_millis()
        # `_messages` is only appended to in place (deletes and purges assign a new list), so
        # iterating it while other requests run is safe.
        return (message for message in self.queue._messages if now > message.visible_at and now >= message.delayed_until)

    def __len__(self) -> int:
        return len(self.queue._messages) - hidden_counts(self.queue)[0]

    def __bool__(self) -> bool:
        return len(self) > 0


def indexed_messages(original: Callable) -> Callable:
    def messages(self):
        return original(self) if self.fifo_queue else VisibleMessages(self)

    return messages


def indexed_count(original: Callable, count: Callable[[Any], int]) -> Callable:
    def approximate_count(self) -> int:
        return original(self) if self.fifo_queue else count(self)

    return approximate_count


def indexed_add_message(original: Callable) -> Callable:
    def add_message(self, message) -> None:
        index = index_of(self)
        message.bf_queue_key = index.key
        for handle in message.all_receipt_handles:  # a message moved to this DLQ keeps its handles
            if handle is not None:
                index.handles[handle] = message
        original(self, message)
        if message.delayed_until:
            index.touch(message)

    return add_message


def indexed_mark_received(original: Callable) -> Callable:
    def mark_received(self, visibility_timeout=None) -> None:
        original(self, visibility_timeout)
        index = index_holding(self)
        if index is not None:
            index.handles[self.receipt_handle] = self

    return mark_received


def indexed_change_visibility(original: Callable) -> Callable:
    def change_visibility(self, visibility_timeout) -> None:
        original(self, visibility_timeout)
        index = index_holding(self)
        if index is not None:
            index.touch(self)

    return change_visibility


def indexed_delete_message(original: Callable) -> Callable:
    def delete_message(self, receipt_handle: str) -> None:
        if self.fifo_queue:
            return original(self, receipt_handle)
        with self._messages_lock:
            if receipt_handle in self.deleted_messages:
                return None  # already deleted: moto (like SQS) accepts deleting it again
            index = index_of(self)
            message = index.handles.get(receipt_handle)
            if message is None or not index.holds(message):
                raise ReceiptHandleIsInvalid()
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            for handle in message.all_receipt_handles:
                index.handles.pop(handle, None)
            with index.lock:
                index.touched.discard(message)
            message.bf_queue_key = None
            remaining = self._messages.copy()  # a new list, as moto's own delete: running receives keep theirs
            remaining.remove(message)
            self._messages = remaining
        return None

    return delete_message


def indexed_purge_queue(original: Callable) -> Callable:
    def purge_queue(self, queue_name: str) -> None:
        original(self, queue_name)
        queue = self.get_queue(queue_name)
        queue.__dict__.pop("bf_index", None)  # its messages are gone; a fresh index starts empty

    return purge_queue


# The consumer extends the visibility of in-flight messages while their workflows run; moto finds
# the message behind the receipt handle by scanning the queue. Same checks, found through the index.
def indexed_change_message_visibility(original: Callable) -> Callable:
    def change_message_visibility(self, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return original(self, queue_name, receipt_handle, visibility_timeout)
        index = index_of(queue)
        message = index.handles.get(receipt_handle)
        if message is None or not index.holds(message):
            raise ReceiptHandleIsInvalid
        given_visibility_timeout = unix_time_millis() + int(visibility_timeout) * 1000
        if given_visibility_timeout - message.sent_timestamp > MAXIMUM_TOTAL_VISIBILITY_MS:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)  # visible again: no longer in flight
        return None

    return change_message_visibility


# ReceiveMessage checks each received message's retention through get_queue_attributes, which
# builds every attribute (the three counts included) three times: read the one value directly.
def direct_retention_check(original: Callable) -> Callable:
    def is_message_valid_based_on_retention_period(self, queue_name: str, message) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > sqs_models.unix_time()

    return is_message_valid_based_on_retention_period


def policy_kept_unless_named(original: Callable) -> Callable:
    """SetQueueAttributes changes the attributes it names and no other (AWS); moto sets the Policy to none when the
    call does not name it, so setup converging a queue's visibility or redrive alone dropped the policy that lets SNS
    send (and the next --plan found it changed)."""

    def set_queue_attributes(self, queue_name: str, attributes: dict[str, Any]):
        if "Policy" in attributes:
            return original(self, queue_name, attributes)
        kept = self.get_queue(queue_name).policy
        queue = original(self, queue_name, attributes)
        queue.policy = kept
        return queue

    return set_queue_attributes


FIXES = (
    Patch(SQSBackend, "set_queue_attributes", "ea0bf1a56eef756fbb2c746501af269f935eb6f0a33ae2d65bf707536d2a7a4e", policy_kept_unless_named),
    Patch(Queue, "messages", "03a531dbcbcf9aee2e61c7254c08946a499f5c57f2447a8f2e534aa85b067dea", indexed_messages, hot_spot=True),
    Patch(
        Queue,
        "approximate_number_of_messages",
        "d357a9506a56d2f8f9f364aa1e0a4739182106db6dbcede0e0699c00d1406eec",
        lambda original: indexed_count(original, lambda queue: len(VisibleMessages(queue))),
        hot_spot=True,
    ),
    Patch(
        Queue,
        "approximate_number_of_messages_not_visible",
        "5dbecc4dda174358d2aefa96e4b769def47fd6bb2c315241c451e8518c3fabab",
        lambda original: indexed_count(original, lambda queue: hidden_counts(queue)[1]),
        hot_spot=True,
    ),
    Patch(
        Queue,
        "approximate_number_of_messages_delayed",
        "c3c1dadb0c42ed5f8f5e1fddc8384de67db2df9a4055504f10903bd0b55e8d2f",
        lambda original: indexed_count(original, lambda queue: hidden_counts(queue)[2]),
        hot_spot=True,
    ),
    Patch(Queue, "add_message", "f27c9231c1f2043382bc1435c4dfbab7b645389df642f050d9dda477f6535c35", indexed_add_message, hot_spot=True),
    Patch(
        Queue, "delete_message", "fa6fd5b9bd2cafb4aaacd79da7fc656e513e1513197c2939ff002f9ebfd4be46", indexed_delete_message, hot_spot=True
    ),
    Patch(
        Message, "mark_received", "98e7ec115c7fcb9f34b06f42cb88a96ee9b595870bdad0105e25c4d8df462c97", indexed_mark_received, hot_spot=True
    ),
    Patch(
        Message,
        "change_visibility",
        "fcde8986de1390dce4e6015305233a4545ff8193b2d98b7cf5ae544a9d543084",
        indexed_change_visibility,
        hot_spot=True,
    ),
    Patch(
        SQSBackend,
        "change_message_visibility",
        "f0e9df5f66627114c9249020675ff5accee62a9cab5e797442538c13ac593b99",
        indexed_change_message_visibility,
        hot_spot=True,
    ),
    Patch(
        SQSBackend, "purge_queue", "443ea1ae7b15230caa656fd9915e50d18868a7efc9d37c4da9a0e999c725766a", indexed_purge_queue, hot_spot=True
    ),
    Patch(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        "cca23b94a5f3af9d9c5af1c09ee5e615017bdf6bd032301cb321c06c7e595d4b",
        direct_retention_check,
        hot_spot=True,
    ),
    # A long-polling ReceiveMessage waits with the request gate released (gate.py says why).
    Patch(
        Queue,
        "wait_for_messages",
        "58432562ccf2e13ed8841c825dd2614b6e57b71733d1ce9ba6926d38530ba1f1",
        gate.wait_for_messages_outside_the_gate,
    ),
)
# ReceiveMessage iterates `queue.messages`, moves messages to the DLQ with `queue._messages.remove` +
# `add_message`, marks them received, and waits through `queue.wait_for_messages`, which add_message
# notifies. (SendMessageBatch and ChangeMessageVisibilityBatch go through the patched single-message methods.)
RELIED_ON = (
    Fingerprint(SQSBackend, "receive_message", "065f3e5e7d2144089ce3b5d16d9306243ccd2f3ee11b44beb851292fadb7652f"),
    Fingerprint(SQSBackend, "send_message_batch", "0707ad219481c867546327a5e0f42421187e1706202c68f9d8e87be597d3417a"),
    Fingerprint(SQSBackend, "delete_message_batch", "53c0bc5d5f51468ad2e6311da0417ec613b5da28d33337c66a3f1f51d99147b2"),
    Fingerprint(SQSBackend, "change_message_visibility_batch", "6194b4570c67a1a0ca8c8b323ecdbf4bf851515379a5145c8396ada0d93da963"),
)
