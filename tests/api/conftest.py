"""Fixtures of the API tests: setup_infra's stack (which carries the order API) on the session's emulator.

`orders_api_stack` deploys the whole stack under a prefix of its own, once per session: its orders and
stock are the API tests' own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import NamedTuple

import pytest

from blackfriday.deployment.deploy import PROJECT_ROOT
from tests.conftest import DeployedStack

CONSUMER_TIMEOUT_SECONDS = 240  # a bound for a hung consumer, far above a normal drain


class OrdersApiStack(NamedTuple):
    stack: DeployedStack
    url: str  # the API's invoke URL; routes are appended ("/catalogue")

    def drain(self) -> dict:
        """consumer.py --until-empty on this stack, to its end: its JSON summary."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
        environment |= {"AWS_ENDPOINT_URL": self.stack.gateway.target.endpoint_url, "BF_PREFIX": self.stack.names.prefix}
        consumer = subprocess.run(
            [sys.executable, "consumer.py", "--json", "--no-dashboard", "--workers", "2", "--wait-seconds", "1", "--until-empty"],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=CONSUMER_TIMEOUT_SECONDS,
        )
        assert consumer.returncode == 0, consumer.stderr
        return json.loads(consumer.stdout)


@pytest.fixture(scope="session")
def orders_api_stack(deploy_own_stack) -> OrdersApiStack:
    stack = deploy_own_stack()
    return OrdersApiStack(stack, stack.info.api_url)
