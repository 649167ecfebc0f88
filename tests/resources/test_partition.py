"""A stack in the China partition (cn-north-1): every ARN it writes or shows is an aws-cn ARN (moto.mock_aws)."""

from __future__ import annotations

import json

import pytest

from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import QueueInfo, StackInfo, describe_stack
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from blackfriday.names import StackNames
from blackfriday.resources.apigateway import find_rest_api_ids
from blackfriday.target import AWS, Target
from tests.resources.helpers import ACCOUNT, PREFIX, fixture_definition

REGION = "cn-north-1"
ARN = f"arn:aws-cn:{{service}}:{REGION}:{ACCOUNT}:"


def arn(service: str, resource: str) -> str:
    return ARN.format(service=service) + resource


@pytest.fixture
def china(mocked_aws, fixture_sources) -> tuple[AwsGateway, StackNames]:
    # The fixture ASL also publishes through a service integration, written in the partition's own terms.
    definition = fixture_definition()
    definition["States"]["Announce"]["Resource"] = "arn:${partition}:states:::sns:publish"
    fixture_sources.write_definition(definition)
    gateway, names = AwsGateway(Target(AWS, REGION, PREFIX, None)), StackNames(PREFIX, ACCOUNT, REGION)
    deploy(gateway, names, fixture_sources.sources)
    return gateway, names


def test_a_cn_north_1_stack_is_found_by_its_aws_cn_arns(china):
    # GIVEN a stack deployed in cn-north-1 WHEN it is described
    gateway, names = china
    queue_url = f"https://sqs.{REGION}.amazonaws.com.cn/{ACCOUNT}/bftest-"
    (api_id,) = find_rest_api_ids(gateway.client("apigateway"), "bftest-OrdersApi")

    # THEN every ARN is in the aws-cn partition
    assert describe_stack(gateway, names) == StackInfo(
        bucket=f"bftest-orders-{ACCOUNT}-{REGION}",
        topics={
            "new_orders": arn("sns", "bftest-NewOrderEvents"),
            "order_events": arn("sns", "bftest-OrderEvents"),
            "order_errors": arn("sns", "bftest-OrderErrors"),
            "approvals": arn("sns", "bftest-Approvals"),
            "critical_alerts": arn("sns", "bftest-CriticalAlerts"),
        },
        queues={
            "shipping": QueueInfo(
                queue_url + "ShippingQueue", arn("sqs", "bftest-ShippingQueue"), queue_url + "ShippingDLQ", arn("sqs", "bftest-ShippingDLQ")
            ),
            "analytics": QueueInfo(
                queue_url + "AnalyticsQueue",
                arn("sqs", "bftest-AnalyticsQueue"),
                queue_url + "AnalyticsDLQ",
                arn("sqs", "bftest-AnalyticsDLQ"),
            ),
        },
        notifications=QueueInfo(queue_url + "NotificationsQueue", arn("sqs", "bftest-NotificationsQueue")),
        tables={"inventory": "bftest-Inventory", "orders": "bftest-Orders", "analytics": "bftest-SkuDemand"},
        functions={
            spec.short_name: arn("lambda", f"function:{names.function(spec.short_name)}") for spec in (*FUNCTION_SPECS, ORDERS_API_FUNCTION)
        },
        state_machine_arn=arn("states", "stateMachine:bftest-OrderProcessingWorkflow"),
        # and the order API answers under the partition's own domain
        api_url=f"https://{api_id}.execute-api.{REGION}.amazonaws.com.cn/prod",
    )


def test_a_cn_north_1_stacks_policies_name_aws_cn_arns(china):
    # GIVEN a stack deployed in cn-north-1
    gateway, names = china
    iam = gateway.client("iam")

    # WHEN its roles and policies are read
    workflow_role = iam.get_role(RoleName="bftest-workflow-role")["Role"]
    workflow_policy = iam.get_role_policy(RoleName="bftest-workflow-role", PolicyName="least-privilege")["PolicyDocument"]
    notify_policy = iam.get_role_policy(RoleName="bftest-send-notification-role", PolicyName="least-privilege")["PolicyDocument"]
    bucket_policy = json.loads(gateway.client("s3").get_bucket_policy(Bucket=names.bucket)["Policy"])
    topic_policy = json.loads(
        gateway.client("sns").get_topic_attributes(TopicArn=arn("sns", "bftest-NewOrderEvents"))["Attributes"]["Policy"]
    )
    function = gateway.client("lambda").get_function(FunctionName="bftest-validate-order")["Configuration"]
    machine = gateway.client("stepfunctions").describe_state_machine(
        stateMachineArn=arn("states", "stateMachine:bftest-OrderProcessingWorkflow")
    )

    # THEN each ARN in them is exactly the aws-cn one
    assert workflow_role["Arn"] == f"arn:aws-cn:iam::{ACCOUNT}:role/bftest-workflow-role"
    assert workflow_role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": arn("states", "stateMachine:bftest-OrderProcessingWorkflow")},
    }
    assert [(statement["Action"], statement["Resource"]) for statement in workflow_policy["Statement"]] == [
        ("lambda:InvokeFunction", sorted(arn("lambda", f"function:{names.function(spec.short_name)}") for spec in FUNCTION_SPECS)),
        ("sns:Publish", [arn("sns", "bftest-OrderEvents")]),
    ]
    assert [statement["Resource"] for statement in notify_policy["Statement"]] == [
        arn("sns", "bftest-OrderEvents"),
        arn("logs", "log-group:/aws/lambda/bftest-send-notification:*"),
    ]
    assert bucket_policy["Statement"][0]["Resource"] == [f"arn:aws-cn:s3:::{names.bucket}", f"arn:aws-cn:s3:::{names.bucket}/*"]
    assert topic_policy["Statement"][0]["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws-cn:s3:::{names.bucket}"}
    assert function["Role"] == f"arn:aws-cn:iam::{ACCOUNT}:role/bftest-validate-order-role"
    assert json.loads(machine["definition"])["States"]["Announce"]["Resource"] == "arn:aws-cn:states:::sns:publish"
    assert machine["roleArn"] == f"arn:aws-cn:iam::{ACCOUNT}:role/bftest-workflow-role"


def test_a_cn_north_1_stacks_alarms_notify_its_aws_cn_topic(china):
    gateway, _ = china
    pages = gateway.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix="bftest-")
    actions = {action for page in pages for alarm in page["MetricAlarms"] for action in alarm["AlarmActions"] + alarm["OKActions"]}
    assert actions == {arn("sns", "bftest-CriticalAlerts")}
