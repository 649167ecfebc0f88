"""Lambda: invocations run the function's Python handler in the emulator's warm workers (lambda_runtime.py), and,
in a process without Lambda (the messaging process), moto's notification invocations reach the process that has it.

`FIXES` apply in every process. `in_another_process(lambda_url)` is the messaging process's own fix: S3
notifications to a function (`_invoke_awslambda`), SNS subscriptions of protocol `lambda`
(`Subscription.publish`) and EventBridge's S3 notifications (`events.notifications`) look the function up in
moto's Lambda backend of their own process, which is empty when Lambda lives in another one. There
`moto.awslambda.utils.get_backend` returns a stand-in whose functions invoke through the Lambda API at
`lambda_url`, the SNS event built by moto's own `send_sns_message`. As on AWS, the delivery is asynchronous to
the publisher: a function that fails or does not exist never fails the Publish or PutObject (it is logged).

What the emulator reads of moto's Lambda backend is read here: a function as the runtime sees it
(`deployed_function`, `deployed_function_by_arn`) and its resource policy (`resource_policy_statements`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import boto3
import moto.awslambda.utils as lambda_utils
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.awslambda.policy import Policy

from blackfriday.emulator import gate, lambda_runtime
from blackfriday.emulator.fixes.registry import Fingerprint, Patch
from blackfriday.emulator.lambda_function import DeployedFunction

log = logging.getLogger("blackfriday.emulator.fixes.awslambda")

INVOKE_TIMEOUT_SECONDS = 900  # the longest Lambda timeout


def invoke_in_runtime(original: Callable) -> Callable:
    """moto's `LambdaFunction.invoke`, answered by the runtime the server started (moto's echo when none runs: in-process tests)."""

    def invoke(self, body, request_headers, response_headers):
        if lambda_runtime.RUNTIME is None:
            return original(self, body, request_headers, response_headers)
        return lambda_runtime.RUNTIME.invoke(deployed_function(self), body, request_headers, response_headers)

    return invoke


def deployed_function(function: LambdaFunction) -> DeployedFunction:
    """What the runtime needs of moto's function: its configuration, package type and zip."""
    return DeployedFunction(
        function_arn=function.function_arn,
        function_name=function.function_name,
        version=str(function.version),
        region=function.region,
        handler=function.handler or "",
        runtime=function.run_time,
        code_sha_256=function.code_sha_256,
        environment=tuple(sorted((function.environment_vars or {}).items())),
        timeout=int(function.timeout),
        memory_size=int(function.memory_size),
        package_type=function.package_type,
        code=getattr(function, "code_bytes", b""),  # only a zip package has one
    )


def function_by_arn(function_arn: str) -> LambdaFunction:
    _, _, _, region, account_id, *_ = function_arn.split(":")
    return lambda_backends[account_id][region].get_function(function_arn)


def deployed_function_by_arn(function_arn: str) -> DeployedFunction:
    """The function (or version, or alias) of this ARN in this process's Lambda backend; moto's not-found error if none."""
    return deployed_function(function_by_arn(function_arn))


def resource_policy_statements(function_arn: str) -> list[dict]:
    """The statements of the function's resource policy ([] when it has none)."""
    return list(function_by_arn(function_arn).policy.statements)


class RemoteFunction:
    """What moto's notification code calls on a function: `invoke(body, request_headers, response_headers)`."""

    def __init__(self, client, function_name: str, qualifier: str | None = None):
        self.client = client
        self.function_name = function_name
        self.qualifier = qualifier

    def invoke(self, body, request_headers, response_headers) -> bytes:
        options = {"Qualifier": self.qualifier} if self.qualifier else {}
        try:
            with gate.released():  # the handler may call back into this process
                response = self.client.invoke(FunctionName=self.function_name, Payload=body, **options)
            return response["Payload"].read()
        except (ClientError, BotoCoreError) as error:
            log.warning("invoking %s from a notification failed: %s", self.function_name, error)
            return b""


