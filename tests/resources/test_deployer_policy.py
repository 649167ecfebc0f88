"""iam/deployer-policy.json allows every AWS call setup, a second setup, --plan and teardown make, and nothing more.

The calls are recorded under moto.mock_aws through botocore's events on every client the scripts build
(before-parameter-build keeps the call's parameters, before-call records it as it is sent). Each call is
mapped to the IAM action AWS authorizes it as (its Service Authorization Reference: e.g. S3 HeadBucket is
s3:ListBucket) and to the resource ARNs it acts on, plus the iam:PassRole that creating a function or state
machine implies; a small matcher then evaluates the document's Action and Resource patterns (and its
StringEquals conditions) the way IAM does for an Allow-only identity policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.session
import pytest
from click.testing import CliRunner

import setup_infra
import teardown
from blackfriday.clients import AwsGateway
from blackfriday.names import StackNames
from blackfriday.stack_declaration import STACK
from blackfriday.target import DEFAULT_PREFIX
from tests.resources.helpers import ACCOUNT, REGION

POLICY_PATH = Path(__file__).resolve().parents[2] / "iam" / "deployer-policy.json"
AWS = ["--target", "aws", "--yes"]
NAMES = StackNames(DEFAULT_PREFIX, ACCOUNT, REGION)

IAM_PREFIX = {"stepfunctions": "states"}  # a client's service name -> the IAM prefix, where they differ
# Operations AWS authorizes under another action name
ACTION_OF = {
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "s3:PutEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "s3:PutBucketNotification",
}
# Operations that act on no one resource: IAM authorizes them on "*"
ACCOUNT_WIDE = {
    ("s3", "ListBuckets"), ("sns", "ListTopics"), ("sns", "ListSubscriptions"), ("sqs", "ListQueues"), ("dynamodb", "ListTables"),
    ("iam", "ListRoles"), ("lambda", "ListFunctions"), ("logs", "DescribeLogGroups"), ("stepfunctions", "ListStateMachines"),
    ("cloudwatch", "DescribeAlarms"), ("cloudwatch", "ListDashboards"),
}  # fmt: skip
APIGATEWAY_MODEL = botocore.session.get_session().get_service_model("apigateway")
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}  # "No permissions are required to perform this operation" (STS API reference)


@dataclass(frozen=True)
class Request:
    """One authorization IAM makes for a call: an action on a resource, with the condition keys it carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = field(default=())

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + "".join(f" ({key}={value})" for key, value in self.context)


def apigateway_request(operation: str, params: dict) -> Request:
    """API Gateway authorizes its HTTP method on the path the call addresses: apigateway:POST on arn:aws:apigateway:{region}::/restapis."""
    model = APIGATEWAY_MODEL.operation_model(operation)
    in_path = {member.serialization["name"]: params[name] for name, member in model.input_shape.members.items()
               if member.serialization.get("location") == "uri" and name in params}  # fmt: skip
    path = re.sub(r"\{(\w+)\+?\}", lambda match: in_path[match.group(1)], model.http["requestUri"].split("?")[0])
    return Request(f"apigateway:{model.http['method']}", f"arn:aws:apigateway:{REGION}::{path}")


def resources_of(service: str, operation: str, params: dict) -> list[str]:
    """The ARNs a call acts on, from its parameters and the stack's names."""
    if (service, operation) in ACCOUNT_WIDE:
        return ["*"]
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation == "DeleteObjects":
            return [f"{bucket}/{item['Key']}" for item in params["Delete"]["Objects"]]
        return [bucket]
    if service == "sns":
        return [params.get("TopicArn") or params.get("SubscriptionArn") or NAMES.topic_arn(params["Name"])]
    if service == "sqs":
        return [NAMES.queue_arn(params["QueueName"] if "QueueName" in params else params["QueueUrl"].rsplit("/", 1)[1])]
    if service == "dynamodb":
        return [NAMES.table_arn(table) for table in (params["RequestItems"] if "RequestItems" in params else [params["TableName"]])]
    if service == "logs":
        return [NAMES.arn("logs", f"log-group:{params['logGroupName']}")]
    if service == "iam":
        return [NAMES.role_arn(params["RoleName"])]
    if service == "lambda":
        function = params["FunctionName"]  # a name or, as the order API's permission names it, an ARN
        return [function if function.startswith("arn:") else NAMES.arn("lambda", f"function:{function}")]
    if service == "stepfunctions":
        return [params.get("stateMachineArn") or NAMES.arn("states", f"stateMachine:{params['name']}")]
    if service == "cloudwatch" and ("AlarmName" in params or "AlarmNames" in params):
        return [NAMES.arn("cloudwatch", f"alarm:{name}") for name in params.get("AlarmNames", [params.get("AlarmName")])]
    if service == "cloudwatch":
        return [f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}" for name in params.get("DashboardNames", [params.get("DashboardName")])]
    raise AssertionError(f"no rule for the resources of {service} {operation}: teach test_deployer_policy.py")


