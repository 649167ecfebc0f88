"""Helpers of the resource tests: small deployable sources of our own and a fake AWS environment.

The fixture sources (a one-line handler per function of the manifest and an ASL file using placeholders) keep these tests
independent of the real workflow's code; `test_deploy.py` also prepares the real sources.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from blackfriday.deployment.deploy import PROJECT_ROOT, Sources
from blackfriday.functions import FUNCTION_SPECS
from blackfriday.resources.awslambda import Function
from blackfriday.stack_declaration import STACK

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
PREFIX = "bftest"


def handler_source(short_name: str, version: int) -> str:
    # Imports the shared package like the real handlers, so packaging has something to follow.
    return (
        "from blackfriday import domain\n\n\n"
        "def handler(event, context):\n"
        f"    return {{'function': {short_name!r}, 'version': {version}, 'skus': len(domain.CATALOGUE), 'echo': event}}\n"
    )


def fixture_definition(extra_states: dict | None = None) -> dict:
    """A chain of every workflow function, then an SNS publish to OrderEvents; placeholders as the real ASL uses them."""
    short_names = [spec.short_name for spec in FUNCTION_SPECS]
    states = {
        name: {"Type": "Task", "Resource": f"${{function:{name}}}", "ResultPath": f"$.{name}", "Next": following}
        for name, following in zip(short_names, [*short_names[1:], "Announce"], strict=True)
    }
    states["Announce"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {"TopicArn": "${topic:order_events}", "Message.$": "States.JsonToString($)"},
        "End": True,
    }
    states.update(extra_states or {})
    return {"Comment": "test workflow on ${bucket}", "StartAt": short_names[0], "States": states}


class FixtureSources:
    """Writable copies of handlers and ASL; the `blackfriday` package comes from the project."""

    def __init__(self, directory: Path):
        self.lambdas_dir = directory / "lambdas"
        self.lambdas_dir.mkdir()
        self.asl_path = directory / "workflow.asl.json"
        self.sources = Sources(PROJECT_ROOT, self.lambdas_dir, self.asl_path)
        for function in STACK.of(Function):
            self.write_handler(function.spec.short_name, version=1)
        self.write_definition(fixture_definition())

    def write_handler(self, short_name: str, version: int) -> None:
        (self.lambdas_dir / f"{short_name}.py").write_text(handler_source(short_name, version))

    def write_definition(self, definition: dict) -> None:
        self.asl_path.write_text(json.dumps(definition, indent=2))


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials only: nothing in the environment may point boto3 at a real account or endpoint."""
    for variable in [name for name in os.environ if name.startswith(("AWS_", "BF_"))]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


READ_ONLY_OPERATION = re.compile(r"^(Describe|Get|List|Head|BatchGet)[A-Z]")


def record_calls(gateway) -> list[str]:
    """The name of every AWS operation the gateway's clients call from now on (botocore's before-call event)."""
    calls: list[str] = []
    original = gateway.client

    def client(service: str):
        made = original(service)
        if not getattr(made, "_calls_recorded", False):
            made.meta.events.register("before-call", lambda model, **kwargs: calls.append(model.name))
            made._calls_recorded = True
        return made

    gateway.client = client
    return calls