class RemoteFunctions:
    def __init__(self, client):
        self.client = client

    def get_function_by_name_or_arn_with_qualifier(self, name_or_arn: str, qualifier: str | None = None) -> RemoteFunction:
        return RemoteFunction(self.client, name_or_arn, qualifier)


class RemoteLambdaBackend:
    """The methods of moto's LambdaBackend that S3, SNS and EventBridge notifications call."""

    def __init__(self, client):
        self._lambdas = RemoteFunctions(client)

    def get_function(self, function_name_or_arn: str, qualifier: str | None = None) -> RemoteFunction:
        return self._lambdas.get_function_by_name_or_arn_with_qualifier(function_name_or_arn, qualifier)

    def invoke(self, function_name: str, qualifier: str | None, body, headers, response_headers) -> bytes:
        """A Lambda target of EventBridge's S3 notifications (`events.notifications`)."""
        return self.get_function(function_name, qualifier).invoke(body, headers, response_headers)

    def send_sns_message(self, function_name: str, message: str, subject: str | None = None, qualifier: str | None = None) -> None:
        LambdaBackend.send_sns_message(self, function_name, message, subject=subject, qualifier=qualifier)


class LambdaClients:
    """boto3 Lambda clients for the Lambda API of another emulator process, one per region, each created once."""

    def __init__(self, lambda_url: str):
        self.lambda_url = lambda_url
        self.clients: dict[str, object] = {}
        self.lock = threading.Lock()
        self.config = Config(read_timeout=INVOKE_TIMEOUT_SECONDS, retries={"total_max_attempts": 1}, max_pool_connections=64)

    def __call__(self, region: str):
        with self.lock:
            client = self.clients.get(region)
            if client is None:
                client = self.clients[region] = boto3.session.Session().client(
                    "lambda", region_name=region, endpoint_url=self.lambda_url, config=self.config,
                    aws_access_key_id="testing", aws_secret_access_key="testing",
                )  # fmt: skip
            return client


def remote_get_backend(lambda_url: str) -> Callable[[Callable], Callable]:
    clients = LambdaClients(lambda_url)

    def build(original: Callable) -> Callable:
        def get_backend(account_id: str, region: str) -> RemoteLambdaBackend:
            return RemoteLambdaBackend(clients(region))

        return get_backend

    return build


def in_another_process(lambda_url: str) -> Patch:
    """The messaging process's fix: moto's notification invocations go to the Lambda API at `lambda_url`."""
    return Patch(
        lambda_utils, "get_backend", "889a2b95548422aebfe9c1ac189daf5d5301d7d27a18cb80fba0bd173ebd91c0", remote_get_backend(lambda_url)
    )


FIXES = (Patch(LambdaFunction, "invoke", "dadc324f30aed38bf9dde5a93000c195ed3e5fb5e984f71ebd4c6629fc89aa2e", invoke_in_runtime),)
RELIED_ON = (
    # The stand-in hands itself to moto's own SNS event builder: it relies on what that method calls.
    Fingerprint(LambdaBackend, "send_sns_message", "93a31ff107e6294f5ba075e0be2085844416d0943b9b70a41c8c8a2143e8d78a"),
    # deployed_function reads the attributes set there (set_version moves the ARN to a version's).
    Fingerprint(LambdaFunction, "__init__", "70a285222b4a0e116bf028325b1e929bd4a8de6615b9a14c0acb3376af6609a4"),
    Fingerprint(LambdaFunction, "set_version", "a88cfd18f221ff573c0cef70532d6bf06f83925a211a038d0e4bfa3cdeb196dd"),
    Fingerprint(LambdaBackend, "get_function", "3a27e326009fd403e8b8f33a288a3f3e9643c45420e5b47b24e7b9a29cc250c2"),
    Fingerprint(
        Policy, "__init__", "e72abc13bd1f196f1fe3f79c7264b358c1d892835893daa9d0e4b13f360bb106"
    ),  # resource_policy_statements reads `statements`
    # errors.UnsupportedRuntime and InvalidRequestContent are moto Lambda client errors (code, message).
    Fingerprint(LambdaClientError, "__init__", "58ded73f638272d055943589a2259c2d2eab8b5904772f9c85d25671e164d6e7"),
)
