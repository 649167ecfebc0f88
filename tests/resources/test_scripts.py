"""setup_infra.py and teardown.py as a user runs them: --json documents, exit codes, confirmation (moto.mock_aws)."""

from __future__ import annotations

import functools
import json

import boto3
import pytest
from click.testing import CliRunner

import setup_infra
import teardown
from blackfriday.deployment import remove
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from blackfriday.resources.apigateway import find_rest_api_ids
from tests.resources.helpers import ACCOUNT

AWS = ["--target", "aws", "--yes", "--prefix", "bftest"]
SETUP_KEYS = [
    "target", "endpoint_url", "region", "account", "bucket", "topics", "queues",
    "notifications", "tables", "functions", "state_machine_arn", "api_url", "storefront_url", "changes",
]  # fmt: skip


def run(script, *arguments):
    return CliRunner().invoke(script.main, list(arguments))


def test_setup_json_then_again_reports_every_resource_unchanged(mocked_aws):
    # GIVEN an empty account WHEN setup runs with --json
    first = run(setup_infra, *AWS, "--json")

    # THEN stdout is one JSON object describing the stack, every resource created
    assert first.exit_code == 0, first.output
    document = json.loads(first.stdout)
    assert list(document) == SETUP_KEYS
    assert (document["target"], document["endpoint_url"], document["region"], document["account"]) == ("aws", None, "us-east-1", ACCOUNT)
    assert document["queues"]["shipping"]["dlq_arn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-ShippingDLQ"
    assert sorted(document["functions"]) == sorted(spec.short_name for spec in (*FUNCTION_SPECS, ORDERS_API_FUNCTION))
    (api_id,) = find_rest_api_ids(boto3.client("apigateway"), "bftest-OrdersApi")
    assert document["api_url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod"
    assert document["storefront_url"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod/"
    assert {change["action"] for change in document["changes"]} == {"created"}
    # AND the account and region were named before anything was created
    assert f"AWS account {ACCOUNT}, region us-east-1: about to create or update the stack 'bftest'." in first.stderr

    # WHEN setup runs again THEN it changes nothing and says so, for the same resources
    second = json.loads(run(setup_infra, *AWS, "--json").stdout)
    assert {change["action"] for change in second["changes"]} == {"unchanged"}
    assert [change["resource"] for change in second["changes"]] == [change["resource"] for change in document["changes"]]


def test_setup_prints_a_table_and_where_the_stack_lives(mocked_aws):
    result = run(setup_infra, *AWS)
    assert result.exit_code == 0, result.output
    assert "│ sqs queue        │ bftest-ShippingQueue" in result.stdout
    assert "67 created, 0 updated, 0 unchanged" in result.stdout
    assert f"Stack 'bftest' lives on real AWS: account {ACCOUNT}, region us-east-1." in result.stdout
    (api_id,) = find_rest_api_ids(boto3.client("apigateway"), "bftest-OrdersApi")
    api_url = f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod"
    assert f"Order API {api_url} (routes: docs/api.md); storefront {api_url}/\n" in result.stdout


def test_teardown_twice_exits_0_and_leaves_nothing(mocked_aws):
    # GIVEN a deployed stack
    assert run(setup_infra, *AWS, "--json").exit_code == 0

    # WHEN teardown runs twice
    first, second = run(teardown, *AWS, "--json"), run(teardown, *AWS, "--json")

    # THEN both exit 0; the first deleted everything, the second found nothing, and nothing remains either time
    assert (first.exit_code, second.exit_code) == (0, 0)
    removed = json.loads(first.stdout)
    assert len(removed["deleted"]) == 65 and removed["remaining"] == []
    assert json.loads(second.stdout) == {"deleted": [], "remaining": []}


def test_teardown_exits_1_naming_what_remains(mocked_aws, monkeypatch):
    # GIVEN a resource that survives deletion, however long teardown waits for the lists to settle
    checks = []
    monkeypatch.setattr(
        remove, "remaining_resources", lambda gateway, names, manifest: checks.append(names) or ["sqs queue bftest-ShippingDLQ"]
    )
    monkeypatch.setattr(
        teardown, "remaining_after_settling", functools.partial(remove.remaining_after_settling, sleep=lambda seconds: None)
    )

    # WHEN teardown runs THEN it still prints its document, and exits 1 naming the survivor
    result = run(teardown, *AWS, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"deleted": [], "remaining": ["sqs queue bftest-ShippingDLQ"]}
    assert result.stderr.endswith("Error: 1 resources remain: sqs queue bftest-ShippingDLQ\n")
    assert len(checks) == 1 + remove.SETTLE_POLLS


@pytest.mark.parametrize("script", [setup_infra, teardown], ids=["setup", "teardown"])
def test_aws_without_yes_and_without_a_terminal_exits_2(mocked_aws, script):
    # GIVEN no terminal on stdin WHEN a script targets AWS without --yes THEN it stops before touching anything
    result = run(script, "--target", "aws", "--prefix", "bftest")
    assert result.exit_code == 2
    assert "standard input is not a terminal: pass --yes to" in result.stderr
    assert json.loads(run(teardown, *AWS, "--json").stdout)["deleted"] == []


@pytest.mark.parametrize("script", [setup_infra, teardown], ids=["setup", "teardown"])
def test_a_prefix_that_cannot_name_resources_exits_2_with_the_rule(aws_environment, script):
    result = run(script, "--target", "aws", "--yes", "--prefix", "Black_Friday")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --prefix 'Black_Friday' must start with a lowercase letter and contain only lowercase "
        "letters, digits and hyphens (S3 bucket naming rules)\n"
    )


def test_notify_email_needs_aws(aws_environment):
    result = run(setup_infra, "--target", "local", "--notify-email", "ops@example.com")
    assert (result.exit_code, result.stderr) == (2, "Error: --notify-email needs --target aws: the emulator sends no e-mail\n")


def test_notify_email_subscribes_the_address_to_critical_alerts_and_approvals(mocked_aws):
    # WHEN setup runs with --notify-email THEN e-mail subscriptions on CriticalAlerts (every alarm's action) and on Approvals
    # (big orders to review) are created, then left unchanged
    first = json.loads(run(setup_infra, *AWS, "--json", "--notify-email", "ops@example.com").stdout)
    second = json.loads(run(setup_infra, *AWS, "--json", "--notify-email", "ops@example.com").stdout)
    subscriptions = ("sns subscription bftest-CriticalAlerts -> ops@example.com", "sns subscription bftest-Approvals -> ops@example.com")
    for resource in subscriptions:
        assert {change["resource"]: change["action"] for change in first["changes"]}[resource] == "created"
        assert {change["resource"]: change["action"] for change in second["changes"]}[resource] == "unchanged"
    assert [change["resource"] for change in first["changes"] if "-> ops@example.com" in change["resource"]] == list(subscriptions)


def test_teardown_on_local_without_an_emulator_has_nothing_to_do(aws_environment, monkeypatch, free_tcp_port):
    # GIVEN no emulator on the configured port (a port nothing listens on)
    monkeypatch.setenv("BF_EMULATOR_PORT", str(free_tcp_port))

    # WHEN teardown runs THEN it exits 0 having deleted nothing
    result = run(teardown, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"deleted": [], "remaining": []}
