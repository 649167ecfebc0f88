"""Fixtures of the resource tests: a gateway under moto.mock_aws, and writable fixture sources."""

from __future__ import annotations

import pytest

from blackfriday.clients import AwsGateway
from blackfriday.names import StackNames
from blackfriday.target import AWS, Target
from tests.resources.helpers import ACCOUNT, PREFIX, REGION, FixtureSources, fake_aws_environment


@pytest.fixture
def fixture_sources(tmp_path) -> FixtureSources:
    return FixtureSources(tmp_path)


@pytest.fixture
def aws_environment(monkeypatch):
    fake_aws_environment(monkeypatch)


@pytest.fixture
def mocked_aws(aws_environment):
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def gateway(mocked_aws) -> AwsGateway:
    return AwsGateway(Target(AWS, REGION, PREFIX, None))


@pytest.fixture
def names() -> StackNames:
    return StackNames(PREFIX, ACCOUNT, REGION)
