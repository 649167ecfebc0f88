"""API Gateway's data plane, which moto 5.2.5 lacks: deployed REST APIs answer over HTTP with Lambda proxy integrations.

A request to `{endpoint}/restapis/{apiId}/{stage}/_user_request_/{path}` (LocalStack's convention) is matched
against the API's resources (literal segments before `{param}` before `{proxy+}`) and methods (the exact
method before `ANY`), turned into the proxy event of payload format 1.0, handed to the integration's Lambda,
and the Lambda's `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` becomes the HTTP answer.
As on AWS: no matching resource or method is a 403 `Missing Authentication Token`, a Lambda error or a
malformed proxy answer a 502 `Internal server error`.

Where the Lambda runs is not this module's business: it is given an
`invoke(function_arn, payload_bytes) -> (payload_bytes, function_error_or_None)` callable (in-process in the
single-process emulator, through Lambda's API at the workflow process from the front process).
The function's resource policy must let API Gateway invoke it for the request's source ARN (a 500, as on
AWS, otherwise). Limits: only AWS_PROXY integrations to Lambda; the API's live resources are served (AWS
serves them as of the stage's deployment); no authorizers, API keys, API resource policies or throttling.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from fnmatch import fnmatch, fnmatchcase

from werkzeug.wrappers import Request

from blackfriday.emulator.deployed_api import DeployedApi, Route
from blackfriday.emulator.fixes import apigateway, awslambda
from blackfriday.emulator.lambda_function import check_runnable

log = logging.getLogger("blackfriday.emulator.execute_api")

USER_REQUEST_PATH = re.compile(r"^/restapis/(?P<api_id>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
LAMBDA_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<function_arn>.+)/invocations$")
ANY_METHOD = "ANY"
PROXY_INTEGRATION = "AWS_PROXY"

Invoke = Callable[[str, bytes], tuple[bytes, str | None]]
# may_invoke(function_arn, source_arn): does the function's resource policy let API Gateway invoke it for this request?
MayInvoke = Callable[[str, str], bool]
APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


def gateway_error(status: int, message: str, error_type: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"message": message}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)], body


MISSING_AUTHENTICATION_TOKEN = (403, "Missing Authentication Token", "MissingAuthenticationTokenException")
LAMBDA_FAILED = (502, "Internal server error", "InternalServerErrorException")  # a function error or a malformed answer
CONFIGURATION_ERROR = (500, "Internal server error", "InternalServerErrorException")  # no function, no permission


def segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def match_resource(template: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity, path parameters) when the resource template matches the path, else None.

    Specificity ranks, segment by segment, a literal (2) over a `{param}` (1) over a greedy `{proxy+}` (0),
    which is how API Gateway prefers /orders/new over /orders/{orderId} over /{proxy+}.
    """
    wanted, given = segments(template), segments(path)
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for position, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = given[position:]
            if position != len(wanted) - 1 or not rest:
                return None
            parameters[segment[1:-2]] = "/".join(rest)
            return tuple(rank + [0]), parameters
        if position >= len(given):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = given[position]
            rank.append(1)
        elif segment == given[position]:
            rank.append(2)
        else:
            return None
    if len(given) != len(wanted):
        return None
    return tuple(rank), parameters


