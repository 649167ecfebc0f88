"""Step Functions executions really run on the emulator: Task, Choice, Retry, Catch, Fail against real Lambdas."""

from __future__ import annotations

import json
import threading

import pytest

pytestmark = pytest.mark.emulator

CHECK_HANDLER = """
    def handler(event, context):
        return {"route": event["route"]}
"""

RESERVE_HANDLER = """
    class TransientError(Exception):
        pass

    class OutOfStock(Exception):
        pass

    class Boom(Exception):
        pass

    def handler(event, context):
        if event["sku"] == "flaky" and event["attempt"] == 0:
            raise TransientError("gateway timed out")
        if event["sku"] == "sold-out":
            raise OutOfStock("no stock left for sold-out")
        if event["sku"] == "boom":
            raise Boom("unexpected")
        return event
"""

ASSUME_STATES = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def definition(check_arn: str, reserve_arn: str) -> dict:
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": check_arn, "Payload.$": "$"},
                "ResultSelector": {"route.$": "$.Payload.route"},
                "ResultPath": "$.check",
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.check.route", "StringEquals": "reserve", "Next": "Reserve"}],
                "Default": "Skipped",
            },
            "Skipped": {"Type": "Succeed"},
            "Reserve": {
                "Type": "Task",
                "Resource": reserve_arn,
                "Parameters": {"sku.$": "$.sku", "attempt.$": "$$.State.RetryCount", "execution.$": "$$.Execution.Name"},
                "Retry": [
                    {
                        "ErrorEquals": ["TransientError"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 1.5,
                        "MaxDelaySeconds": 2,
                        "JitterStrategy": "FULL",
                    }
                ],
                "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "OrderFailed"}],
                "ResultPath": "$.reservation",
                "End": True,
            },
            "OrderFailed": {"Type": "Fail", "Error": "OrderFailed", "Cause": "out of stock"},
        },
    }


@pytest.fixture
def state_machine(functions, emulator_gateway) -> str:
    lambda_client = functions.lambda_client
    check_arn = lambda_client.get_function(FunctionName=functions.deploy("check", CHECK_HANDLER))["Configuration"]["FunctionArn"]
    reserve_arn = lambda_client.get_function(FunctionName=functions.deploy("reserve", RESERVE_HANDLER))["Configuration"]["FunctionArn"]
    prefix = emulator_gateway.target.prefix
    role_arn = emulator_gateway.client("iam").create_role(RoleName=f"{prefix}-states", AssumeRolePolicyDocument=ASSUME_STATES)["Role"][
        "Arn"
    ]
    return emulator_gateway.client("stepfunctions").create_state_machine(
        name=f"{prefix}-orders", definition=json.dumps(definition(check_arn, reserve_arn)), roleArn=role_arn
    )["stateMachineArn"]


def run_executions(sfn, state_machine_arn: str, inputs: dict[str, dict]) -> dict[str, dict]:
    """Start every execution at once, then wait (bounded) for each to leave RUNNING; name -> description."""
    execution_arns = {
        name: sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(document))["executionArn"]
        for name, document in inputs.items()
    }
    results = {}
    for name, arn in execution_arns.items():
        for _ in range(400):
            description = sfn.describe_execution(executionArn=arn)
            if description["status"] != "RUNNING":
                break
            threading.Event().wait(0.05)
        results[name] = description
    return results


def history(sfn, execution_arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def lambda_failures(events: list[dict]) -> list[str]:
    return [event["lambdaFunctionFailedEventDetails"]["error"] for event in events if event["type"] == "LambdaFunctionFailed"]


def test_task_choice_retry_catch_and_fail_paths_really_execute(state_machine, emulator_gateway):
    # GIVEN a state machine: Task (lambda:invoke) -> Choice -> Task (Lambda ARN) with Retry on
    # TransientError and Catch on OutOfStock -> Fail
    sfn = emulator_gateway.client("stepfunctions")
    # WHEN four orders take its four paths
    results = run_executions(
        sfn,
        state_machine,
        {
            "skipped": {"route": "skip"},
            "retried": {"route": "reserve", "sku": "flaky"},
            "caught": {"route": "reserve", "sku": "sold-out"},
            "uncaught": {"route": "reserve", "sku": "boom"},
        },
    )
    # THEN the Choice default ends the first without reserving
    assert results["skipped"]["status"] == "SUCCEEDED"
    assert json.loads(results["skipped"]["output"]) == {"route": "skip", "check": {"route": "skip"}}
    assert lambda_failures(history(sfn, results["skipped"]["executionArn"])) == []
    # AND the TransientError is retried once and the retry succeeds, seeing RetryCount 1 and the execution name
    assert results["retried"]["status"] == "SUCCEEDED"
    assert json.loads(results["retried"]["output"])["reservation"] == {"sku": "flaky", "attempt": 1, "execution": "retried"}
    assert lambda_failures(history(sfn, results["retried"]["executionArn"])) == ["TransientError"]
    # AND OutOfStock is caught (no retry) and ends in the Fail state
    assert (results["caught"]["status"], results["caught"]["error"], results["caught"]["cause"]) == (
        "FAILED",
        "OrderFailed",
        "out of stock",
    )
    assert lambda_failures(history(sfn, results["caught"]["executionArn"])) == ["OutOfStock"]
    # AND an error neither retried nor caught fails the execution with its own name
    assert (results["uncaught"]["status"], results["uncaught"]["error"]) == ("FAILED", "Boom")
    assert lambda_failures(history(sfn, results["uncaught"]["executionArn"])) == ["Boom"]


def test_sns_publish_and_dynamodb_update_item_integrations_run(emulator_gateway):
    # GIVEN a table, a topic with a queue subscribed, and a state machine using both service integrations
    prefix = emulator_gateway.target.prefix
    dynamodb, sns, sqs = (emulator_gateway.client(service) for service in ("dynamodb", "sns", "sqs"))
    table = f"{prefix}-Orders"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic_arn = sns.create_topic(Name=f"{prefix}-events")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{prefix}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    steps = {
        "StartAt": "MarkCompleted",
        "States": {
            "MarkCompleted": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": table,
                    "Key": {"orderId": {"S.$": "$.orderId"}},
                    "UpdateExpression": "SET #s = :status",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":status": {"S": "COMPLETED"}},
                },
                "ResultPath": None,
                "Next": "Announce",
            },
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic_arn, "Message.$": "$.orderId"},
                "End": True,
            },
        },
    }
    sfn = emulator_gateway.client("stepfunctions")
    state_machine_arn = sfn.create_state_machine(
        name=f"{prefix}-integrations", definition=json.dumps(steps), roleArn=f"arn:aws:iam::123456789012:role/{prefix}-states"
    )["stateMachineArn"]
    # WHEN an execution runs
    result = run_executions(sfn, state_machine_arn, {"order-7": {"orderId": "order-7"}})["order-7"]
    # THEN the item was updated and the message published
    assert result["status"] == "SUCCEEDED"
    assert dynamodb.get_item(TableName=table, Key={"orderId": {"S": "order-7"}})["Item"] == {
        "orderId": {"S": "order-7"},
        "status": {"S": "COMPLETED"},
    }
    assert [message["Body"] for message in sqs.receive_message(QueueUrl=queue_url)["Messages"]] == ["order-7"]
