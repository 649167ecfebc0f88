"""The stack's wiring on the real emulator (server mode, HTTP): fan-out, filters, redrive, live code, CLI idempotence."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
from click.testing import CliRunner

import setup_infra
import teardown
from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import describe_stack
from blackfriday.emulator import lifecycle
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target
from tests.conftest import drain_queue
from tests.resources.helpers import FixtureSources

pytestmark = pytest.mark.emulator
WIRED_PREFIX = "bfwired"


@pytest.fixture(scope="module")
def wired(emulator_url, tmp_path_factory):
    """One stack of fixture sources for this module, its queues drained."""
    sources = FixtureSources(tmp_path_factory.mktemp("wired"))
    gateway = AwsGateway(Target(ENDPOINT, "us-east-1", WIRED_PREFIX, emulator_url))
    names = StackNames(WIRED_PREFIX, gateway.account_id, "us-east-1")
    deploy(gateway, names, sources.sources)
    info = describe_stack(gateway, names)
    for queue in info.queues.values():
        drain_queue(gateway.client("sqs"), queue.url)
    return gateway, names, info, sources


def receive(sqs, queue_url: str, **options) -> list[dict]:
    return sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"], **options).get(
        "Messages", []
    )


def test_only_new_order_objects_reach_both_fan_out_queues_as_raw_s3_events(wired):
    gateway, names, info, _ = wired
    s3, sqs = gateway.client("s3"), gateway.client("sqs")

    # GIVEN a receipt, a report and a non-JSON file under orders/ written first (S3 notifies within PutObject)
    for key in ("receipts/o-1.json", "reports/summary.json", "orders/readme.txt"):
        s3.put_object(Bucket=names.bucket, Key=key, Body=b"{}")
    # WHEN an order is uploaded
    s3.put_object(Bucket=names.bucket, Key="orders/2026/11/27/o-1.json", Body=b'{"orderId": "o-1"}')

    # THEN each fan-out queue holds exactly one message: the raw S3 event (no SNS envelope) for the order
    for queue in info.queues.values():
        messages = drain_queue(sqs, queue.url)
        assert len(messages) == 1
        event = json.loads(messages[0]["Body"])
        assert "Type" not in event  # raw delivery
        assert [
            (record["eventSource"], record["eventName"].split(":")[0], record["s3"]["bucket"]["name"]) for record in event["Records"]
        ] == [("aws:s3", "ObjectCreated", names.bucket)]
        assert unquote_plus(event["Records"][0]["s3"]["object"]["key"]) == "orders/2026/11/27/o-1.json"


def test_a_message_received_three_times_is_in_the_dlq_on_the_next_receive(wired):
    gateway, names, info, _ = wired
    sqs = gateway.client("sqs")
    shipping = info.queues["shipping"]

    # GIVEN an order event in ShippingQueue (its copy in AnalyticsQueue is not part of this test)
    gateway.client("s3").put_object(Bucket=names.bucket, Key="orders/poison.json", Body=b"not json")
    drain_queue(sqs, info.queues["analytics"].url)

    # WHEN it is received three times without being deleted (visible again at once)
    receive_counts = []
    for _ in range(3):
        (message,) = receive(sqs, shipping.url, VisibilityTimeout=0)
        receive_counts.append(message["Attributes"]["ApproximateReceiveCount"])

    # THEN the next receive finds the queue empty and the message in ShippingDLQ
    assert receive_counts == ["1", "2", "3"]
    assert receive(sqs, shipping.url, VisibilityTimeout=0) == []
    dead = drain_queue(sqs, shipping.dlq_url)
    assert [item["MessageId"] for item in dead] == [message["MessageId"]]


def test_a_changed_lambda_source_is_live_after_setup(wired):
    gateway, names, _, sources = wired
    lambda_client = gateway.client("lambda")

    def invoke() -> dict:
        response = lambda_client.invoke(FunctionName=names.function("process_payment"), Payload=b'{"orderId": "o-1"}')
        return json.loads(response["Payload"].read())

    # GIVEN the deployed function answers with version 1 (its warm worker is running)
    assert invoke() == {"function": "process_payment", "version": 1, "skus": 20, "echo": {"orderId": "o-1"}}

    # WHEN its source changes and setup runs again
    sources.write_handler("process_payment", version=2)
    changes = deploy(gateway, names, sources.sources)

    # THEN setup reports it updated (and nothing else), and the next invocation runs the new code
    assert [(change.resource, change.action.value) for change in changes if change.action.value != "unchanged"] == [
        (f"lambda function {names.function('process_payment')}", "updated")
    ]
    assert invoke()["version"] == 2


def test_setup_again_on_the_shared_stack_reports_every_resource_unchanged(deployed_stack, emulator_url):
    # GIVEN the session's stack deployed from the real sources
    gateway, names, info = deployed_stack

    # WHEN setup_infra.py --json runs against it
    result = CliRunner().invoke(setup_infra.main, ["--endpoint-url", emulator_url, "--prefix", names.prefix, "--json"])

    # THEN it changes nothing, and describes the same stack
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {change["action"] for change in document["changes"]} == {"unchanged"}
    assert (document["target"], document["endpoint_url"], document["bucket"]) == ("endpoint", emulator_url, info.bucket)
    assert document["queues"]["shipping"] == {
        "url": info.queues["shipping"].url,
        "arn": info.queues["shipping"].arn,
        "dlq_url": info.queues["shipping"].dlq_url,
        "dlq_arn": info.queues["shipping"].dlq_arn,
    }


def test_local_target_starts_the_emulator_and_teardown_stops_it(monkeypatch, free_tcp_port):
    # GIVEN no emulator on the local port
    for variable in ("BF_TARGET", "AWS_ENDPOINT_URL", "BF_PREFIX"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BF_EMULATOR_PORT", str(free_tcp_port))
    url = f"http://127.0.0.1:{free_tcp_port}"
    try:
        # WHEN setup runs on --target local
        setup = CliRunner().invoke(setup_infra.main, ["--target", "local", "--json"])

        # THEN it started the emulator, said where, and deployed the stack there
        assert setup.exit_code == 0, setup.output
        assert f"Started the local emulator at {url} (pid " in setup.stderr
        document = json.loads(setup.stdout)
        assert document["endpoint_url"] == url
        # (a function that ran has written to its log group, which teardown must remove too)
        gateway = AwsGateway(Target(ENDPOINT, "us-east-1", "blackfriday", url))
        gateway.client("lambda").invoke(FunctionName=document["functions"]["validate_order"], Payload=b"{}")

        # WHEN teardown runs with --keep-emulator, then again without
        kept = CliRunner().invoke(teardown.main, ["--json", "--keep-emulator"])
        assert kept.exit_code == 0, kept.output
        assert lifecycle.status(free_tcp_port) is not None
        stopped = CliRunner().invoke(teardown.main, ["--json"])

        # THEN the first removed the whole stack and left the emulator running; the second found nothing and stopped it
        assert len(json.loads(kept.stdout)["deleted"]) == 65
        assert json.loads(kept.stdout)["remaining"] == []
        assert stopped.exit_code == 0 and json.loads(stopped.stdout) == {"deleted": [], "remaining": []}
        assert f"Stopped the local emulator at {url}." in stopped.stderr
        assert lifecycle.status(free_tcp_port) is None
    finally:
        lifecycle.stop(free_tcp_port)
