import json
from datetime import datetime, timezone

import pytest

from blackfriday.consumer.messages import MAX_ORDER_BYTES, MessageKind, ObjectRef, UnreadableOrder, parse_message, read_order
from blackfriday.domain import order_key
from tests.consumer.consumer_helpers import s3_event


def test_an_s3_event_names_the_object_with_its_key_decoded_and_its_upload_time():
    # GIVEN an ObjectCreated event whose key S3 URL-encoded (a space arrives as '+')
    body = s3_event("orders-bucket", "orders/ab/order+one%3A1.json", "2026-11-27T00:00:01.250Z")

    # WHEN it is parsed
    parsed = parse_message(body)

    # THEN it is one order event pointing at the decoded key, stamped with the event time
    assert parsed.kind is MessageKind.ORDER_EVENTS
    assert parsed.objects == (
        ObjectRef("orders-bucket", "orders/ab/order one:1.json", datetime(2026, 11, 27, 0, 0, 1, 250000, tzinfo=timezone.utc)),
    )


def test_the_s3_test_event_is_recognised():
    # GIVEN the message S3 sends when a notification path is first configured
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-27T00:00:00Z", "Bucket": "b"})

    # WHEN / THEN it is a test event, with nothing to act on
    assert parse_message(body).kind is MessageKind.TEST_EVENT
    assert parse_message(body).objects == ()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json at all", "message body is not JSON"),
        ("[1, 2]", "message body is not a JSON object"),
        ('{"hello": "world"}', "message is not an S3 event (no Records)"),
        ('{"Records": []}', "message is not an S3 event (no Records)"),
        (
            '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {}}}]}',
            "S3 event record lacks eventName, s3.bucket.name or s3.object.key",
        ),
        ('{"Records": ["x"]}', "S3 event record lacks eventName, s3.bucket.name or s3.object.key"),
        (
            '{"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}',
            "S3 event 'ObjectRemoved:Delete' is not an ObjectCreated event",
        ),
        (
            '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": ""}, "object": {"key": "k"}}}]}',
            "S3 event record has an empty bucket or key",
        ),
    ],
)
def test_garbage_is_classified_with_the_reason_and_never_raises(body, problem):
    # WHEN a body that is no S3 event is parsed
    parsed = parse_message(body)

    # THEN it is garbage, and says why
    assert parsed.kind is MessageKind.GARBAGE
    assert parsed.problem == problem


def test_an_unparseable_event_time_leaves_the_latency_start_unknown():
    parsed = parse_message(s3_event("b", "orders/k.json", "yesterday"))
    assert parsed.objects[0].event_time is None


def test_read_order_returns_the_order_object(mock_stack, orders):
    # GIVEN an uploaded order
    mock_stack.upload(orders[0])
    ref = ObjectRef(mock_stack.info.bucket, order_key(orders[0]["orderId"]), None)

    # WHEN it is read / THEN it is the same order
    assert read_order(mock_stack.s3, ref) == orders[0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<<truncated upload>> {\x00not json", "is not JSON"),
        (b"[1, 2, 3]", "is not a JSON object"),
        (b'{"items": []}', "has no orderId"),
        (b'{"orderId": ""}', "has no orderId"),
        (b'{"orderId": 42}', "has no orderId"),
        (b'{"orderId": "' + b"x" * MAX_ORDER_BYTES + b'"}', f"is {MAX_ORDER_BYTES + 15} bytes, too large for an order"),
    ],
)
def test_an_object_that_is_not_an_order_is_unreadable(mock_stack, body, reason):
    # GIVEN an object under orders/ that cannot be read as an order
    key = "orders/zz/broken.json"
    mock_stack.upload(body, key=key)

    # WHEN it is read / THEN UnreadableOrder names the object and the reason
    with pytest.raises(UnreadableOrder) as raised:
        read_order(mock_stack.s3, ObjectRef(mock_stack.info.bucket, key, None))
    assert str(raised.value) == f"s3://{mock_stack.info.bucket}/{key} {reason}"


def test_an_object_deleted_since_its_event_is_unreadable(mock_stack):
    with pytest.raises(UnreadableOrder) as raised:
        read_order(mock_stack.s3, ObjectRef(mock_stack.info.bucket, "orders/zz/gone.json", None))
    assert str(raised.value) == f"s3://{mock_stack.info.bucket}/orders/zz/gone.json no longer exists"
