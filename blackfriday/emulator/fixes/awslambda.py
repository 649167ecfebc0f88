"""Lambda: invocations run the function's Python handler in the emulator's warm workers (lambda_runtime.py), and,
in a process without Lambda (the messaging process), moto's notification invocations reach the process that has it.

`FIXES` apply in every process. `in_another_process(lambda_url)` is the messaging process's own fix: S3
notifications to a function (`_invoke_awslambda`), SNS subscriptions of protocol `lambda`
(`Subscription.publish`) and EventBridge's S3 notifications (`events.notifications`) look the function up in
moto's Lambda backend of their own process, which is empty when Lambda lives in another one. There
`moto.awslambda.utils.get_backend` returns a stand-in whose functions invoke through the Lambda API at
`lambda_url`, the SNS event built by moto's own `send_sns_message`. As on AWS, the delivery is asynchronous to
the publisher: a function that fails or does not exist never fails the Publish or PutObject (it is logged).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import boto3
import moto.awslambda.utils as lambda_utils
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction

from blackfriday.emulator import gate, lambda_runtime
from blackfriday.emulator.fixes.registry import Fingerprint, Patch

log = logging.getLogger("blackfriday.emulator.fixes.awslambda")

INVOKE_TIMEOUT_SECONDS = 900  # the longest Lambda timeout


def invoke_in_runtime(original: Callable) -> Callable:
    """moto's `LambdaFunction.invoke`, answered by the runtime the server started (moto's echo when none runs: in-process tests)."""

    def invoke(self, body, request_headers, response_headers):
        if lambda_runtime.RUNTIME is None:
            return original(self, body, request_headers, response_headers)
        return lambda_runtime.RUNTIME.invoke(self, body, request_headers, response_headers)

    return invoke


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
    return Patch(lambda_utils, "get_backend", "889a2b95548422aebfe9c1ac189daf5d5301d7d27a18cb80fba0bd173ebd91c0", remote_get_backend(lambda_url))


FIXES = (Patch(LambdaFunction, "invoke", "dadc324f30aed38bf9dde5a93000c195ed3e5fb5e984f71ebd4c6629fc89aa2e", invoke_in_runtime),)
# The stand-in hands itself to moto's own SNS event builder: it relies on what that method calls.
RELIED_ON = (Fingerprint(LambdaBackend, "send_sns_message", "93a31ff107e6294f5ba075e0be2085844416d0943b9b70a41c8c8a2143e8d78a"),)
