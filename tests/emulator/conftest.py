"""Fixtures of the emulator tests: deploying small zipped Python handlers (Lambda and Step Functions tests)."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile

import pytest

ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def zipped(files: dict[str, str]) -> bytes:
    """A zip of these sources; the same sources always give the same bytes (so the same CodeSha256)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), textwrap.dedent(source))
    return buffer.getvalue()


class FunctionDeployer:
    """Creates functions named <prefix>-<name> from handler sources, waits until they are Active."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.prefix = gateway.target.prefix
        self.lambda_client = gateway.client("lambda")
        iam = gateway.client("iam")
        self.role_arn = iam.create_role(RoleName=f"{self.prefix}-lambda", AssumeRolePolicyDocument=ASSUME_ROLE)["Role"]["Arn"]

    def deploy(
        self,
        name: str,
        source: str,
        timeout: int = 3,
        environment: dict | None = None,
        runtime: str = "python3.11",
        files: dict | None = None,
    ) -> str:
        """The handler `source` as app.py, with any other `files` (archive name -> source) beside it."""
        function_name = f"{self.prefix}-{name}"
        self.lambda_client.create_function(
            FunctionName=function_name,
            Runtime=runtime,
            Role=self.role_arn,
            Handler="app.handler",
            Code={"ZipFile": zipped({"app.py": source, **(files or {})})},
            Timeout=timeout,
            Environment={"Variables": environment or {}},
        )
        self.lambda_client.get_waiter("function_active_v2").wait(FunctionName=function_name)
        return function_name

    def invoke(self, function_name: str, event: dict | None = None, **options) -> tuple[dict, str | None]:
        """(decoded payload, FunctionError or None)."""
        response = self.lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event or {}), **options)
        return json.loads(response["Payload"].read() or b"null"), response.get("FunctionError")


@pytest.fixture
def functions(emulator_gateway) -> FunctionDeployer:
    return FunctionDeployer(emulator_gateway)
