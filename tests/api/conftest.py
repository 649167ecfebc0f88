"""Fixtures of the API tests: the whole stack on the session's emulator plus the order API in front of it.

`orders_api_stack` deploys, under a prefix of its own, setup_infra's stack, the orders_api Lambda (with
the environment blackfriday.api.stack declares) and the REST API (`ensure_rest_api`), once per session:
it stands in for the manifest entry until the manifest carries the API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import NamedTuple

import pytest

from blackfriday.api.stack import ORDERS_API_FUNCTION, SHORT_NAME, orders_api_config, orders_api_environment
from blackfriday.api.urls import invoke_url
from blackfriday.resources import awslambda
from blackfriday.resources.apigateway import ensure_rest_api
from blackfriday.resources.deploy import PROJECT_ROOT
from tests.conftest import DeployedStack

CONSUMER_TIMEOUT_SECONDS = 240  # a bound for a hung consumer, far above a normal drain
ASSUME_ROLE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class OrdersApiStack(NamedTuple):
    stack: DeployedStack
    api_id: str
    url: str  # the API's invoke URL; routes are appended ("/catalogue")

    def drain(self) -> dict:
        """consumer.py --until-empty on this stack, to its end: its JSON summary."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
        environment |= {"AWS_ENDPOINT_URL": self.stack.gateway.target.endpoint_url, "BF_PREFIX": self.stack.names.prefix}
        consumer = subprocess.run(
            [sys.executable, "consumer.py", "--json", "--no-dashboard", "--workers", "2", "--wait-seconds", "1", "--until-empty"],
            cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=CONSUMER_TIMEOUT_SECONDS,
        )
        assert consumer.returncode == 0, consumer.stderr
        return json.loads(consumer.stdout)


def deploy_orders_api(stack: DeployedStack) -> OrdersApiStack:
    gateway, names = stack.gateway, stack.names
    role_name = names.function_role(SHORT_NAME)
    iam = gateway.client("iam")
    try:
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    zip_bytes = awslambda.build_zip(awslambda.package_files(PROJECT_ROOT / "lambdas" / f"{SHORT_NAME}.py", PROJECT_ROOT))
    awslambda.ensure_function(
        gateway.client("lambda"),
        awslambda.FunctionConfig(
            name=names.function(SHORT_NAME),
            role_arn=role_arn,
            handler=f"{SHORT_NAME}.handler",
            description=ORDERS_API_FUNCTION.description,
            timeout=ORDERS_API_FUNCTION.timeout_seconds,
            memory_mb=ORDERS_API_FUNCTION.memory_mb,
            environment=orders_api_environment(names),
            zip_bytes=zip_bytes,
        ),
    )
    _, api_id = ensure_rest_api(gateway.client("apigateway"), gateway.client("lambda"), orders_api_config(names))
    return OrdersApiStack(stack, api_id, invoke_url(gateway.target, api_id))


@pytest.fixture(scope="session")
def orders_api_stack(deploy_own_stack) -> OrdersApiStack:
    return deploy_orders_api(deploy_own_stack())
