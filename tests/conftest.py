"""Shared fixtures: one fresh local emulator per test session, and gateways onto it.

- `emulator_url`: a FRESH emulator subprocess (`python -m blackfriday.emulator serve`) on a free port,
  logging to a temporary file; healthy before the first test uses it, killed at the end of the session.
- `emulator_target`: a Target(kind=ENDPOINT) on that emulator, region us-east-1, a prefix unique to the test.
- `emulator_gateway`: an AwsGateway for `emulator_target`.
- `free_tcp_port`: a TCP port on 127.0.0.1 nothing listens on.
- `one_botocore_loader` (automatic): every botocore Session of the process shares one model loader.
- `mock_workflow_stack`: the workflow's tables, bucket and topics under moto.mock_aws (no emulator).
- `deployed_stack`: the whole stack (real lambdas/ and ASL) deployed once on that emulator: (gateway, names, info).
- `deploy_own_stack`: deploys another such stack under a fresh prefix (for tests that change stock or records).

Mark tests that use them with `@pytest.mark.emulator`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from typing import NamedTuple

import boto3
import botocore.loaders
import botocore.session
import pytest

from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import StackInfo, describe_stack
from blackfriday.emulator import lifecycle
from blackfriday.manifest import ApprovalSettings
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target, local_endpoint_url

EMULATOR_REGION = "us-east-1"


@pytest.fixture(scope="session", autouse=True)
def one_botocore_loader():
    """Every botocore Session of the test process reads the service models through one loader (which caches them).

    botocore caches the models (megabytes of JSON) per Session, and mock_aws starts a new default session for every
    test, as each AwsGateway has its own: parsing the same models again and again was a third of the mock_aws tests'
    time. The scripts make one gateway per run, so they have nothing to share.
    """
    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            botocore.session.Session,
            "_register_data_loader",
            lambda session: session._components.lazy_register_component("data_loader", lambda: loader),
        )
        yield


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    port = free_port()
    url = local_endpoint_url(port)
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    # The server's own environment must not point boto3 elsewhere or carry real credentials.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            lifecycle.serve_command(port),
            cwd=lifecycle.PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        lifecycle.wait_until_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()


@pytest.fixture
def emulator_target(emulator_url) -> Target:
    prefix = "t" + uuid.uuid4().hex[:12]  # unique per test, valid as an S3 bucket name part
    return Target(ENDPOINT, EMULATOR_REGION, prefix, emulator_url)


@pytest.fixture
def emulator_gateway(emulator_target) -> AwsGateway:
    return AwsGateway(emulator_target)


# --- The workflow's resources under moto.mock_aws (fulfillment functions and Lambda handlers) ---------------


class MockWorkflowStack:
    """Orders and Inventory tables (inventory seeded with the catalogue), the bucket, both topics, and a queue
    subscribed to both topics (envelope delivery, so message attributes can be checked)."""

    def __init__(self, names):
        from blackfriday.domain import CATALOGUE
        from blackfriday.stack_declaration import STACK, environment_values

        self.names = names
        self.environment = environment_values(names)
        self.orders_table, self.inventory_table = STACK["table:orders"].name(names), STACK["table:inventory"].name(names)
        self.bucket = names.bucket
        self.events_topic_arn = self.environment["ORDER_EVENTS_TOPIC_ARN"]
        self.errors_topic_arn = self.environment["ORDER_ERRORS_TOPIC_ARN"]
        self.dynamodb, self.s3 = boto3.client("dynamodb"), boto3.client("s3")
        self.sns, self.sqs = boto3.client("sns"), boto3.client("sqs")
        for table, key in ((self.orders_table, "orderId"), (self.inventory_table, "sku")):
            self.dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        for product in CATALOGUE:
            self.set_stock(product.sku, product.initial_stock)
        self.s3.create_bucket(Bucket=self.bucket)
        self.queue_url = self.sqs.create_queue(QueueName=STACK["queue:notifications"].name(names))["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for topic in (STACK["topic:order_events"].name(names), STACK["topic:order_errors"].name(names)):
            topic_arn = self.sns.create_topic(Name=topic)["TopicArn"]
            self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def set_stock(self, sku: str, stock: int) -> None:
        self.dynamodb.put_item(TableName=self.inventory_table, Item={"sku": {"S": sku}, "stock": {"N": str(stock)}})

    def stock(self, sku: str) -> int:
        return int(self.dynamodb.get_item(TableName=self.inventory_table, Key={"sku": {"S": sku}})["Item"]["stock"]["N"])

    def order_record(self, order_id: str) -> dict:
        return self.dynamodb.get_item(TableName=self.orders_table, Key={"orderId": {"S": order_id}}).get("Item", {})

    def notifications(self) -> list[dict]:
        """Every SNS envelope on the queue so far (drained): {"TopicArn", "Message", "MessageAttributes", ...}."""
        envelopes = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                envelopes.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return envelopes


@pytest.fixture
def mock_workflow_stack(monkeypatch) -> MockWorkflowStack:
    from moto import mock_aws

    from blackfriday.names import StackNames

    for variable in [name for name in os.environ if name.startswith(("AWS_", "BF_"))]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", EMULATOR_REGION)
    with mock_aws():
        yield MockWorkflowStack(StackNames("bftest", "123456789012", EMULATOR_REGION))


# --- The whole stack deployed once on the session's emulator (workflow and consumer tests) -------------------

DEPLOYED_STACK_PREFIX = "bfshared"


class DeployedStack(NamedTuple):
    gateway: AwsGateway
    names: StackNames
    info: StackInfo


def deploy_stack(emulator_url: str, prefix: str, approval: ApprovalSettings | None = None) -> DeployedStack:
    """setup_infra's deploy of the real lambdas/ and ASL under `prefix` (approval: its --approval-* options), its fan-out queues drained."""
    gateway = AwsGateway(Target(ENDPOINT, EMULATOR_REGION, prefix, emulator_url))
    names = StackNames(prefix, gateway.account_id, EMULATOR_REGION)
    deploy(gateway, names, approval=approval)
    info = describe_stack(gateway, names)
    for queue in info.queues.values():
        drain_queue(gateway.client("sqs"), queue.url)
    return DeployedStack(gateway, names, info)


@pytest.fixture(scope="session")
def deployed_stack(emulator_url) -> DeployedStack:
    """setup_infra's deploy of the real lambdas/ and ASL, once per session, prefix `bfshared`: (gateway, names, StackInfo).

    Its queues start empty (the s3:TestEvent sent when the bucket notification is set is drained).
    Shared by every test that asks for it: leave it as you found it (drain what you put in its queues),
    or deploy a stack of your own with `deploy_own_stack`.
    """
    return deploy_stack(emulator_url, DEPLOYED_STACK_PREFIX)


@pytest.fixture(scope="session")
def deploy_own_stack(emulator_url):
    """deploy_own_stack(approval=None) -> DeployedStack: the real stack under a fresh prefix, for tests that change its data."""
    return lambda approval=None: deploy_stack(emulator_url, "t" + uuid.uuid4().hex[:12], approval)


def drain_queue(sqs, queue_url: str) -> list[dict]:
    """Receive and delete every visible message; returns them."""
    drained = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(index), "ReceiptHandle": item["ReceiptHandle"]} for index, item in enumerate(messages)]
        )
        drained.extend(messages)
    return drained


def pytest_collection_modifyitems(items):
    """Emulator tests first: they are the long ones, and pytest-xdist hands out whole files in this order
    (with --no-loadscope-reorder), so the short files fill in at the end instead of one long file trailing alone."""
    items.sort(key=lambda item: item.get_closest_marker("emulator") is None)
