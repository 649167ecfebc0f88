"""EventBridge rules with a Lambda target invoke the function (real emulator), from PutEvents and from Step Functions."""

from __future__ import annotations

import json

import pytest

from tests.emulator.test_fixes_stepfunctions import create_state_machine, finished, receive, status_change_rule

pytestmark = pytest.mark.emulator

# Forwards the event it gets to a queue, so the test can see what the function received.
FORWARDER = """
    import json
    import os

    import boto3

    def handler(event, context):
        boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
        return "forwarded"
"""


@pytest.fixture
def forwarder(functions, emulator_gateway) -> tuple[str, str]:
    """(function ARN, URL of the queue it forwards every event to)."""
    queue_url = emulator_gateway.client("sqs").create_queue(QueueName=f"{emulator_gateway.target.prefix}-forwarded")["QueueUrl"]
    name = functions.deploy("forwarder", FORWARDER, environment={"QUEUE_URL": queue_url})
    return functions.lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"], queue_url


def test_put_events_invokes_a_lambda_target(emulator_gateway, forwarder):
    # GIVEN a rule on a custom source whose target is a function
    function_arn, queue_url = forwarder
    events = emulator_gateway.client("events")
    rule = f"{emulator_gateway.target.prefix}-orders"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [f"{emulator_gateway.target.prefix}.orders"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "forwarder", "Arn": function_arn}])
    # WHEN an event matching it is put
    answer = events.put_events(
        Entries=[{"Source": f"{emulator_gateway.target.prefix}.orders", "DetailType": "Order Paid", "Detail": '{"orderId": "o-1"}'}]
    )
    # THEN PutEvents succeeds and the function receives the event
    assert answer["FailedEntryCount"] == 0
    [received] = receive(emulator_gateway.client("sqs"), queue_url, 1)
    assert (received["detail-type"], received["detail"], received["id"]) == (
        "Order Paid",
        {"orderId": "o-1"},
        answer["Entries"][0]["EventId"],
    )


def test_a_succeeded_execution_reaches_a_lambda_target(emulator_gateway, forwarder):
    # GIVEN a rule on one state machine's status changes whose target is a function (a success handler)
    function_arn, queue_url = forwarder
    sfn = emulator_gateway.client("stepfunctions")
    arn = create_state_machine(emulator_gateway, "orders", {"Done": {"Type": "Pass", "End": True}}, "Done")
    status_change_rule(emulator_gateway, arn, function_arn)
    # WHEN an execution succeeds
    execution = finished(sfn, sfn.start_execution(stateMachineArn=arn, name="o-2", input='{"orderId":"o-2"}')["executionArn"])
    # THEN the function gets its RUNNING and SUCCEEDED events
    received = receive(emulator_gateway.client("sqs"), queue_url, 2)
    assert sorted((event["detail"]["status"], event["detail"]["executionArn"]) for event in received) == [
        ("RUNNING", execution["executionArn"]),
        ("SUCCEEDED", execution["executionArn"]),
    ]
    assert json.loads(next(event for event in received if event["detail"]["status"] == "SUCCEEDED")["detail"]["output"]) == {
        "orderId": "o-2"
    }
