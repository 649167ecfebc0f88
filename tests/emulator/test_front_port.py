"""The front port answers every service the pipeline uses, for a client that knows nothing of the processes."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from blackfriday.clients import AwsGateway, service_endpoints
from tests.emulator.conftest import ASSUME_ROLE, zipped

pytestmark = pytest.mark.emulator

HANDLER = """
def handler(event, context):
    return {"echo": event["value"]}
"""
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": "ok", "End": True}}})


def plain_client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="any", aws_secret_access_key="any")


def test_a_plain_boto3_client_on_the_front_port_reaches_every_service(emulator_url, emulator_gateway):
    # GIVEN plain boto3 clients aimed at the front port only, as the AWS CLI or another SDK would be
    client = lambda service: plain_client(service, emulator_url)  # noqa: E731
    name = "f" + uuid.uuid4().hex[:12]
    # WHEN each service the pipeline uses is called through it
    account = client("sts").get_caller_identity()["Account"]
    client("s3").create_bucket(Bucket=name)
    client("s3").put_object(Bucket=name, Key="orders/a b.json", Body=b'{"n": 1}', Metadata={"uploaded-at": "1", "my_key": "u"})
    topic_arn = client("sns").create_topic(Name=name)["TopicArn"]
    queue_url = client("sqs").create_queue(QueueName=name)["QueueUrl"]
    client("sqs").send_message(QueueUrl=queue_url, MessageBody="hello")
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("dynamodb").put_item(TableName=name, Item={"k": {"S": "one"}})
    role_arn = client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=ASSUME_ROLE)["Role"]["Arn"]
    client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": HANDLER})},
    )
    client("lambda").get_waiter("function_active_v2").wait(FunctionName=name)
    invoked = client("lambda").invoke(FunctionName=name, Payload=json.dumps({"value": 7}))
    machine_arn = client("stepfunctions").create_state_machine(name=name, definition=DEFINITION, roleArn=role_arn)["stateMachineArn"]
    client("logs").create_log_group(logGroupName=f"/test/{name}")
    client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="Test",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    # THEN every call was answered, and the state is the same one the gateway sees at each group's own port
    direct = emulator_gateway.client
    assert account == emulator_gateway.account_id
    stored = direct("s3").get_object(Bucket=name, Key="orders/a b.json")
    assert (stored["Body"].read(), stored["Metadata"]) == (b'{"n": 1}', {"uploaded-at": "1", "my_key": "u"})
    assert direct("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["TopicArn"] == topic_arn
    assert [message["Body"] for message in direct("sqs").receive_message(QueueUrl=queue_url)["Messages"]] == ["hello"]
    assert direct("dynamodb").get_item(TableName=name, Key={"k": {"S": "one"}})["Item"] == {"k": {"S": "one"}}
    assert json.loads(invoked["Payload"].read()) == {"echo": 7}
    assert direct("stepfunctions").describe_state_machine(stateMachineArn=machine_arn)["name"] == name
    assert [group["logGroupName"] for group in direct("logs").describe_log_groups(logGroupNamePrefix=f"/test/{name}")["logGroups"]] == [
        f"/test/{name}"
    ]
    assert [alarm["AlarmName"] for alarm in direct("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]] == [name]


def test_the_gateway_reaches_each_group_at_its_own_port(emulator_url, emulator_gateway: AwsGateway):
    # GIVEN the emulator's layout, as its health route tells it
    endpoints = service_endpoints(emulator_url)
    # THEN each grouped service has its own process, and the gateway's clients go there, not to the front port
    assert sorted(endpoints) == sorted(
        ["s3", "sns", "sqs", "events", "dynamodb", "dynamodbstreams", "stepfunctions", "lambda", "logs", "iam"]
    )
    assert len({endpoints["s3"], endpoints["dynamodb"], endpoints["lambda"], emulator_url}) == 4
    for service in ("s3", "sqs", "dynamodb", "lambda", "stepfunctions"):
        assert emulator_gateway.client(service).meta.endpoint_url == endpoints[service]
    assert emulator_gateway.client("sts").meta.endpoint_url == emulator_url
