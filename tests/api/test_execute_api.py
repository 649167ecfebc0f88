"""The emulator serves execute-api: REST APIs created with boto3 answer over real HTTP through their Lambdas."""

from __future__ import annotations

import base64

import pytest
import requests

from blackfriday.api.urls import invoke_url
from tests.emulator.conftest import FunctionDeployer

pytestmark = pytest.mark.emulator

ECHO = """
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""

SHAPED = """
import base64

def handler(event, context):
    kind = (event["pathParameters"] or {}).get("kind")
    if kind == "binary":
        return {"statusCode": 201, "headers": {"Content-Type": "image/png", "X-One": "1"},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode(), "isBase64Encoded": True}
    if kind == "raises":
        raise ValueError("boom")
    if kind == "not-a-dict":
        return "hello"
    if kind == "no-status":
        return {"body": "x"}
    return {"statusCode": 204}
"""


class RestApi:
    """A REST API built with boto3 on the emulator: resources by path, methods proxied to Lambdas, stage `prod`."""

    def __init__(self, gateway, name: str):
        self.apigateway, self.lambda_client = gateway.client("apigateway"), gateway.client("lambda")
        self.region = gateway.region
        created = self.apigateway.create_rest_api(name=name, binaryMediaTypes=["application/octet-stream"])
        self.api_id = created["id"]
        self.resources = {"/": created["rootResourceId"]}
        self.url = invoke_url(gateway.target, self.api_id)

    def resource(self, path: str) -> str:
        if path not in self.resources:
            parent, _, part = path.rpartition("/")
            parent_id = self.resource(parent or "/")
            self.resources[path] = self.apigateway.create_resource(restApiId=self.api_id, parentId=parent_id, pathPart=part)["id"]
        return self.resources[path]

    def route(self, method: str, path: str, function_arn: str, permitted: bool = True) -> None:
        """The method proxied to the function, which lets API Gateway invoke it for this API (unless not `permitted`)."""
        resource_id = self.resource(path)
        if permitted:
            self.lambda_client.add_permission(
                FunctionName=function_arn,
                StatementId=f"{self.api_id}-{method}-{resource_id}",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:{self.region}:{function_arn.split(':')[4]}:{self.api_id}/*",
            )
        self.apigateway.put_method(restApiId=self.api_id, resourceId=resource_id, httpMethod=method, authorizationType="NONE")
        self.apigateway.put_integration(
            restApiId=self.api_id,
            resourceId=resource_id,
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        )

    def deploy(self, stage: str = "prod", variables: dict | None = None) -> None:
        self.apigateway.create_deployment(restApiId=self.api_id, stageName=stage, variables=variables or {})


@pytest.fixture
def api(emulator_gateway):
    functions = FunctionDeployer(emulator_gateway)
    lambda_client = emulator_gateway.client("lambda")

    def arn(name: str, source: str) -> str:
        return lambda_client.get_function(FunctionName=functions.deploy(name, source))["Configuration"]["FunctionArn"]

    rest_api = RestApi(emulator_gateway, f"{emulator_gateway.target.prefix}-api")
    echo, shaped = arn("echo", ECHO), arn("shaped", SHAPED)
    rest_api.route("GET", "/hello", echo)
    rest_api.route("POST", "/hello", echo)
    rest_api.route("GET", "/items/{id}", echo)
    rest_api.route("GET", "/items/special", echo)
    rest_api.route("ANY", "/{proxy+}", echo)
    rest_api.route("ANY", "/things", shaped)
    rest_api.route("GET", "/things", echo)
    rest_api.route("GET", "/shaped/{kind}", shaped)
    rest_api.route("GET", "/unpermitted", arn("unpermitted", ECHO), permitted=False)
    rest_api.deploy(variables={"colour": "blue"})
    return rest_api


def echoed(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_literal_route_gets_the_whole_proxy_event(api):
    # WHEN a GET with repeated query parameters and a header reaches a literal resource
    response = requests.get(f"{api.url}/hello", params=[("size", "m"), ("tag", "a"), ("tag", "b")], headers={"X-Trace": "t-1"}, timeout=30)
    event = echoed(response)
    # THEN the Lambda saw the payload-1.0 event API Gateway sends
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/hello", "/hello", "GET")
    assert event["queryStringParameters"] == {"size": "m", "tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"size": ["m"], "tag": ["a", "b"]}
    assert event["headers"]["X-Trace"] == "t-1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t-1"]
    port = api.url.split("/")[2].split(":")[1]
    assert (event["headers"]["X-Forwarded-For"], event["headers"]["X-Forwarded-Port"], event["headers"]["X-Forwarded-Proto"]) == (
        "127.0.0.1",
        port,
        "http",
    )
    assert (event["pathParameters"], event["stageVariables"]) == (None, {"colour": "blue"})
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    context = event["requestContext"]
    assert (context["stage"], context["apiId"], context["resourcePath"], context["httpMethod"]) == ("prod", api.api_id, "/hello", "GET")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["path"] == f"/restapis/{api.api_id}/prod/_user_request_/hello"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]


def test_a_text_body_comes_as_text_and_a_binary_media_type_as_base64(api):
    event = echoed(requests.post(f"{api.url}/hello", data='{"a": 1}', headers={"Content-Type": "application/json"}, timeout=30))
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    event = echoed(requests.post(f"{api.url}/hello", data=b"\x00\xff", headers={"Content-Type": "application/octet-stream"}, timeout=30))
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(b"\x00\xff").decode(), True)


@pytest.mark.parametrize(
    "path, resource, parameters",
    [
        ("/items/special", "/items/special", None),  # a literal wins over {id}
        ("/items/42", "/items/{id}", {"id": "42"}),
        ("/a/b/c", "/{proxy+}", {"proxy": "a/b/c"}),  # the greedy resource takes what nothing else matches
        ("/items/42/more", "/{proxy+}", {"proxy": "items/42/more"}),
    ],
)
def test_resources_match_literal_then_parameter_then_greedy(api, path, resource, parameters):
    event = echoed(requests.get(api.url + path, timeout=30))
    assert (event["resource"], event["path"], event["pathParameters"]) == (resource, path, parameters)


def test_the_exact_method_wins_over_any(api):
    # GET /things has its own method (echo); any other method takes ANY (the shaped function: 204 for "things")
    assert echoed(requests.get(f"{api.url}/things", timeout=30))["resource"] == "/things"


@pytest.mark.parametrize("method, path", [("GET", "/"), ("DELETE", "/hello"), ("PUT", "/items/42")])
def test_no_resource_or_no_method_is_missing_authentication_token(api, method, path):
    response = requests.request(method, api.url + path, timeout=30)
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_an_unknown_stage_or_api_is_missing_authentication_token(api, emulator_url):
    for url in (api.url.replace("/prod/", "/staging/"), f"{emulator_url}/restapis/nosuchapi/prod/_user_request_/hello"):
        response = requests.get(f"{url}/hello" if "nosuchapi" not in url else url, timeout=30)
        assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_the_lambda_answer_becomes_the_http_answer(api):
    # WHEN the Lambda answers 201 with headers, repeated headers and a base64 body
    response = requests.get(f"{api.url}/shaped/binary", timeout=30)
    # THEN the client gets exactly that, the body decoded
    assert response.status_code == 201
    assert response.content == b"\x89PNG\x00\xff"
    assert (response.headers["Content-Type"], response.headers["X-One"]) == ("image/png", "1")
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_an_answer_without_body_or_headers_is_an_empty_json_answer(api):
    response = requests.delete(f"{api.url}/things", timeout=30)
    assert (response.status_code, response.content, response.headers["Content-Type"]) == (204, b"", "application/json")


@pytest.mark.parametrize("kind", ["raises", "not-a-dict", "no-status"])
def test_a_lambda_error_or_a_malformed_answer_is_a_502(api, kind):
    response = requests.get(f"{api.url}/shaped/{kind}", timeout=30)
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_the_control_plane_under_restapis_still_answers(api):
    # The dispatcher takes only .../_user_request_/... paths: moto keeps serving the API's control plane.
    stage = api.apigateway.get_stage(restApiId=api.api_id, stageName="prod")
    assert stage["variables"] == {"colour": "blue"}


def test_a_function_that_does_not_let_api_gateway_invoke_it_is_a_500(api):
    # AWS: "Execution failed due to configuration error: Invalid permissions on Lambda function"
    response = requests.get(f"{api.url}/unpermitted", timeout=30)
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
