"""The workflow tests change stock and records: they get a deployed stack of their own, shared by a test module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def workflow_stack(deploy_own_stack):
    return deploy_own_stack()