def find_route(api: DeployedApi, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The most specific resource matching the path, then its exact method, else its ANY method."""
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for template in {route.resource_path for route in api.routes}:
        matched = match_resource(template, path)
        if matched is not None and (best is None or matched[0] > best[0]):
            best = (matched[0], template, matched[1])
    if best is None:
        return None
    _, template, parameters = best
    methods = {route.method: route for route in api.routes if route.resource_path == template}
    route = methods.get(method) or methods.get(ANY_METHOD)
    return (route, parameters) if route is not None else None


def single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated keys: the last value, and all values; null (not {}) when there are none."""
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return {key: values[-1] for key, values in multi.items()}, multi


def is_binary(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return bool(media_type) and any(fnmatch(media_type, pattern.lower()) for pattern in binary_media_types)


def forwarded_headers(request: Request) -> list[tuple[str, str]]:
    """The client's headers plus the X-Forwarded-* that API Gateway adds (the client's address appended to the chain)."""
    chain = [value for value in (request.headers.get("X-Forwarded-For"), request.remote_addr) if value]
    forwarded = {
        "X-Forwarded-For": ", ".join(chain),
        "X-Forwarded-Port": str(request.environ.get("SERVER_PORT", "")),
        "X-Forwarded-Proto": request.scheme,
    }
    return [(name, value) for name, value in request.headers.items() if name not in forwarded] + list(forwarded.items())


def proxy_event(request: Request, api: DeployedApi, route: Route, path: str, path_parameters: dict[str, str], request_id: str) -> dict:
    """The Lambda proxy integration's event, payload format 1.0."""
    headers, multi_headers = single_and_multi(forwarded_headers(request))
    query, multi_query = single_and_multi(list(request.args.items(multi=True)))
    raw_body = request.get_data()
    body, is_base64 = None, False
    if raw_body:
        if is_binary(request.headers.get("Content-Type", ""), api.binary_media_types):
            body, is_base64 = base64.b64encode(raw_body).decode(), True
        else:
            try:
                body = raw_body.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(raw_body).decode(), True
    now = time.time()
    return {
        "resource": route.resource_path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stage_variables or None,
        "body": body,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "accountId": api.account_id,
            "apiId": api.api_id,
            "resourcePath": route.resource_path,
            "httpMethod": request.method,
            "path": request.path,
            "stage": api.stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "domainName": request.host,
            "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.headers.get("User-Agent")},
        },
    }


def proxy_answer(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """The HTTP answer a Lambda proxy result asks for; None when the result is not a valid proxy answer."""
    try:
        result = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(result, dict):
        return None
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    headers = {} if result.get("headers") is None else result["headers"]
    multi_headers = {} if result.get("multiValueHeaders") is None else result["multiValueHeaders"]
    body = result.get("body")
    if not isinstance(headers, dict) or not isinstance(multi_headers, dict) or not isinstance(body, (str, type(None))):
        return None
    answer_headers = [(name, str(value)) for name, value in headers.items() if name not in multi_headers]
    for name, values in multi_headers.items():
        if not isinstance(values, list):
            return None
        answer_headers.extend((name, str(value)) for value in values)
    try:
        data = base64.b64decode(body or "", validate=True) if result.get("isBase64Encoded") else (body or "").encode()
    except ValueError:
        return None
    if not any(name.lower() == "content-type" for name, _ in answer_headers):
        answer_headers.append(("Content-Type", "application/json"))
    return status, answer_headers, data


class ExecuteApi:
    """WSGI middleware: answers execute-api paths, passes everything else to the wrapped app (moto)."""

    def __init__(
        self,
        app,
        invoke: Invoke,
        may_invoke: MayInvoke,
        backends_held: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    ):
        self.app = app
        self.invoke = invoke
        self.may_invoke = may_invoke
        self.backends_held = backends_held  # holds moto's backends still while the API is read

    def __call__(self, environ, start_response):
        matched = USER_REQUEST_PATH.match(environ.get("PATH_INFO", ""))
        if matched is None:
            return self.app(environ, start_response)
        request_id = str(uuid.uuid4())
        status, headers, body = self.answer(Request(environ), matched["api_id"], matched["stage"], matched["path"] or "/", request_id)
        headers = [*headers, ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
        start_response(f"{status} {reason_phrase(status)}", headers)
        return [body]

    def answer(self, request: Request, api_id: str, stage: str, path: str, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        with self.backends_held():
            api = apigateway.deployed_api(api_id, stage)
        if api is None:
            return gateway_error(*MISSING_AUTHENTICATION_TOKEN)
        found = find_route(api, request.method, path)
        if found is None:
            return gateway_error(*MISSING_AUTHENTICATION_TOKEN)
        route, path_parameters = found
        function_arn = lambda_function_of(route)
        if function_arn is None:
            log.warning(
                "API %s %s %s: only AWS_PROXY Lambda integrations are served here, not %s %s",
                api_id,
                route.method,
                route.resource_path,
                route.integration_type,
                route.integration_uri,
            )
            return gateway_error(*CONFIGURATION_ERROR)
        source_arn = f"arn:aws:execute-api:{api.region}:{api.account_id}:{api.api_id}/{api.stage}/{request.method}{route.resource_path}"
        event = proxy_event(request, api, route, path, path_parameters, request_id)
        # AWS answers a configuration error (no such function, no permission for API Gateway) with a 500.
        try:
            if not self.may_invoke(function_arn, source_arn):
                log.warning(
                    "API %s %s %s: Lambda %s does not let API Gateway invoke it for %s",
                    api_id,
                    request.method,
                    path,
                    function_arn,
                    source_arn,
                )
                return gateway_error(*CONFIGURATION_ERROR)
            payload, function_error = self.invoke(function_arn, json.dumps(event).encode())
        except Exception:
            log.exception("API %s %s %s: Lambda %s could not be invoked", api_id, request.method, path, function_arn)
            return gateway_error(*CONFIGURATION_ERROR)
        if function_error is not None:
            log.info("API %s %s %s: Lambda %s failed (%s)", api_id, request.method, path, function_arn, function_error)
            return gateway_error(*LAMBDA_FAILED)
        answer = proxy_answer(payload)
        if answer is None:
            log.warning(
                "API %s %s %s: Lambda %s gave a malformed proxy answer: %.200r", api_id, request.method, path, function_arn, payload
            )
            return gateway_error(*LAMBDA_FAILED)
        return answer


def lambda_function_of(route: Route) -> str | None:
    if route.integration_type != PROXY_INTEGRATION or not route.integration_uri:
        return None
    matched = LAMBDA_URI.match(route.integration_uri)
    return matched["function_arn"] if matched else None


def allows_apigateway(statements: list[dict], source_arn: str, account_id: str) -> bool:
    """Whether a Lambda resource policy's statements allow API Gateway to invoke the function for `source_arn`."""
    for statement in statements:
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else principal
        actions = statement.get("Action")
        if statement.get("Effect") != "Allow" or not {APIGATEWAY_PRINCIPAL, "*"} & set(as_list(services)):
            continue
        if not {"lambda:InvokeFunction", "lambda:*", "*"} & set(as_list(actions)):
            continue
        condition = statement.get("Condition", {})
        arn_patterns = as_list(condition.get("ArnLike", {}).get("AWS:SourceArn")) + as_list(
            condition.get("ArnEquals", {}).get("AWS:SourceArn")
        )
        accounts = as_list(condition.get("StringEquals", {}).get("AWS:SourceAccount"))
        if arn_patterns and not any(fnmatchcase(source_arn, pattern) for pattern in arn_patterns):
            continue
        if accounts and account_id not in accounts:
            continue
        return True
    return False


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def reason_phrase(status: int) -> str:
    from http import HTTPStatus

    with contextlib.suppress(ValueError):
        return HTTPStatus(status).phrase
    return "Unknown"


def in_process_invoke(runtime, backends_held: Callable[[], contextlib.AbstractContextManager]) -> Invoke:
    """`invoke` over the emulator's Lambda runtime in this process: the function is looked up in moto's backend."""

    def invoke(function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        with backends_held():
            function = awslambda.deployed_function_by_arn(function_arn)
        check_runnable(function)
        result = runtime.run(function, payload.decode())
        return result.payload, "Unhandled" if result.errored else None

    return invoke


def in_process_may_invoke(backends_held: Callable[[], contextlib.AbstractContextManager]) -> MayInvoke:
    """`may_invoke` over the resource policies in moto's Lambda backend in this process."""

    def may_invoke(function_arn: str, source_arn: str) -> bool:
        with backends_held():
            statements = awslambda.resource_policy_statements(function_arn)
        return allows_apigateway(statements, source_arn, source_arn.split(":")[4])

    return may_invoke


def remote_invoke(lambda_client_for: Callable[[str], object]) -> Invoke:
    """`invoke` through the Lambda API of the process that serves Lambda (`lambda_client_for(region)` gives its client)."""

    def invoke(function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        response = lambda_client_for(function_arn.split(":")[3]).invoke(FunctionName=function_arn, Payload=payload)
        return response["Payload"].read(), response.get("FunctionError")

    return invoke


def remote_may_invoke(lambda_client_for: Callable[[str], object]) -> MayInvoke:
    """`may_invoke` over the function's resource policy, read with GetPolicy from the process that serves Lambda."""

    def may_invoke(function_arn: str, source_arn: str) -> bool:
        client = lambda_client_for(function_arn.split(":")[3])
        try:
            policy = json.loads(client.get_policy(FunctionName=function_arn)["Policy"])
        except client.exceptions.ResourceNotFoundException:  # no such function, or no policy at all
            return False
        return allows_apigateway(as_list(policy.get("Statement")), source_arn, source_arn.split(":")[4])

    return may_invoke
