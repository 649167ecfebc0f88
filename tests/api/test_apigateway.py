"""The order API's REST API under moto.mock_aws: created, converged, left unchanged, deleted."""

from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest

from blackfriday.api.paths import ROUTE_PATHS
from blackfriday.names import StackNames
from blackfriday.resources.apigateway import (
    BURST_LIMIT,
    RATE_LIMIT_PER_SECOND,
    RestApiOperations,
    delete_rest_api,
    ensure_rest_api,
    find_rest_api_ids,
    read_rest_api,
    rest_api_differences,
)
from blackfriday.resources.base import Action
from blackfriday.resources.kinds import Context
from blackfriday.stack_declaration import STACK
from tests.resources.helpers import ACCOUNT, PREFIX, REGION, fake_aws_environment

ASSUME_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def clients(monkeypatch):
    from moto import mock_aws

    fake_aws_environment(monkeypatch)
    with mock_aws():
        apigateway, lambda_client = boto3.client("apigateway"), boto3.client("lambda")
        role = boto3.client("iam").create_role(RoleName="orders-api", AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE))["Role"]["Arn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("orders_api.py", "def handler(event, context):\n    return {}\n")
        lambda_client.create_function(
            FunctionName=f"{PREFIX}-orders-api",
            Runtime="python3.11",
            Role=role,
            Handler="orders_api.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        yield apigateway, lambda_client


@pytest.fixture
def config():
    """The order API as the manifest declares it."""
    return RestApiOperations.config(Context(None, StackNames(PREFIX, ACCOUNT, REGION), STACK), STACK["rest_api"])


def routes_of(apigateway, api_id: str) -> dict[str, dict]:
    resources = apigateway.get_resources(restApiId=api_id, embed=["methods"])["items"]
    return {resource["path"]: resource.get("resourceMethods", {}) for resource in resources}


def test_ensure_creates_every_route_proxied_to_the_lambda_with_a_throttled_stage_and_the_permission(clients, config):
    apigateway, lambda_client = clients
    # WHEN the API is ensured on an account without it
    action, api_id = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    # THEN it exists under its name, each route takes ANY through a Lambda proxy integration
    assert action is Action.CREATED
    assert find_rest_api_ids(apigateway, "bftest-OrdersApi") == [api_id]
    routes = routes_of(apigateway, api_id)
    assert sorted(routes) == sorted(ROUTE_PATHS)
    for path in ROUTE_PATHS:
        integration = routes[path]["ANY"]["methodIntegration"]
        assert (integration["type"], integration["httpMethod"]) == ("AWS_PROXY", "POST")
        assert integration["uri"] == (
            f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:function:bftest-orders-api/invocations"
        )
    # AND the prod stage is deployed and throttled
    stage = apigateway.get_stage(restApiId=api_id, stageName="prod")
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (RATE_LIMIT_PER_SECOND, BURST_LIMIT)
    assert stage["deploymentId"] in [item["id"] for item in apigateway.get_deployments(restApiId=api_id)["items"]]
    # AND API Gateway may invoke the function for this API's stage only
    statement = json.loads(lambda_client.get_policy(FunctionName="bftest-orders-api")["Policy"])["Statement"]
    assert len(statement) == 1
    assert statement[0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement[0]["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/*"


def test_a_second_ensure_changes_nothing(clients, config):
    apigateway, lambda_client = clients
    # GIVEN the API ensured once
    _, api_id = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    deployments = apigateway.get_deployments(restApiId=api_id)["items"]
    # WHEN it is ensured again
    action, again = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    # THEN nothing differs, nothing is redeployed
    assert (action, again) == (Action.UNCHANGED, api_id)
    assert rest_api_differences(read_rest_api(apigateway, lambda_client, config), config) == []
    assert apigateway.get_deployments(restApiId=api_id)["items"] == deployments


def test_drift_is_planned_read_only_then_converged_and_redeployed(clients, config):
    apigateway, lambda_client = clients
    # GIVEN a converged API someone changed by hand: a route gone, an extra one, throttling and the permission changed
    _, api_id = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    resources = {item["path"]: item["id"] for item in apigateway.get_resources(restApiId=api_id)["items"]}
    apigateway.delete_resource(restApiId=api_id, resourceId=resources["/orders/{orderId}/receipt"])
    apigateway.create_resource(restApiId=api_id, parentId=resources["/"], pathPart="admin")
    apigateway.update_stage(
        restApiId=api_id, stageName="prod", patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "5"}]
    )
    lambda_client.remove_permission(FunctionName="bftest-orders-api", StatementId="apigateway-invoke")
    deployments = len(apigateway.get_deployments(restApiId=api_id)["items"])
    # WHEN the differences are read
    differences = rest_api_differences(read_rest_api(apigateway, lambda_client, config), config)
    # THEN each is named, and reading changed nothing
    assert differences == [
        "resource /orders/{orderId}/receipt missing",
        "resource /admin not declared",
        f"stage prod throttling 5.0/s burst {BURST_LIMIT}, want {RATE_LIMIT_PER_SECOND}/s burst {BURST_LIMIT}",
        "permission for API Gateway to invoke arn:aws:lambda:us-east-1:123456789012:function:bftest-orders-api missing or different",
    ]
    assert "/admin" in routes_of(apigateway, api_id)
    # WHEN the API is ensured
    action, again = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    # THEN it is updated in place, redeployed once, and converged
    assert (action, again) == (Action.UPDATED, api_id)
    assert sorted(routes_of(apigateway, api_id)) == sorted(ROUTE_PATHS)
    assert len(apigateway.get_deployments(restApiId=api_id)["items"]) == deployments + 1
    assert rest_api_differences(read_rest_api(apigateway, lambda_client, config), config) == []


def test_delete_removes_the_api_and_a_second_delete_is_done(clients, config):
    apigateway, lambda_client = clients
    ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    assert delete_rest_api(apigateway, config.name, sleep=time.sleep) is True
    assert find_rest_api_ids(apigateway, config.name) == []
    assert delete_rest_api(apigateway, config.name, sleep=time.sleep) is False


def test_a_duplicate_api_of_the_same_name_is_removed_by_ensure(clients, config):
    apigateway, lambda_client = clients
    # GIVEN the API and a stray copy of it (an interrupted earlier create)
    _, api_id = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    stray = apigateway.create_rest_api(name=config.name)["id"]
    assert rest_api_differences(read_rest_api(apigateway, lambda_client, config), config) == [
        f"duplicate rest api {stray} named {config.name}"
    ]
    # WHEN ensured
    action, again = ensure_rest_api(apigateway, lambda_client, config, sleep=time.sleep)
    # THEN only the first remains
    assert (action, again) == (Action.UPDATED, api_id)
    assert find_rest_api_ids(apigateway, config.name) == [api_id]
