"""Fixtures of the consumer's unit tests: the few resources a pool touches, under moto.mock_aws.

`mock_stack` builds the two fan-out queues with their DLQs (maxReceiveCount 3), the orders bucket,
the analytics table (pk S + sk S), and
describes them as the StackInfo that the consumer gets from deployment.stack.describe_stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest

from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import QueueInfo, StackInfo
from blackfriday.domain import OrderGenerator, order_key
from blackfriday.names import StackNames
from blackfriday.stack_declaration import STACK
from blackfriday.target import AWS, Target
from tests.consumer.consumer_helpers import s3_event

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
PREFIX = "bfconsumer"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
PASS_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


@dataclass
class MockStack:
    gateway: AwsGateway
    names: StackNames
    info: StackInfo

    @property
    def sqs(self):
        return self.gateway.client("sqs")

    @property
    def s3(self):
        return self.gateway.client("s3")

    def upload(self, order: dict | bytes, key: str | None = None) -> str:
        """Put an order (or raw bytes) under orders/ and return the S3 event message body that points at it."""
        body = order if isinstance(order, bytes) else json.dumps(order).encode()
        key = key or order_key(order["orderId"])
        self.s3.put_object(Bucket=self.info.bucket, Key=key, Body=body)
        return s3_event(self.info.bucket, key)

    def send(self, queue: str, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.info.queues[queue].url, MessageBody=body)

    def depth(self, url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def build_queue(sqs, names: StackNames, queue_name: str, dlq_name: str) -> QueueInfo:
    dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    redrive = json.dumps({"deadLetterTargetArn": names.queue_arn(dlq_name), "maxReceiveCount": 3})
    url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "60", "RedrivePolicy": redrive})["QueueUrl"]
    return QueueInfo(url, names.queue_arn(queue_name), dlq_url, names.queue_arn(dlq_name))


@pytest.fixture
def mock_stack(monkeypatch) -> MockStack:
    from moto import mock_aws

    for variable in [name for name in os.environ if name.startswith(("AWS_", "BF_"))]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        gateway = AwsGateway(Target(AWS, REGION, PREFIX, None))
        names = StackNames(PREFIX, ACCOUNT, REGION)
        sqs = gateway.client("sqs")
        gateway.client("s3").create_bucket(Bucket=names.bucket)
        gateway.client("dynamodb").create_table(
            TableName=STACK["table:analytics"].name(names),
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        gateway.client("dynamodb").create_table(  # the analytics report reads its sales from the COMPLETED orders
            TableName=STACK["table:orders"].name(names),
            KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        info = StackInfo(
            bucket=names.bucket,
            topics={},
            queues={
                "shipping": build_queue(sqs, names, names.shipping_queue, STACK["queue:shipping_dlq"].name(names)),
                "analytics": build_queue(sqs, names, STACK["queue:analytics"].name(names), STACK["queue:analytics_dlq"].name(names)),
            },
            notifications=QueueInfo("", ""),
            tables={table: STACK[f"table:{table}"].name(names) for table in ("inventory", "orders", "analytics")},
            functions={},
            state_machine_arn=names.state_machine_arn,  # created by the `state_machine` fixture when needed
            api_url="",  # the consumer never calls the order API
        )
        yield MockStack(gateway, names, info)


@pytest.fixture
def state_machine(mock_stack) -> str:
    """The stack's state machine, as moto models it without its interpreter: executions stay RUNNING."""
    iam = mock_stack.gateway.client("iam")
    role_arn = iam.create_role(RoleName=STACK["role:workflow"].name(mock_stack.names), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    return mock_stack.gateway.client("stepfunctions").create_state_machine(
        name=mock_stack.names.state_machine, definition=PASS_DEFINITION, roleArn=role_arn
    )["stateMachineArn"]


@pytest.fixture
def orders() -> list[dict]:
    generator = OrderGenerator(seed=7)
    return [generator.order(index) for index in range(12)]
