"""The front door's pure parts: execute-api's matching and answer mapping, the invoke URL, the Lambda's zip."""

from __future__ import annotations

import base64
import json

import pytest

from blackfriday.api.urls import invoke_url
from blackfriday.deployment.deploy import PROJECT_ROOT
from blackfriday.emulator.execute_api import (
    DeployedApi,
    Route,
    allows_apigateway,
    find_route,
    match_resource,
    proxy_answer,
    single_and_multi,
)
from blackfriday.resources import awslambda
from blackfriday.target import AWS, ENDPOINT, Target


@pytest.mark.parametrize(
    "template, path, expected",
    [
        ("/", "/", ((), {})),
        ("/orders", "/orders", ((2,), {})),
        ("/orders", "/orders/", ((2,), {})),  # a trailing slash names the same resource
        ("/orders/{orderId}", "/orders/abc", ((2, 1), {"orderId": "abc"})),
        ("/orders/{orderId}", "/orders", None),
        ("/orders/{orderId}", "/orders/abc/receipt", None),
        ("/{proxy+}", "/a/b/c", ((0,), {"proxy": "a/b/c"})),
        ("/{proxy+}", "/", None),  # greedy needs at least one segment
        ("/files/{path+}", "/files/x/y", ((2, 0), {"path": "x/y"})),
        ("/catalogue", "/orders", None),
    ],
)
def test_a_resource_template_matches_a_path_with_its_specificity_and_parameters(template, path, expected):
    assert match_resource(template, path) == expected


def api_with(*routes: tuple[str, str]) -> DeployedApi:
    return DeployedApi(
        "id", "123456789012", "us-east-1", "prod", {}, (), tuple(Route(path, method, "AWS_PROXY", "uri") for path, method in routes)
    )


def test_the_most_specific_resource_then_its_exact_method_then_any():
    api = api_with(("/orders/{orderId}", "GET"), ("/orders/new", "ANY"), ("/{proxy+}", "ANY"), ("/orders/new", "POST"))
    assert find_route(api, "GET", "/orders/new") == (Route("/orders/new", "ANY", "AWS_PROXY", "uri"), {})
    assert find_route(api, "POST", "/orders/new") == (Route("/orders/new", "POST", "AWS_PROXY", "uri"), {})
    assert find_route(api, "GET", "/orders/7") == (Route("/orders/{orderId}", "GET", "AWS_PROXY", "uri"), {"orderId": "7"})
    assert find_route(api, "DELETE", "/orders/7") is None  # the resource matched has no such method
    assert find_route(api, "GET", "/") is None


def test_repeated_keys_keep_the_last_value_and_all_values_and_none_is_null():
    assert single_and_multi([("a", "1"), ("b", "2"), ("a", "3")]) == ({"a": "3", "b": "2"}, {"a": ["1", "3"], "b": ["2"]})
    assert single_and_multi([]) == (None, None)


def test_a_proxy_answer_maps_to_status_headers_and_body():
    payload = {
        "statusCode": 201,
        "headers": {"X-A": "1", "Set-Cookie": "ignored"},
        "multiValueHeaders": {"Set-Cookie": ["a", "b"]},
        "body": "hi",
    }
    assert proxy_answer(json.dumps(payload).encode()) == (
        201,
        [("X-A", "1"), ("Set-Cookie", "a"), ("Set-Cookie", "b"), ("Content-Type", "application/json")],
        b"hi",
    )
    binary = {
        "statusCode": "200",
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    assert proxy_answer(json.dumps(binary).encode()) == (200, [("Content-Type", "image/png")], b"\x00\x01")


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'"text"',
        b"{}",
        b'{"statusCode": true}',
        b'{"statusCode": 99}',
        b'{"statusCode": 200, "body": 5}',
        b'{"statusCode": 200, "headers": []}',
        b'{"statusCode": 200, "multiValueHeaders": {"A": "x"}}',
        b'{"statusCode": 200, "body": "***", "isBase64Encoded": true}',
    ],
)
def test_a_malformed_proxy_answer_is_none(payload):
    assert proxy_answer(payload) is None


def test_the_invoke_url_on_aws_and_on_an_endpoint():
    assert invoke_url(Target(AWS, "eu-west-1", "bf", None), "abc123") == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    assert invoke_url(Target(AWS, "cn-north-1", "bf", None), "abc123") == "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"
    endpoint = Target(ENDPOINT, "us-east-1", "bf", "http://127.0.0.1:4599/")
    assert invoke_url(endpoint, "abc123") == "http://127.0.0.1:4599/restapis/abc123/prod/_user_request_"


def test_the_orders_api_zip_carries_the_routes_and_the_storefront_page():
    files = awslambda.package_files(PROJECT_ROOT / "lambdas" / "orders_api.py", PROJECT_ROOT)
    for name in (
        "orders_api.py",
        "blackfriday/__init__.py",
        "blackfriday/api/__init__.py",
        "blackfriday/api/routes.py",
        "blackfriday/api/storefront.py",
        "blackfriday/domain.py",
        "blackfriday/journey.py",
    ):
        assert name in files
    # neither the emulator nor the deployer: the stack's declaration and resource code stay out of the API's zip
    for name in (
        "blackfriday/emulator/execute_api.py",
        "blackfriday/status.py",
        "blackfriday/manifest.py",
        "blackfriday/deployment/stack.py",
    ):
        assert name not in files


SOURCE = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/{orderId}"


def statement(**changes) -> dict:
    base = {
        "Sid": "s",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*"}},
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    "statements, allowed",
    [
        ([statement()], True),
        ([statement(Condition={})], True),  # no condition: any API of any account
        ([statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:other/*"}})], False),
        ([statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/staging/*"}})], False),
        ([statement(Principal={"Service": "s3.amazonaws.com"})], False),
        ([statement(Action="lambda:GetFunction")], False),
        ([statement(Effect="Deny")], False),
        ([statement(Condition={"StringEquals": {"AWS:SourceAccount": "999999999999"}})], False),
        ([statement(Principal={"Service": "s3.amazonaws.com"}), statement()], True),
        ([], False),
    ],
)
def test_the_lambda_resource_policy_decides_whether_api_gateway_may_invoke(statements, allowed):
    assert allows_apigateway(statements, SOURCE, "123456789012") is allowed
