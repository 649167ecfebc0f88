"""S3 event notifications encode the object key as S3 does (real emulator), and the consumer reads it."""

from __future__ import annotations

import json

import pytest

from blackfriday.consumer.messages import parse_message
from tests.emulator.test_fixes_stepfunctions import receive

KEY = "orders/2026/11/27/o 1+gift=yes.json"


@pytest.mark.emulator
def test_an_event_notification_keeps_slashes_and_writes_spaces_as_plus(emulator_gateway):
    # GIVEN a bucket that notifies a queue of created objects
    s3, sqs = emulator_gateway.client("s3"), emulator_gateway.client("sqs")
    bucket = f"{emulator_gateway.target.prefix}-orders"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=f"{emulator_gateway.target.prefix}-created")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]}
    )
    # WHEN an object whose key has slashes, a space, a plus and an equals sign is put
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"{}")
    # THEN the event names it URL-encoded as S3 does: `/` kept, space as `+`, the rest escaped
    [event] = [body for body in receive(sqs, queue_url, 1) if "Records" in body]
    assert event["Records"][0]["s3"]["object"]["key"] == "orders/2026/11/27/o+1%2Bgift%3Dyes.json"
    # AND the consumer reads the object's own key back
    [ref] = parse_message(json.dumps(event)).objects
    assert (ref.bucket, ref.key) == (bucket, KEY)


def test_the_consumer_also_reads_keys_encoded_as_stock_moto_did():
    # GIVEN an event naming the key as moto 5.2.5 encoded it (`/` as %2F)
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": {"key": "orders%2F2026%2F11%2F27%2Fo+1%2Bgift%3Dyes.json"}},
    }
    # WHEN the consumer parses it
    [ref] = parse_message(json.dumps({"Records": [record]})).objects
    # THEN it reads the same key
    assert ref.key == KEY
