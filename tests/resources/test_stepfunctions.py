"""Rendering the ASL file and deriving the workflow role from it (no AWS calls)."""

from __future__ import annotations

import json

import pytest

from blackfriday.errors import RunFailure
from blackfriday.resources.stepfunctions import render_definition, workflow_policy
from blackfriday.stack_declaration import STACK

ACCOUNT = "123456789012"


def write(tmp_path, definition) -> object:
    path = tmp_path / "workflow.asl.json"
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    return path


def values(names):
    return STACK.placeholder_values(names)


def task(resource: str, **parameters) -> dict:
    return {"StartAt": "Only", "States": {"Only": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}}}


def test_every_placeholder_is_filled_in(tmp_path, names):
    # GIVEN an ASL using each kind of placeholder
    template = {
        "Comment": "${bucket}",
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": "${function:validate_order}", "Next": "B"},
            "B": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {"TableName": "${table:inventory}"},
                "Next": "C",
            },
            "C": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "${topic:order_errors}"},
                "End": True,
            },
        },
    }

    # WHEN it is rendered
    rendered = json.loads(render_definition(write(tmp_path, template), values(names)))

    # THEN each placeholder became its stack's name or ARN
    assert rendered["Comment"] == f"bftest-orders-{ACCOUNT}-us-east-1"
    assert rendered["States"]["A"]["Resource"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:bftest-validate-order"
    assert rendered["States"]["B"]["Parameters"]["TableName"] == "bftest-Inventory"
    assert rendered["States"]["C"]["Parameters"]["TopicArn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-OrderErrors"


def test_unknown_placeholder_fails_loudly(tmp_path, names):
    # GIVEN an ASL naming a function that does not exist WHEN it is rendered THEN the run stops naming it
    path = write(tmp_path, task("${function:refund_order}"))
    with pytest.raises(RunFailure) as failure:
        render_definition(path, values(names))
    assert str(failure.value) == f"{path}: unknown placeholders ${{function:refund_order}}"


def test_malformed_placeholder_left_after_rendering_fails_loudly(tmp_path, names):
    # GIVEN an ASL with a placeholder our syntax does not know WHEN it is rendered THEN the leftover is named
    path = write(tmp_path, task("${Function:ValidateOrder}"))
    with pytest.raises(RunFailure) as failure:
        render_definition(path, values(names))
    assert str(failure.value) == f"{path}: placeholders left after rendering: ${{Function:ValidateOrder}}"


def test_invalid_json_fails_loudly(tmp_path, names):
    path = write(tmp_path, '{"StartAt": ')
    with pytest.raises(RunFailure) as failure:
        render_definition(path, values(names))
    assert str(failure.value).startswith(f"{path} is not valid JSON: ")


def test_policy_covers_lambda_invoke_integration_dynamodb_and_nested_states(names):
    # GIVEN a workflow with a lambda:invoke task by name, a DynamoDB task inside a Parallel branch, and one inside a Map
    definition = {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "bftest-validate-order", "Payload.$": "$"},
                "Next": "Fork",
            },
            "Fork": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Put",
                        "States": {
                            "Put": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::dynamodb:putItem",
                                "Parameters": {"TableName": "bftest-Orders"},
                                "End": True,
                            }
                        },
                    }
                ],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Get",
                    "States": {
                        "Get": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::dynamodb:getItem",
                            "Parameters": {"TableName": "bftest-Orders"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }

    # WHEN the role's policy is derived THEN it holds exactly those actions on those resources
    assert workflow_policy(names, json.dumps(definition))["Statement"] == [
        {
            "Sid": "AllowDynamodbGetItem",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/bftest-Orders"],
        },
        {
            "Sid": "AllowDynamodbPutItem",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/bftest-Orders"],
        },
        {
            "Sid": "AllowLambdaInvokeFunction",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:bftest-validate-order"],
        },
    ]


def test_a_resource_chosen_at_run_time_cannot_be_granted(names):
    # GIVEN a publish whose topic comes from the input WHEN the policy is derived THEN the run stops and says why
    definition = task("arn:aws:states:::sns:publish", **{"TopicArn.$": "$.topic"})
    with pytest.raises(RunFailure) as failure:
        workflow_policy(names, json.dumps(definition))
    assert str(failure.value) == "state Only: TopicArn must be a literal (no TopicArn.$) so the workflow role can name it"


def test_an_unknown_integration_is_not_granted_silently(names):
    definition = task("arn:aws:states:::aws-sdk:s3:deleteBucket", Bucket="x")
    with pytest.raises(RunFailure) as failure:
        workflow_policy(names, json.dumps(definition))
    assert str(failure.value) == (
        "state Only: no least-privilege rule for Resource arn:aws:states:::aws-sdk:s3:deleteBucket; "
        "teach blackfriday/resources/stepfunctions.py which action and resource it needs"
    )
