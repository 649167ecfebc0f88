"""Fixes for moto 5.2.5 hot spots that make a 10,000-order run crawl.

Each fix replaces or wraps one named moto object (a `Patch`). Every patch records the sha256 of the
moto source it was written against; tests/emulator/test_patches.py fails when a moto upgrade moves or
changes any target, so the fix gets reviewed instead of silently misbehaving, and `apply_all()` skips
(and logs) a patch whose target changed rather than break the server.

`apply_all()` patches the current process (the emulator server); `applied()` does it for the length of
a `with` block and undoes it (tests).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import inspect
import logging
import pickle
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import moto.backends
import moto.core.utils as moto_utils
from moto.core.utils import unix_time_millis
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import Validator
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from blackfriday.emulator.transactions import item_level_backup

log = logging.getLogger("blackfriday.emulator.patches")


@dataclass
class Fingerprint:
    """A moto object a fix depends on, and the sha256 of its source when the fix was written (moto 5.2.5)."""

    owner: Any
    name: str
    source_sha256: str

    @property
    def label(self) -> str:
        if inspect.ismodule(self.owner):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"

    def original(self) -> Callable:
        value = inspect.getattr_static(self.owner, self.name)
        return value.fget if isinstance(value, property) else value

    def current_sha256(self) -> str:
        return hashlib.sha256(inspect.getsource(self.original()).encode()).hexdigest()


@dataclass
class Patch(Fingerprint):
    """Replace `owner.name` with `build(original)`; for a property, `build` gets and returns the getter."""

    build: Callable[[Callable], Callable]
    replaced: list[tuple[Any, str, Any, Any]] = field(default_factory=list)  # (where, name, previous, replacement)

    def apply(self) -> None:
        static = inspect.getattr_static(self.owner, self.name)
        original = self.original()
        replacement = self.build(original)
        self.swap(self.owner, property(replacement) if isinstance(static, property) else replacement)
        if inspect.ismodule(self.owner):
            # Modules that did `from module import function` hold their own reference: patch those too.
            for module in moto_modules_holding(self.name, original):
                self.swap(module, replacement)

    def swap(self, where: Any, value: Any) -> None:
        self.replaced.append((where, self.name, where.__dict__[self.name], value))
        setattr(where, self.name, value)

    def undo(self) -> None:
        while self.replaced:
            where, name, previous, replacement = self.replaced.pop()
            setattr(where, name, previous)
            if inspect.ismodule(where):  # and in modules imported since, which took the replacement
                for module in moto_modules_holding(name, replacement):
                    setattr(module, name, previous)


def moto_modules_holding(name: str, value: Any) -> list[Any]:
    return [
        module
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith("moto.") and getattr(module, "__dict__", {}).get(name) is value
    ]


# (a) The server asks `host in backends.list_of_moto_modules()` on every request (werkzeug_app's
# DomainDispatcherApplication.get_backend_for_host, under a global lock); the original lists and stats
# moto's package directory (~180 stat calls) each time: a third of a request's server time. The
# directory does not change while the server runs, so list it once.
def cached_list_of_moto_modules(original: Callable) -> Callable:
    modules = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    return list_of_moto_modules


# (c) The Step Functions interpreter builds a new boto3 client for every Task state (tens of
# milliseconds, and not thread-safe on boto3's default session). Clients are thread-safe once built,
# and the original ignores `state_credentials` (it signs with fixed dummy keys), so one client per
# (region, service) is exact. `state_credentials` is not hashable: it cannot be part of the key.
def cached_boto_client_for(original: Callable) -> Callable:
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region=region, service=service, state_credentials=state_credentials)
        return client

    return boto_client_for


# (d) `camelcase_to_underscores` walks its argument char by char with `istitle()` calls, and moto
# calls it for every request (the action name) and ~14 times per `Queue.attributes`, which every
# SendMessage builds: a fifth of the emulator's CPU under fan-out load. It is a pure function of a
# short name: remember the answers. (e) `method_names_from_class` runs `inspect.getmembers` on the
# response class for every JSON/query request; a class's methods do not change: remember them too.
def memoized(original: Callable) -> Callable:
    return functools.lru_cache(maxsize=4096)(original)


# (b) SQS: moto finds visible, in-flight and delayed messages, and the message behind a receipt
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


Queue, Message, SQSBackend = sqs_models.Queue, sqs_models.Message, sqs_models.SQSBackend

# (d) Every execution parses its state machine's definition again with ANTLR
# (ExecutionWorker._get_evaluation_entrypoint): about 60 ms of server CPU per execution for the
# order workflow, more than all its Lambda calls. The parsed program holds no execution state (retry
# counters live in each execution's Environment heap), so one parse per definition serves them all.
PARSED_DEFINITIONS_KEPT = 16


def cached_entrypoint(original: Callable) -> Callable:
    @functools.lru_cache(maxsize=PARSED_DEFINITIONS_KEPT)
    def parse(definition: str):
        from moto.stepfunctions.parser.asl.parse.asl_parser import (
            AmazonStateLanguageParser,
        )

        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self):
        return parse(self._evaluation_details.state_machine_details.definition)

    return _get_evaluation_entrypoint


# (f) DynamoDB UpdateItem tokenises and parses its UpdateExpression on every call (~0.3 ms for the
# order workflow's expressions). The parsed tree is a pure function of the string and is never
# mutated: every UpdateExpressionValidator copies it before resolving names and values into it
# (Validator.__init__, replaced below). So parse each distinct expression once; an invalid one
# raises each time (lru_cache does not keep exceptions). The tree also keeps its own pickle, for (h).
PICKLED_TREE = "_blackfriday_pickled_tree"


def memoized_update_expression_parse(original: classmethod) -> classmethod:
    @functools.lru_cache(maxsize=1024)
    def make(cls, expression_str):
        tree = original.__func__(cls, expression_str)
        tree.__dict__[PICKLED_TREE] = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        return tree

    return classmethod(make)


# (h) Each validation deep-copies the expression tree (~0.3 ms: parent links, tokens); unpickling the
# parse-time pickle of the same tree builds an equal, independent copy ~6x faster. Trees that did not
# come from the cache (none today) are still deep-copied.
def validator_copying_from_pickle(original: Callable) -> Callable:
    def __init__(self, expression, expression_attribute_names, expression_attribute_values, item, table):
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        pickled = expression.__dict__.get(PICKLED_TREE)
        self.node_to_validate = pickle.loads(pickled) if pickled is not None else copy.deepcopy(expression)

    return __init__


# (g) moto validates every UpdateExpression with ten AST traversers. For each node each one builds a
# new `_processing_map()` dict (twice) and runs isinstance checks against ABC classes (slow
# `__instancecheck__`): half of UpdateItem's time. Which processor handles a node depends only on the
# node's class (first isinstance match in map order) and the map is fixed per traverser instance, so
# decide once per (traverser, node class). Same walk, same order, same hooks as moto's.
def processor_for(traverser: Any, node_type: type) -> Callable | None:
    by_type = traverser.__dict__.setdefault("_processor_by_node_type", {})
    if node_type not in by_type:
        by_type[node_type] = next(
            (processor for class_key, processor in traverser._processing_map().items() if issubclass(node_type, class_key)),
            None,
        )
    return by_type[node_type]


def typed_traversal(original: Callable) -> Callable:
    def traverse_node_recursively(self, node, child_id=-1):
        if isinstance(node, Node):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = processor_for(self, type(node))
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    return traverse_node_recursively


PATCHES = (
    Patch(moto.backends, "list_of_moto_modules", "4f741a10b06500e840c3aaa1b4f02706e6f2bfbababc0e8a2a7b9c9d0e8957dc", cached_list_of_moto_modules),
    Patch(moto_utils, "camelcase_to_underscores", "084cdc5bab92db95a0ebd8d554c70b212a057d35825b08ca3b80b202d4965eb3", memoized),
    Patch(moto_utils, "method_names_from_class", "9dbac89d082b655fee902c450e69de9dbadf9699ad06411298494984b55138c3", memoized),
    Patch(boto_client, "boto_client_for", "1f44dc2ac8aa2179df62365a6e5ea377f1770ea828a0f107440a2554f1b4edb8", cached_boto_client_for),
    Patch(Queue, "messages", "03a531dbcbcf9aee2e61c7254c08946a499f5c57f2447a8f2e534aa85b067dea", indexed_messages),
    Patch(Queue, "approximate_number_of_messages", "d357a9506a56d2f8f9f364aa1e0a4739182106db6dbcede0e0699c00d1406eec", lambda original: indexed_count(original, lambda queue: len(VisibleMessages(queue)))),
    Patch(Queue, "approximate_number_of_messages_not_visible", "5dbecc4dda174358d2aefa96e4b769def47fd6bb2c315241c451e8518c3fabab", lambda original: indexed_count(original, lambda queue: hidden_counts(queue)[1])),
    Patch(Queue, "approximate_number_of_messages_delayed", "c3c1dadb0c42ed5f8f5e1fddc8384de67db2df9a4055504f10903bd0b55e8d2f", lambda original: indexed_count(original, lambda queue: hidden_counts(queue)[2])),
    Patch(Queue, "add_message", "f27c9231c1f2043382bc1435c4dfbab7b645389df642f050d9dda477f6535c35", indexed_add_message),
    Patch(Queue, "delete_message", "fa6fd5b9bd2cafb4aaacd79da7fc656e513e1513197c2939ff002f9ebfd4be46", indexed_delete_message),
    Patch(Message, "mark_received", "98e7ec115c7fcb9f34b06f42cb88a96ee9b595870bdad0105e25c4d8df462c97", indexed_mark_received),
    Patch(Message, "change_visibility", "fcde8986de1390dce4e6015305233a4545ff8193b2d98b7cf5ae544a9d543084", indexed_change_visibility),
    Patch(SQSBackend, "change_message_visibility", "f0e9df5f66627114c9249020675ff5accee62a9cab5e797442538c13ac593b99", indexed_change_message_visibility),
    Patch(SQSBackend, "purge_queue", "443ea1ae7b15230caa656fd9915e50d18868a7efc9d37c4da9a0e999c725766a", indexed_purge_queue),
    Patch(SQSBackend, "is_message_valid_based_on_retention_period", "cca23b94a5f3af9d9c5af1c09ee5e615017bdf6bd032301cb321c06c7e595d4b", direct_retention_check),
    Patch(ExecutionWorker, "_get_evaluation_entrypoint", "2b25949ae855da8035b347b28ac72f90d7d6542bf26ef7e1f03a50ce6a981fde", cached_entrypoint),
    # (e) extract_json builds a new jsonpath parser (a yacc table) for every path of every state of
    # every execution; parsed paths hold no data, so each distinct path is parsed once.
    Patch(json_path, "parse", "8e8fc5e91980418de2f2dda0105ef9082ea234aeb8625c1a96401aeb399e50b7", memoized),
    Patch(DynamoDBBackend, "transact_write_items", "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4", item_level_backup),
    Patch(UpdateExpressionParser, "make", "2c00ed96d6e191f243b449166e75bfb38f307b2e19405bc0981847061e0dbee3", memoized_update_expression_parse),
    Patch(Validator, "__init__", "9489b532dd0fb359e273711c1a67971f1b73af47ddbaa91868e9cc42a26ddbb3", validator_copying_from_pickle),
    Patch(DepthFirstTraverser, "traverse_node_recursively", "d7f01d9b45cf9f64ac84751ec4c8cab3114e7c179350eb1b81ffe5f0a114aa78", typed_traversal),
)
# What the fixes rely on without replacing it: the server calls `backends.list_of_moto_modules()`
# through the module; ReceiveMessage iterates `queue.messages`, moves
# messages to the DLQ with `queue._messages.remove` + `add_message`, and marks them received.
# (SendMessageBatch and ChangeMessageVisibilityBatch go through the patched single-message methods.)
RELIED_ON = (
    Fingerprint(DomainDispatcherApplication, "get_backend_for_host", "1f41972c1e4e660fbf4e4ddfeeed2fdff56dc105a8f8e1bf015640f710ef511a"),
    Fingerprint(SQSBackend, "receive_message", "065f3e5e7d2144089ce3b5d16d9306243ccd2f3ee11b44beb851292fadb7652f"),
    Fingerprint(SQSBackend, "send_message_batch", "0707ad219481c867546327a5e0f42421187e1706202c68f9d8e87be597d3417a"),
    Fingerprint(SQSBackend, "delete_message_batch", "53c0bc5d5f51468ad2e6311da0417ec613b5da28d33337c66a3f1f51d99147b2"),
    Fingerprint(json_path, "extract_json", "932245247973780c72287b75597e70031472f0cd764f35a199100d8a195987a4"),
    Fingerprint(SQSBackend, "change_message_visibility_batch", "6194b4570c67a1a0ca8c8b323ecdbf4bf851515379a5145c8396ada0d93da963"),
)


def apply_all() -> list[str]:
    """Apply every patch whose target still matches its fingerprint; return the labels applied."""
    applied_labels = []
    for patch in PATCHES:
        if patch.current_sha256() != patch.source_sha256:
            log.warning("moto changed %s since this fix was written: left unpatched", patch.label)
            continue
        patch.apply()
        applied_labels.append(patch.label)
    return applied_labels


def undo_all() -> None:
    for patch in reversed(PATCHES):
        patch.undo()


@contextlib.contextmanager
def applied() -> Iterator[list[str]]:
    try:
        yield apply_all()
    finally:
        undo_all()
