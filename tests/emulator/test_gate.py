"""The request gate: moto's backends see one request at a time, long polls and invocations do not block."""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from blackfriday.emulator.gate import is_lambda_invocation

pytestmark = pytest.mark.emulator


def test_the_patched_moto_wait_is_where_the_gate_expects_it():
    # GIVEN moto's SQS model: a long-polling receive waits through Queue.wait_for_messages on the
    # queue's condition, which add_message notifies; the gate releases its lock around that wait.
    from moto.sqs.models import Queue, SQSBackend

    assert "self._messages_lock.wait_for(" in inspect.getsource(Queue.wait_for_messages)
    assert "queue.wait_for_messages(" in inspect.getsource(SQSBackend.receive_message)
    assert "self._messages_lock.notify_all()" in inspect.getsource(Queue.add_message)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/2015-03-31/functions/bf-validate-order/invocations", True),
        ("/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations/", True),
        ("/2015-03-31/functions/bf-validate-order", False),
        ("/", False),
    ],
)
def test_only_lambda_invocations_bypass_the_lock(path, expected):
    assert is_lambda_invocation(path) is expected


def test_concurrent_conditional_transactions_never_oversell_and_never_fail_with_500(emulator_gateway):
    # GIVEN a doorbuster with stock 10, eight other SKUs with plenty, and 32 buyers placing 4 orders
    # each; every order takes the doorbuster and one other SKU in one transaction, all or nothing
    dynamodb = emulator_gateway.client("dynamodb")
    table = f"{emulator_gateway.target.prefix}-Inventory"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    others = [f"SKU-{index}" for index in range(8)]
    dynamodb.put_item(TableName=table, Item={"sku": {"S": "DOORBUSTER"}, "stock": {"N": "10"}})
    for sku in others:
        dynamodb.put_item(TableName=table, Item={"sku": {"S": sku}, "stock": {"N": "1000"}})
    barrier = threading.Barrier(32)

    def take_one(sku):
        return {
            "Update": {
                "TableName": table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "SET stock = stock - :one",
                "ConditionExpression": "stock >= :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }

    def buyer(number):
        barrier.wait()
        outcomes = []
        for order in range(4):
            try:
                dynamodb.transact_write_items(TransactItems=[take_one("DOORBUSTER"), take_one(others[(number + order) % 8])])
                outcomes.append("bought")
            except ClientError as error:
                outcomes.append(error.response["Error"]["Code"])
        return outcomes

    # WHEN they all buy at once
    with ThreadPoolExecutor(32) as pool:
        outcomes = [outcome for outcomes in pool.map(buyer, range(32)) for outcome in outcomes]
    # THEN exactly ten orders went through, every other one was cancelled by its condition (no 500s),
    # and the stock taken from the other SKUs is exactly what the ten orders took
    assert sorted(set(outcomes)) == ["TransactionCanceledException", "bought"]
    assert outcomes.count("bought") == 10
    stock = {item["sku"]["S"]: int(item["stock"]["N"]) for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}
    assert stock["DOORBUSTER"] == 0
    assert sum(1000 - stock[sku] for sku in others) == 10


def test_a_long_poll_lets_other_requests_through_and_receives_what_they_send(emulator_gateway):
    # GIVEN a consumer long-polling an empty queue for up to 10 seconds
    sqs = emulator_gateway.client("sqs")
    url = sqs.create_queue(QueueName=f"{emulator_gateway.target.prefix}-poll")["QueueUrl"]
    events = []
    received = {}

    def long_poll():
        received["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
        events.append("poll returned")

    poller = threading.Thread(target=long_poll)
    poller.start()
    # WHEN other requests run meanwhile, the last of them sending a message
    for _ in range(5):
        sqs.list_queues(QueueNamePrefix=emulator_gateway.target.prefix)
    events.append("other requests done")
    sqs.send_message(QueueUrl=url, MessageBody="doorbuster")
    poller.join(timeout=30)
    # THEN the other requests were not held behind the poll, and the poll got the message
    assert events == ["other requests done", "poll returned"]
    assert [message["Body"] for message in received["messages"]] == ["doorbuster"]