def requests_of(service: str, operation: str, params: dict) -> list[Request]:
    """What IAM authorizes for one call: its action on each resource, and the role it passes to a service."""
    if (service, operation) in NEEDS_NO_PERMISSION:
        return []
    if service == "apigateway":
        return [apigateway_request(operation, params)]
    action = ACTION_OF.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")
    if (service, operation) == ("s3", "DeleteObjects"):
        # a versioned delete (every entry from ListObjectVersions names its VersionId) is s3:DeleteObjectVersion
        action = "s3:DeleteObjectVersion" if all("VersionId" in item for item in params["Delete"]["Objects"]) else "s3:DeleteObject"
    requests = [Request(action, resource) for resource in resources_of(service, operation, params)]
    passed = params.get("Role") if service == "lambda" else params.get("roleArn") if service == "stepfunctions" else None
    if passed:
        to_service = "lambda.amazonaws.com" if service == "lambda" else "states.amazonaws.com"
        requests.append(Request("iam:PassRole", passed, (("iam:PassedToService", to_service),)))
    return requests


def _pattern(text: str, ignore_case: bool) -> re.Pattern:
    """An IAM pattern: * any run of characters, ? any one character."""
    body = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def allows(document: dict, request: Request) -> bool:
    """Whether an Allow statement matches the request's action, resource and conditions (the document has no Deny)."""
    context = dict(request.context)
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        if not any(_pattern(action, ignore_case=True).match(request.action) for action in _listed(statement["Action"])):
            continue
        if not any(_pattern(resource, ignore_case=False).match(request.resource) for resource in _listed(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}, "the matcher evaluates StringEquals only"
        if all(context.get(key) in _listed(values) for key, values in conditions.get("StringEquals", {}).items()):
            return True
    return False


@pytest.fixture
def document() -> dict:
    return json.loads(POLICY_PATH.read_text())


@pytest.fixture
def recorded(mocked_aws, monkeypatch) -> list[tuple[str, str, dict]]:
    """Every call made through the scripts' gateways from now on: (client service name, operation, parameters)."""
    calls: list[tuple[str, str, dict]] = []
    built = AwsGateway.client

    def keep_parameters(params, context, **kwargs):
        context["recorded_parameters"] = dict(params)

    def client(gateway, service: str):
        made = built(gateway, service)
        if not getattr(made, "_requests_recorded", False):
            made.meta.events.register("before-parameter-build", keep_parameters)
            made.meta.events.register(
                "before-call", lambda model, context, **kwargs: calls.append((service, model.name, context["recorded_parameters"]))
            )
            made._requests_recorded = True
        return made

    monkeypatch.setattr(AwsGateway, "client", client)
    return calls


def drift_by_hand() -> None:
    """Change what a person might change in the console, so the second setup converges each kind of resource."""
    session = boto3.session.Session(region_name=REGION)
    lambda_client = session.client("lambda")
    lambda_client.update_function_configuration(FunctionName=NAMES.function("validate_order"), Timeout=3)
    lambda_client.update_function_code(FunctionName=NAMES.function("process_payment"), ZipFile=_other_zip())
    sqs = session.client("sqs")
    notifications_url = sqs.get_queue_url(QueueName=STACK["queue:notifications"].name(NAMES))["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=notifications_url, Attributes={"VisibilityTimeout": "5"})
    iam = session.client("iam")
    role = STACK["role:send_notification"].name(NAMES)
    unconditional = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [unconditional]}))
    wider = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:*", "Resource": "*"}]})
    iam.put_role_policy(RoleName=role, PolicyName="added-by-hand", PolicyDocument=wider)
    managed = iam.create_policy(PolicyName="by-hand", PolicyDocument=wider)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=managed)
    sns = session.client("sns")
    sns.set_topic_attributes(TopicArn=NAMES.topic_arn(STACK["topic:new_orders"].name(NAMES)), AttributeName="Policy", AttributeValue=wider)
    shipping = next(item for item in sns.list_subscriptions()["Subscriptions"] if item["Endpoint"] == NAMES.queue_arn(NAMES.shipping_queue))
    sns.set_subscription_attributes(SubscriptionArn=shipping["SubscriptionArn"], AttributeName="RawMessageDelivery", AttributeValue="false")
    session.client("stepfunctions").update_state_machine(
        stateMachineArn=NAMES.state_machine_arn, definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    )
    session.client("logs").put_retention_policy(logGroupName=NAMES.log_group("validate_order"), retentionInDays=7)
    session.client("dynamodb").update_table(
        TableName=STACK["table:orders"].name(NAMES),
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    session.client("cloudwatch").delete_alarms(AlarmNames=[NAMES.alarm("failure-rate")])


def an_order_in_the_bucket() -> None:
    """An order for teardown to delete. moto (5.2.5, in-process mock_aws) refuses every object call under the TLS-only
    bucket policy (it does not see the request as TLS), so the policy goes first; the teardown is what is recorded."""
    s3 = boto3.session.Session(region_name=REGION).client("s3")
    s3.delete_bucket_policy(Bucket=NAMES.bucket)
    s3.put_object(Bucket=NAMES.bucket, Key="orders/00/order-1.json", Body=b"{}")


def _other_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("process_payment.py", "def handler(event, context):\n    return 'changed by hand'\n")
    return buffer.getvalue()


def run(script, *arguments) -> None:
    result = CliRunner().invoke(script.main, [*AWS, *arguments])
    assert result.exit_code in (0, 3), result.output


def test_the_deployer_policy_allows_every_call_of_setup_plan_and_teardown_and_nothing_unused(recorded, document):
    # GIVEN the deployer policy WHEN setup (subscribing an address), a second setup after changes by hand, both plans
    # and teardown of a bucket holding an order run on an account, every call recorded
    run(setup_infra, "--notify-email", "ops@example.com")
    drift_by_hand()
    run(setup_infra)
    run(setup_infra, "--plan")
    an_order_in_the_bucket()
    run(teardown, "--plan")
    run(teardown)

    # THEN the document allows each authorization every call needs
    requests = {request for service, operation, params in recorded for request in requests_of(service, operation, params)}
    assert len(recorded) > 600
    assert sorted(str(request) for request in requests if not allows(document, request)) == []
    # AND it allows no action that none of them needed
    needed = {request.action.lower() for request in requests}
    granted = {action.lower() for statement in document["Statement"] for action in _listed(statement["Action"])}
    assert sorted(granted - needed) == []


def test_the_matcher_refuses_another_stacks_resources_and_other_actions(document):
    # GIVEN the document WHEN asked about calls outside the stack THEN it refuses each
    assert not allows(document, Request("sqs:DeleteQueue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:shop-ShippingQueue"))
    assert not allows(document, Request("s3:DeleteBucket", "arn:aws:s3:::someone-elses-bucket"))
    assert not allows(
        document,
        Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/blackfriday-workflow-role", (("iam:PassedToService", "ec2.amazonaws.com"),)),
    )
    assert not allows(document, Request("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:blackfriday-ShippingQueue"))
    assert not allows(document, Request("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/admin"))
    # AND allows the stack's own
    assert allows(document, Request("sqs:deletequeue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:blackfriday-ShippingQueue"))
    assert allows(
        document,
        Request(
            "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/blackfriday-workflow-role", (("iam:PassedToService", "states.amazonaws.com"),)
        ),
    )
