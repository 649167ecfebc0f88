"""Teardown: everything of the stack goes, nothing of a neighbouring stack, and what remains is found (moto.mock_aws)."""

from __future__ import annotations

from blackfriday.deployment import remove
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.remove import remaining_resources, remove_stack
from blackfriday.deployment.stack import describe_stack
from blackfriday.names import StackNames
from blackfriday.stack_declaration import STACK


def test_remove_twice_deletes_everything_then_nothing(gateway, names, fixture_sources):
    # GIVEN a deployed stack with objects, older versions and delete markers in a versioned bucket
    deploy(gateway, names, fixture_sources.sources)
    s3 = gateway.client("s3")
    # moto 5.2.5 applies a Deny whose condition does not match (aws:SecureTransport) to every request: drop it here
    s3.delete_bucket_policy(Bucket=names.bucket)
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2"):
        s3.put_object(Bucket=names.bucket, Key="receipts/a.json", Body=body)
    s3.delete_object(Bucket=names.bucket, Key="receipts/a.json")

    # WHEN it is removed twice
    first = remove_stack(gateway, names)
    second = remove_stack(gateway, names)

    # THEN the first removal deletes every resource (3 versions in the bucket), the second finds nothing, nothing remains
    assert f"s3 bucket {names.bucket} (3 object versions)" in first
    assert len(first) == 65  # the 67 resources setup reports, less the notification and seed that go with their owners
    assert second == []
    assert remaining_resources(gateway, names) == []


def test_remaining_resources_are_found(gateway, names):
    # GIVEN a stack of which only a queue, a role and the REST API survive
    gateway.client("sqs").create_queue(QueueName=STACK["queue:shipping_dlq"].name(names))
    gateway.client("iam").create_role(RoleName=STACK["role:workflow"].name(names), AssumeRolePolicyDocument="{}")
    gateway.client("apigateway").create_rest_api(name=names.name("OrdersApi"))

    # WHEN the remaining resources are listed THEN all three are named
    assert remaining_resources(gateway, names) == [
        f"sqs queue {STACK['queue:shipping_dlq'].name(names)}",
        f"iam role {STACK['role:workflow'].name(names)}",
        f"rest api {names.name('OrdersApi')}",
    ]


def test_removing_a_stack_leaves_a_stack_whose_prefix_extends_it(gateway, names, fixture_sources):
    # GIVEN two stacks side by side, "bftest" and "bftest-dev"
    neighbour = StackNames("bftest-dev", names.account, names.region)
    deploy(gateway, names, fixture_sources.sources)
    deploy(gateway, neighbour, fixture_sources.sources)

    # WHEN "bftest" is removed
    remove_stack(gateway, names)

    # THEN "bftest-dev" is still whole
    assert remaining_resources(gateway, names) == []
    assert describe_stack(gateway, neighbour).bucket == neighbour.bucket
    assert len(remaining_resources(gateway, neighbour)) == 65


def test_a_deleted_resource_still_listed_for_a_while_is_waited_out(monkeypatch, names):
    # GIVEN a list call that shows a deleted queue once more (SQS lists one for up to 60 s)
    answers = [["sqs queue bftest-ShippingQueue"], []]
    sleeps = []
    monkeypatch.setattr(remove, "remaining_resources", lambda gateway, stack, manifest: answers.pop(0))

    # WHEN teardown checks what remains THEN it asks again after a pause and finds nothing
    assert remove.remaining_after_settling(None, names, sleep=sleeps.append) == []
    assert sleeps == [remove.SETTLE_DELAY_SECONDS]
