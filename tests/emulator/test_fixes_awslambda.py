"""What the emulator reads of moto's Lambda backend: a function as the runtime sees it, and its resource policy."""

from __future__ import annotations

import base64
import hashlib
import json

import boto3
import pytest
from moto import mock_aws

from blackfriday.emulator.fixes import awslambda
from blackfriday.emulator.lambda_function import DeployedFunction
from tests.emulator.conftest import ASSUME_ROLE, zipped

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
CODE = zipped({"app.py": "def handler(event, context):\n    return event\n"})


@pytest.fixture
def lambda_client():
    with mock_aws():
        role = boto3.client("iam", region_name=REGION).create_role(RoleName="lambda", AssumeRolePolicyDocument=ASSUME_ROLE)["Role"]["Arn"]
        client = boto3.client("lambda", region_name=REGION)
        client.create_function(
            FunctionName="orders", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": CODE},
            Timeout=30, Environment={"Variables": {"TABLE": "orders", "BUCKET": "b"}},
        )  # fmt: skip
        yield client


def test_a_function_is_read_as_the_runtime_sees_it(lambda_client):
    # WHEN the function is looked up by its ARN
    function = awslambda.deployed_function_by_arn(ARN)
    # THEN its configuration, package type and zip are moto's
    code_sha_256 = base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    assert function == DeployedFunction(
        function_arn=ARN, function_name="orders", version="$LATEST", region=REGION, handler="app.handler", runtime="python3.13",
        code_sha_256=code_sha_256, environment=(("BUCKET", "b"), ("TABLE", "orders")), timeout=30, memory_size=128,
    )  # fmt: skip
    assert (function.package_type, function.code) == ("Zip", CODE)


def test_a_resource_policy_is_read_as_its_statements(lambda_client):
    # GIVEN a function without a policy, THEN it has no statements
    assert awslambda.resource_policy_statements(ARN) == []
    # WHEN API Gateway is allowed to invoke it
    lambda_client.add_permission(
        FunctionName="orders", StatementId="api", Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/*",
    )  # fmt: skip
    # THEN that statement is read, as GetPolicy shows it
    policy = json.loads(lambda_client.get_policy(FunctionName="orders")["Policy"])
    assert awslambda.resource_policy_statements(ARN) == policy["Statement"]
    assert [statement["Sid"] for statement in policy["Statement"]] == ["api"]
