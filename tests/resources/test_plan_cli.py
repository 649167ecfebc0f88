"""setup_infra.py --plan and teardown.py --plan as a user runs them, in-process (CliRunner, moto.mock_aws)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import setup_infra
import teardown
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from tests.resources.helpers import ACCOUNT, READ_ONLY_OPERATION, record_calls

AWS = ["--target", "aws", "--yes", "--prefix", "bftest"]
RESOURCES = 67
DELETABLE = 65  # all but the bucket notification and the inventory seed, which go with their owners


def run(script, *arguments):
    return CliRunner().invoke(script.main, list(arguments))


def test_plan_on_an_empty_account_is_every_resource_create_exit_3_and_creates_nothing(mocked_aws):
    # GIVEN an empty account WHEN setup plans with --json
    result = run(setup_infra, *AWS, "--plan", "--json")

    # THEN it exits 3 (something would change) with one document: every resource to create, none touched
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["target", "endpoint_url", "region", "account", "plan", "changes"]
    assert (document["target"], document["account"], document["changes"]) == ("aws", ACCOUNT, RESOURCES)
    assert {(step["action"], tuple(step["differences"]), step["problem"]) for step in document["plan"]} == {("create", (), None)}
    assert document["plan"][0] == {
        "resource": f"s3 bucket bftest-orders-{ACCOUNT}-us-east-1",
        "action": "create",
        "differences": [],
        "problem": None,
    }
    assert json.loads(run(teardown, *AWS, "--plan", "--json").stdout) == {"delete": []}


def test_plan_after_setup_is_every_resource_unchanged_exit_0_as_a_table(mocked_aws):
    # GIVEN a deployed stack
    assert run(setup_infra, *AWS, "--json").exit_code == 0

    # WHEN setup plans THEN it exits 0 with a table of every resource unchanged
    result = run(setup_infra, *AWS, "--plan")
    assert result.exit_code == 0, result.output
    assert "│ sqs queue        │ bftest-ShippingQueue" in result.stdout
    assert result.stdout.rstrip().endswith(f"0 to create, 0 to update, {RESOURCES} unchanged")


def test_plan_through_the_cli_calls_only_read_only_operations(mocked_aws, monkeypatch):
    # GIVEN a deployed stack, and every AWS call of the next run recorded
    assert run(setup_infra, *AWS, "--json").exit_code == 0
    recorded: list[list[str]] = []

    def recording_gateway(target):
        gateway = AwsGateway(target)
        recorded.append(record_calls(gateway))
        return gateway

    monkeypatch.setattr(setup_infra, "AwsGateway", recording_gateway)

    # WHEN setup --plan runs THEN none of its calls changes anything
    assert run(setup_infra, *AWS, "--plan", "--json").exit_code == 0
    (calls,) = recorded
    assert len(calls) >= RESOURCES
    assert [call for call in calls if not READ_ONLY_OPERATION.match(call)] == []


def test_plan_naming_a_resource_it_cannot_converge_exits_1(mocked_aws):
    # GIVEN an Orders table keyed on something else
    import boto3

    boto3.client("dynamodb").create_table(
        TableName="bftest-Orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # WHEN setup plans THEN the plan names the table and why, and the run ends with that one line, exit 1
    result = run(setup_infra, *AWS, "--plan", "--json")
    assert result.exit_code == 1
    reason = (
        "DynamoDB table bftest-Orders exists with key (('id', 'HASH'),) instead of (('orderId', 'HASH'),) (string keys); "
        "a table's key cannot change: delete it (python teardown.py) or choose another --prefix"
    )
    (problem,) = [step for step in json.loads(result.stdout)["plan"] if step["problem"]]
    assert (problem["resource"], problem["problem"]) == ("dynamodb table bftest-Orders", reason)
    assert result.stderr.endswith(f"Error: {reason}\n")
    # AND plain setup stops on it too, before anything is created
    assert run(setup_infra, *AWS).exit_code == 1
    assert boto3.client("sns").list_topics()["Topics"] == []


def test_setup_on_aws_shows_the_plan_before_asking(mocked_aws):
    # GIVEN no terminal WHEN setup targets AWS without --yes
    result = run(setup_infra, "--target", "aws", "--prefix", "bftest")

    # THEN the plan was shown, then the account named, then it stopped (exit 2) without creating anything
    assert result.exit_code == 2
    assert f"0 unchanged\nAWS account {ACCOUNT}, region us-east-1: about to create or update the stack 'bftest'." in result.stdout
    assert f"{RESOURCES} to create, 0 to update, 0 unchanged" in result.stdout


def test_plan_on_local_without_an_emulator_is_every_resource_create_and_starts_none(aws_environment, monkeypatch, free_tcp_port):
    # GIVEN no emulator on the local port
    monkeypatch.setenv("BF_EMULATOR_PORT", str(free_tcp_port))

    # WHEN setup plans on --target local
    result = run(setup_infra, "--plan", "--json")

    # THEN it says so, plans every resource as create on the emulator's account, exits 3, and started nothing
    assert result.exit_code == 3, result.output
    assert (
        f"No local emulator runs at http://127.0.0.1:{free_tcp_port}: it starts empty, so setup would create every resource."
        in result.stderr
    )
    document = json.loads(result.stdout)
    assert (document["target"], document["account"], document["changes"]) == ("local", ACCOUNT, RESOURCES)
    assert {step["action"] for step in document["plan"]} == {"create"}
    assert lifecycle.status(free_tcp_port) is None
    # AND teardown's plan has nothing to delete (exit 0)
    removal = run(teardown, "--plan", "--json")
    assert (removal.exit_code, json.loads(removal.stdout)) == (0, {"delete": []})


@pytest.mark.parametrize("script", [setup_infra, teardown], ids=["setup", "teardown"])
def test_plan_against_an_unreachable_endpoint_is_one_line_exit_2(aws_environment, script, free_tcp_port):
    url = f"http://127.0.0.1:{free_tcp_port}"
    result = run(script, "--endpoint-url", url, "--plan")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: endpoint {url} does not answer\n")


@pytest.mark.parametrize("script", [setup_infra, teardown], ids=["setup", "teardown"])
def test_plan_on_aws_without_credentials_is_one_line_exit_2(aws_environment, monkeypatch, script):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = run(script, "--target", "aws", "--plan")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: no AWS credentials found for --target aws: configure a profile (aws configure), "
        "set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )


def test_teardown_plan_lists_what_would_go_and_deletes_nothing(mocked_aws):
    # GIVEN a deployed stack
    setup = json.loads(run(setup_infra, *AWS, "--json").stdout)

    # WHEN teardown plans THEN it lists every resource with a life of its own, users first, and exits 3
    result = run(teardown, *AWS, "--plan", "--json")
    assert result.exit_code == 3
    planned = json.loads(result.stdout)["delete"]
    assert len(planned) == DELETABLE
    assert (planned[0], planned[-1]) == ("dashboard bftest-pipeline", f"s3 bucket {setup['bucket']}")
    # AND everything is still there: setup would change nothing
    assert run(setup_infra, *AWS, "--plan").exit_code == 0
    # AND after teardown the plan is empty, exit 0
    assert run(teardown, *AWS, "--json").exit_code == 0
    after = run(teardown, *AWS, "--plan")
    assert (after.exit_code, after.stdout.splitlines()[-1]) == (0, "Nothing of the stack exists.")


def test_a_new_approval_threshold_or_timeout_plans_an_update_of_reserve_inventory_only(mocked_aws):
    # GIVEN a stack deployed with the default approval settings ($1,000, a day)
    assert run(setup_infra, *AWS, "--json").exit_code == 0

    # WHEN setup plans with another threshold, or another timeout
    for options in (("--approval-threshold", "250.50"), ("--approval-timeout", "3600")):
        result = run(setup_infra, *AWS, "--plan", "--json", *options)
        # THEN only ReserveInventory (whose environment carries both to the workflow) is to be updated
        assert result.exit_code == 3, result.output
        changed = [(step["resource"], step["differences"]) for step in json.loads(result.stdout)["plan"] if step["action"] != "unchanged"]
        assert changed == [("lambda function bftest-reserve-inventory", ["configuration: Environment"])]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--approval-threshold", "ten"), "--approval-threshold 'ten' is not an amount in dollars"),
        (("--approval-threshold", "0"), "--approval-threshold '0' must be a positive amount in whole cents"),
        (("--approval-threshold", "9.999"), "--approval-threshold '9.999' must be a positive amount in whole cents"),
        (("--approval-timeout", "0"), "--approval-timeout 0 must be between 1 and 31536000 seconds"),
    ],
)
def test_a_bad_approval_setting_is_one_line_exit_2_before_anything_is_touched(mocked_aws, options, message):
    result = run(setup_infra, *AWS, "--plan", *options)
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n")
