"""Lambda invocations that moto makes from the messaging process reach the workflow process's Lambda runtime.

S3 notifications to a function (`_invoke_awslambda`), SNS subscriptions of protocol `lambda`
(`Subscription.publish`) and EventBridge rules with a Lambda target (`events.notifications`) look the function up in moto's Lambda backend of their own process, which is
empty when Lambda lives in another one. In the messaging process `moto.awslambda.utils.get_backend`
returns a stand-in whose functions invoke through the Lambda API of the workflow process, the event
built by moto's own `send_sns_message`. As on AWS, the delivery is asynchronous to the publisher: a
function that fails or does not exist never fails the Publish or PutObject (it is logged).

The change is a `patches.Patch` (fingerprinted like the hot-spot fixes); it belongs in the fix
registry's Lambda module once that registry is split by service.
"""

from __future__ import annotations

import logging
import threading

import boto3
import moto.awslambda.utils as lambda_utils
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto.awslambda.models import LambdaBackend

from blackfriday.emulator import gate
from blackfriday.emulator.patches import Fingerprint, Patch

log = logging.getLogger("blackfriday.emulator.remote_lambda")

INVOKE_TIMEOUT_SECONDS = 900  # the longest Lambda timeout


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
        """An EventBridge rule's Lambda target (S3 events sent to EventBridge)."""
        return self.get_function(function_name, qualifier).invoke(body, headers, response_headers)

    def send_sns_message(self, function_name: str, message: str, subject: str | None = None, qualifier: str | None = None) -> None:
        LambdaBackend.send_sns_message(self, function_name, message, subject=subject, qualifier=qualifier)


def remote_get_backend(lambda_url: str):
    clients: dict[str, RemoteLambdaBackend] = {}
    lock = threading.Lock()
    config = Config(read_timeout=INVOKE_TIMEOUT_SECONDS, retries={"total_max_attempts": 1}, max_pool_connections=64)

    def build(original):
        def get_backend(account_id: str, region: str) -> RemoteLambdaBackend:
            with lock:
                backend = clients.get(region)
                if backend is None:
                    client = boto3.session.Session().client(
                        "lambda", region_name=region, endpoint_url=lambda_url, config=config,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                    )
                    backend = clients[region] = RemoteLambdaBackend(client)
            return backend

        return get_backend

    return build


def patch(lambda_url: str) -> Patch:
    return Patch(lambda_utils, "get_backend", "889a2b95548422aebfe9c1ac189daf5d5301d7d27a18cb80fba0bd173ebd91c0", remote_get_backend(lambda_url))


# The stand-in hands itself to moto's own event builder: it relies on what that method calls.
RELIED_ON = (Fingerprint(LambdaBackend, "send_sns_message", "93a31ff107e6294f5ba075e0be2085844416d0943b9b70a41c8c8a2143e8d78a"),)


def install(lambda_url: str) -> None:
    """In the messaging process: send moto's notification invocations to the Lambda process at `lambda_url`."""
    remote = patch(lambda_url)
    for fingerprint in (remote, *RELIED_ON):
        if fingerprint.current_sha256() != fingerprint.source_sha256:
            log.warning("moto changed %s since this fix was written: Lambda notifications stay in-process", fingerprint.label)
            return
    remote.apply()
