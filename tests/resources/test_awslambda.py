"""Deployment packages (deterministic, handler at the root plus the project modules it imports) and function creation."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from blackfriday.deployment.deploy import PROJECT_ROOT
from blackfriday.errors import error_code
from blackfriday.resources import base
from blackfriday.resources.awslambda import ZIP_TIMESTAMP, FunctionConfig, build_zip, code_sha256, ensure_function, package_files
from blackfriday.resources.base import Action
from blackfriday.resources.iam import trust_policy


def write_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_handler_is_packaged_with_the_modules_it_imports_transitively(tmp_path):
    # GIVEN a project whose handler imports `fulfillment`, which imports `domain` by attribute; `clients` is unused
    write_tree(
        tmp_path,
        {
            "blackfriday/__init__.py": "",
            "blackfriday/fulfillment.py": "import json\nfrom blackfriday.domain import PRODUCTS\n",
            "blackfriday/domain.py": "PRODUCTS = {}\n",
            "blackfriday/clients.py": "import boto3\n",
            "lambdas/reserve.py": "import os\nfrom blackfriday import fulfillment\n\ndef handler(event, context):\n    return None\n",
        },
    )

    # WHEN the handler's package is built
    files = package_files(tmp_path / "lambdas" / "reserve.py", tmp_path)

    # THEN it holds the handler at the root, the package marker, fulfillment and domain: nothing else
    assert sorted(files) == ["blackfriday/__init__.py", "blackfriday/domain.py", "blackfriday/fulfillment.py", "reserve.py"]
    assert files["blackfriday/domain.py"] == b"PRODUCTS = {}\n"


def test_the_real_handlers_carry_the_shared_modules():
    # GIVEN the repository's reserve_inventory handler WHEN it is packaged THEN the shared domain code travels with it
    files = package_files(PROJECT_ROOT / "lambdas" / "reserve_inventory.py", PROJECT_ROOT)
    assert {"reserve_inventory.py", "blackfriday/__init__.py", "blackfriday/domain.py", "blackfriday/fulfillment.py"} <= set(files)
    assert "blackfriday/clients.py" not in files


def test_unchanged_sources_give_the_same_zip_and_a_changed_one_another(tmp_path):
    # GIVEN the same files packaged twice, listed in different orders
    files = {"b.py": b"B = 1\n", "a.py": b"A = 1\n"}
    first, second = build_zip(files), build_zip(dict(reversed(list(files.items()))))

    # THEN the bytes and the CodeSha256 are identical, with fixed timestamps and sorted entries
    assert first == second
    assert code_sha256(first) == code_sha256(second)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert [(info.filename, info.date_time) for info in archive.infolist()] == [("a.py", ZIP_TIMESTAMP), ("b.py", ZIP_TIMESTAMP)]
    # AND one changed byte changes the hash
    assert code_sha256(build_zip({**files, "a.py": b"A = 2\n"})) != code_sha256(first)


def test_create_waits_out_a_role_not_yet_assumable(gateway):
    # GIVEN a role that Lambda cannot assume yet (IAM propagation: here it appears during the first back-off)
    iam = gateway.client("iam")
    sleeps = []

    def back_off(seconds):
        sleeps.append(seconds)
        iam.create_role(
            RoleName="bftest-late-role", AssumeRolePolicyDocument=json.dumps(trust_policy("lambda.amazonaws.com", "123456789012"))
        )

    config = FunctionConfig(
        name="bftest-late",
        role_arn="arn:aws:iam::123456789012:role/bftest-late-role",
        handler="late.handler",
        description="created once its role is visible",
        timeout=3,
        memory_mb=128,
        environment={},
        zip_bytes=build_zip({"late.py": b"def handler(event, context):\n    return 1\n"}),
    )

    # WHEN the function is ensured THEN it is created after one back-off, and a second ensure changes nothing
    assert ensure_function(gateway.client("lambda"), config, sleep=back_off) is Action.CREATED
    assert sleeps == [1.0]
    assert ensure_function(gateway.client("lambda"), config, sleep=back_off) is Action.UNCHANGED


def test_retries_are_bounded_and_only_for_the_retryable_error():
    # GIVEN a call that always fails the same way
    calls = []

    def no_sleep(seconds):
        pass

    def failing(code: str):
        def call():
            calls.append(code)
            raise ClientError(
                {"Error": {"Code": code, "Message": "The role defined for the function cannot be assumed by Lambda."}}, "CreateFunction"
            )

        return call

    # WHEN it is retried on the propagation error THEN it gives up after the given attempts, with the last error
    with pytest.raises(ClientError):
        base.retry_while(
            failing("InvalidParameterValueException"),
            lambda error: error_code(error) == "InvalidParameterValueException",
            sleep=no_sleep,
            attempts=4,
        )
    assert len(calls) == 4
    # AND another error is raised at once
    calls.clear()
    with pytest.raises(ClientError):
        base.retry_while(
            failing("AccessDenied"), lambda error: error_code(error) == "InvalidParameterValueException", sleep=no_sleep, attempts=4
        )
    assert calls == ["AccessDenied"]
