"""The deployed policies are exactly as narrow as the design says (moto.mock_aws)."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from blackfriday.names import StackNames
from blackfriday.stack_declaration import STACK
from blackfriday.target import AWS, Target
from tests.resources.helpers import ACCOUNT, PREFIX, REGION, FixtureSources, fake_aws_environment


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """One stack for the whole module: these tests only read it."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        fake_aws_environment(monkeypatch)
        gateway = AwsGateway(Target(AWS, REGION, PREFIX, None))
        deploy(gateway, StackNames(PREFIX, ACCOUNT, REGION), FixtureSources(tmp_path_factory.mktemp("sources")).sources)
        yield gateway


def test_only_the_orders_bucket_of_this_account_may_publish_new_orders(deployed, names):
    # GIVEN a deployed stack WHEN the NewOrderEvents topic policy is read
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-NewOrderEvents"
    policy = json.loads(deployed.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])

    # THEN its one statement lets S3 publish only for this bucket and this account
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheOrdersBucketPublishes",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::bftest-orders-{ACCOUNT}-us-east-1"},
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                },
            }
        ],
    }


@pytest.mark.parametrize("queue", ["ShippingQueue", "AnalyticsQueue"])
def test_fan_out_queues_admit_only_the_new_orders_topic(deployed, queue):
    # GIVEN a deployed stack WHEN a fan-out queue's attributes are read
    sqs = deployed.client("sqs")
    url = sqs.get_queue_url(QueueName=f"bftest-{queue}")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    # THEN only SNS sending on behalf of NewOrderEvents may send, and the redrive, timeout and SSE are set
    assert json.loads(attributes["Policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyOurTopicsSend",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-{queue}",
                "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-NewOrderEvents"}},
            }
        ],
    }
    dlq = queue.replace("Queue", "DLQ")
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-{dlq}",
        "maxReceiveCount": 3,
    }
    assert (attributes["VisibilityTimeout"], attributes["SqsManagedSseEnabled"]) == ("60", "true")


def test_fan_out_subscriptions_deliver_raw(deployed):
    # GIVEN a deployed stack WHEN the NewOrderEvents subscriptions are read
    sns = deployed.client("sns")
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-NewOrderEvents"
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]

    # THEN exactly the two fan-out queues are subscribed, both with raw delivery
    assert sorted(item["Endpoint"] for item in subscriptions) == [
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-AnalyticsQueue",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-ShippingQueue",
    ]
    for item in subscriptions:
        assert sns.get_subscription_attributes(SubscriptionArn=item["SubscriptionArn"])["Attributes"]["RawMessageDelivery"] == "true"


def test_bucket_is_encrypted_private_tls_only_and_notifies_only_new_orders(deployed, names):
    # GIVEN a deployed stack WHEN the bucket's settings are read
    s3 = deployed.client("s3")
    bucket = names.bucket

    # THEN SSE-S3, every public access blocked, one TLS-only deny, and one notification for orders/*.json
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules] == ["AES256"]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [(item["TopicArn"], item["Events"], item["Filter"]["Key"]["FilterRules"]) for item in notifications["TopicConfigurations"]] == [
        (
            f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-NewOrderEvents",
            ["s3:ObjectCreated:*"],
            [{"Name": "prefix", "Value": "orders/"}, {"Name": "suffix", "Value": ".json"}],
        )
    ]
    assert "QueueConfigurations" not in notifications and "LambdaFunctionConfigurations" not in notifications


