"""What a fan-out queue message says, and reading the order object it points at.

The queues get raw S3 event notifications (raw SNS delivery):
    {"Records": [{"eventName": "ObjectCreated:Put", "eventTime": "...",
                  "s3": {"bucket": {"name": "..."}, "object": {"key": "orders/ab/<orderId>.json"}}}]}
The first message on a new notification path is an S3 test event ({"Event": "s3:TestEvent", ...}).
Anything else is garbage: it cannot be acted on, so it is left for the DLQ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from blackfriday.errors import error_code
from blackfriday.order_rows import parse_timestamp

S3_TEST_EVENT = "s3:TestEvent"
# Orders are a few hundred bytes; anything far larger is not an order and must not be read into memory.
MAX_ORDER_BYTES = 200 * 1024  # also keeps the execution input under Step Functions' 256 KiB


class MessageKind(Enum):
    ORDER_EVENTS = "order_events"
    TEST_EVENT = "test_event"
    GARBAGE = "garbage"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    event_time: datetime | None  # when S3 accepted the upload: the start of the order's latency


@dataclass(frozen=True)
class ParsedMessage:
    kind: MessageKind
    objects: tuple[ObjectRef, ...] = ()
    problem: str = ""  # why a GARBAGE message cannot be acted on


class UnreadableOrder(Exception):
    """The object exists (or existed) but is not an order: retrying cannot help, so it belongs in the DLQ."""


def _garbage(problem: str) -> ParsedMessage:
    return ParsedMessage(MessageKind.GARBAGE, problem=problem)


def parse_event_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def parse_message(body: str) -> ParsedMessage:
    """Classify a queue message body; never raises."""
    try:
        document = json.loads(body)
    except (TypeError, ValueError):
        return _garbage("message body is not JSON")
    if not isinstance(document, dict):
        return _garbage("message body is not a JSON object")
    if document.get("Event") == S3_TEST_EVENT:
        return ParsedMessage(MessageKind.TEST_EVENT)
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        return _garbage("message is not an S3 event (no Records)")
    objects = []
    for record in records:
        try:
            event_name = record["eventName"]
            bucket = record["s3"]["bucket"]["name"]
            key = record["s3"]["object"]["key"]
        except (KeyError, TypeError):
            return _garbage("S3 event record lacks eventName, s3.bucket.name or s3.object.key")
        if not (isinstance(event_name, str) and event_name.startswith("ObjectCreated")):
            return _garbage(f"S3 event {event_name!r} is not an ObjectCreated event")
        if not (isinstance(bucket, str) and isinstance(key, str) and bucket and key):
            return _garbage("S3 event record has an empty bucket or key")
        # S3 URL-encodes keys in events (a space arrives as '+').
        objects.append(ObjectRef(bucket, unquote_plus(key), parse_event_time(record.get("eventTime"))))
    return ParsedMessage(MessageKind.ORDER_EVENTS, tuple(objects))


def read_order(s3, ref: ObjectRef) -> dict:
    """The order object as a dict; UnreadableOrder when it is not one. Other AWS errors propagate (transient)."""
    try:
        response = s3.get_object(Bucket=ref.bucket, Key=ref.key)
    except ClientError as error:
        if error_code(error) in ("NoSuchKey", "404"):
            raise UnreadableOrder(f"s3://{ref.bucket}/{ref.key} no longer exists") from None
        raise
    with response["Body"] as body:
        if response.get("ContentLength", 0) > MAX_ORDER_BYTES:
            raise UnreadableOrder(f"s3://{ref.bucket}/{ref.key} is {response['ContentLength']} bytes, too large for an order")
        raw = body.read()
    try:
        order = json.loads(raw)
    except ValueError:
        raise UnreadableOrder(f"s3://{ref.bucket}/{ref.key} is not JSON") from None
    if not isinstance(order, dict):
        raise UnreadableOrder(f"s3://{ref.bucket}/{ref.key} is not a JSON object")
    order_id = order.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise UnreadableOrder(f"s3://{ref.bucket}/{ref.key} has no orderId")
    return order
