"""Shared fixtures: one fresh local emulator per test session, and gateways onto it.

- `emulator_url`: a FRESH emulator subprocess (`python -m blackfriday.emulator serve`) on a free port,
  logging to a temporary file; healthy before the first test uses it, killed at the end of the session.
- `emulator_target`: a Target(kind=ENDPOINT) on that emulator, region us-east-1, a prefix unique to the test.
- `emulator_gateway`: an AwsGateway for `emulator_target`.

Mark tests that use them with `@pytest.mark.emulator`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid

import pytest

from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.target import ENDPOINT, Target, local_endpoint_url

EMULATOR_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    port = free_port()
    url = local_endpoint_url(port)
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    # The server's own environment must not point boto3 elsewhere or carry real credentials.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            lifecycle.serve_command(port),
            cwd=lifecycle.PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        lifecycle.wait_until_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def emulator_target(emulator_url) -> Target:
    prefix = "t" + uuid.uuid4().hex[:12]  # unique per test, valid as an S3 bucket name part
    return Target(ENDPOINT, EMULATOR_REGION, prefix, emulator_url)


@pytest.fixture
def emulator_gateway(emulator_target) -> AwsGateway:
    return AwsGateway(emulator_target)