@pytest.mark.parametrize("spec", (*FUNCTION_SPECS, ORDERS_API_FUNCTION), ids=lambda spec: spec.short_name)
def test_each_function_role_names_only_its_own_resources(deployed, names, spec):
    # GIVEN a deployed stack WHEN a function's role is read
    iam = deployed.client("iam")
    role_name = STACK[f"role:{spec.short_name}"].name(names)
    role = iam.get_role(RoleName=role_name)["Role"]
    policy = iam.get_role_policy(RoleName=role_name, PolicyName="least-privilege")["PolicyDocument"]

    # THEN only Lambda acting for this account may assume it, it has no other policy, and each statement is one of its grants
    # or its own log group
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["least-privilege"]
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    expected = [(sorted(grant.actions), STACK.grant_arn(grant, names)) for grant in spec.grants]
    log_group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{names.function(spec.short_name)}:*"
    expected.append((["logs:CreateLogStream", "logs:PutLogEvents"], log_group))
    assert [(statement["Action"], statement["Resource"]) for statement in policy["Statement"]] == expected
    assert {statement["Effect"] for statement in policy["Statement"]} == {"Allow"}
    # no wildcard but where IAM cannot scope the action at all (SendTask* with a service integration's task token)
    unscoped = [sorted(grant.actions) for grant in spec.grants if grant.unscoped]
    wildcards = [statement for statement in policy["Statement"] if "*" in statement["Resource"].replace(":*", "").replace("/*", "")]
    assert [(statement["Action"], statement["Resource"]) for statement in wildcards] == [(actions, "*") for actions in unscoped]


def test_the_order_api_may_touch_only_what_its_routes_read_and_write(deployed, names):
    # GIVEN a deployed stack WHEN the order API's role is read
    role = STACK["role:orders_api"].name(names)
    policy = deployed.client("iam").get_role_policy(RoleName=role, PolicyName="least-privilege")["PolicyDocument"]

    # THEN it may write orders (and read them back for a replayed key), read receipts, list the bucket (a 404 for a missing
    # key), scan stock, read order records and executions, list and claim approvals: of this stack only; and answer task
    # tokens, which IAM cannot scope to a resource
    assert [(statement["Action"], statement["Resource"]) for statement in policy["Statement"]] == [
        (["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{names.bucket}/orders/*"),
        (["s3:GetObject"], f"arn:aws:s3:::{names.bucket}/receipts/*"),
        (["s3:ListBucket"], f"arn:aws:s3:::{names.bucket}"),
        (["dynamodb:Scan"], f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/bftest-Inventory"),
        (["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem"], f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/bftest-Orders"),
        (
            ["states:DescribeExecution", "states:GetExecutionHistory"],
            f"arn:aws:states:us-east-1:{ACCOUNT}:execution:bftest-OrderProcessingWorkflow:*",
        ),
        (["states:SendTaskFailure", "states:SendTaskSuccess"], "*"),
        (["logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/bftest-orders-api:*"),
    ]


def test_send_notification_may_publish_only_to_order_events(deployed, names):
    # GIVEN a deployed stack WHEN the send_notification role is read
    policy = deployed.client("iam").get_role_policy(RoleName=STACK["role:send_notification"].name(names), PolicyName="least-privilege")

    # THEN its grants are exactly Publish on OrderEvents and its own log group
    assert [(statement["Action"], statement["Resource"]) for statement in policy["PolicyDocument"]["Statement"]] == [
        (["sns:Publish"], f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-OrderEvents"),
        (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/bftest-send-notification:*",
        ),
    ]


def test_workflow_role_invokes_exactly_the_functions_and_publishes_where_the_asl_does(deployed, names):
    # GIVEN a deployed stack (the fixture ASL chains the seven functions, then publishes to OrderEvents)
    iam = deployed.client("iam")

    # WHEN the state machine's role is read
    role = iam.get_role(RoleName=STACK["role:workflow"].name(names))["Role"]
    policy = iam.get_role_policy(RoleName=STACK["role:workflow"].name(names), PolicyName="least-privilege")["PolicyDocument"]

    # THEN only Step Functions running this state machine of this account may assume it, and it may do exactly what the ASL uses
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:bftest-OrderProcessingWorkflow"},
                },
            }
        ],
    }
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowLambdaInvokeFunction",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": sorted(
                    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{names.function(spec.short_name)}" for spec in FUNCTION_SPECS
                ),
            },
            {
                "Sid": "AllowSnsPublish",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": [f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-OrderEvents"],
            },
        ],
    }
