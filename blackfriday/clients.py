"""The one gateway that builds boto3 clients.

Clients are created once per service, from one session and one `botocore.config.Config`,
and shared by every worker thread (boto3 clients are thread-safe once built; building them
is not, hence the lock). On the project's own emulator each client goes straight to the process
that serves its service (the emulator's health route lists them), not through its front port.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from functools import cached_property

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from blackfriday.emulator import HEALTH_PATH, SERVICE_NAME
from blackfriday.errors import UsageProblem, error_code, error_message
from blackfriday.target import Target, endpoint_answers

# Credentials the emulator accepts; real ones are never sent to a local endpoint.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Long polls wait up to 20 s and a synchronous Lambda invoke up to its timeout, so reads get
# room beyond both; connects fail fast so an unreachable endpoint is reported quickly.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 70
MAX_ATTEMPTS = 8  # standard mode retries throttling (S3 SlowDown, 503) with jittered backoff
DEFAULT_POOL_CONNECTIONS = 64  # above the largest worker count the scripts start
HEALTH_TIMEOUT_SECONDS = 2.0


def service_endpoints(endpoint_url: str) -> dict[str, str]:
    """boto3 client name -> URL of the emulator process serving it; {} when the endpoint is not our emulator."""
    try:
        with urllib.request.urlopen(endpoint_url + HEALTH_PATH, timeout=HEALTH_TIMEOUT_SECONDS) as response:
            health = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    if not isinstance(health, dict) or health.get("service") != SERVICE_NAME:
        return {}
    return dict(health.get("endpoints", {}))


def client_config(max_pool_connections: int = DEFAULT_POOL_CONNECTIONS) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_pool_connections=max_pool_connections,
        tcp_keepalive=True,
    )


class AwsGateway:
    """Builds and caches one client per service for a target."""

    def __init__(self, target: Target, max_pool_connections: int = DEFAULT_POOL_CONNECTIONS):
        self.target = target
        self.config = client_config(max_pool_connections)
        credentials = {} if target.is_aws else LOCAL_CREDENTIALS
        self.session = boto3.session.Session(region_name=target.region, **credentials)
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    @property
    def region(self) -> str:
        return self.target.region

    def client(self, service: str):
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    endpoint_url = self.service_endpoints.get(service, self.target.endpoint_url)
                    client = self.session.client(service, endpoint_url=endpoint_url, config=self.config)
                    self._clients[service] = client
        return client

    @cached_property
    def service_endpoints(self) -> dict[str, str]:
        return {} if self.target.endpoint_url is None else service_endpoints(self.target.endpoint_url)

    @cached_property
    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

    def check_reachable(self) -> None:
        """Fail with a UsageProblem (exit 2) before anything is touched when the target cannot answer."""
        if self.target.endpoint_url is not None:
            if not endpoint_answers(self.target.endpoint_url):
                hint = " (start it with `python setup_infra.py`)" if self.target.is_local else ""
                raise UsageProblem(f"endpoint {self.target.endpoint_url} does not answer{hint}")
            return
        if self.session.get_credentials() is None:
            raise UsageProblem(
                "no AWS credentials found for --target aws: configure a profile (aws configure), "
                "set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )
        try:
            self.account_id  # noqa: B018 - resolves and caches the caller's account
        except NoCredentialsError:
            raise UsageProblem("no AWS credentials found for --target aws") from None
        except ClientError as error:
            raise UsageProblem(f"AWS rejected the credentials ({error_code(error)}): {error_message(error)}") from None
        except BotoCoreError as error:
            raise UsageProblem(f"cannot reach AWS STS in {self.region}: {error}") from None
