"""The hot-spot fixes: their targets have not moved, and patched moto behaves as moto does.

In-process (moto.mock_aws): the fixes are plain functions on moto objects; the emulator tests
exercise them over HTTP as well, since the server runs with them applied.
"""

from __future__ import annotations

import json

import boto3
import moto.backends
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import boto_client

from blackfriday.emulator import patches

REGION = "us-east-1"
IN_FLIGHT_SECONDS = 300
FAR_DELAY_SECONDS = 900


@pytest.mark.parametrize("target", patches.PATCHES + patches.RELIED_ON, ids=lambda target: target.label)
def test_target_has_not_moved_since_the_fix_was_written(target):
    # GIVEN a moto object a fix replaces or relies on
    # WHEN its source is fingerprinted in the installed moto
    # THEN it is exactly the source the fix was written against (moto 5.2.5)
    assert target.current_sha256() == target.source_sha256, (
        f"moto changed {target.label}: review the fix in blackfriday/emulator/patches.py, then update its fingerprint"
    )


def test_every_patch_applies_and_undoes():
    # GIVEN unpatched moto
    originals = [inspect_static(patch) for patch in patches.PATCHES]
    # WHEN the fixes are applied, then undone
    with patches.applied() as applied_labels:
        patched = [inspect_static(patch) for patch in patches.PATCHES]
    # THEN all of them applied, each replaced its target, and undo restored every original
    assert applied_labels == [patch.label for patch in patches.PATCHES]
    assert all(now is not before for now, before in zip(patched, originals))
    assert [inspect_static(patch) for patch in patches.PATCHES] == originals


def inspect_static(patch):
    return patch.owner.__dict__[patch.name]


def test_module_list_is_computed_once_and_unchanged():
    # GIVEN the list of moto's service modules as moto computes it
    expected = list(moto.backends.list_of_moto_modules())
    with patches.applied():
        # WHEN it is asked for twice with the fix
        first, second = moto.backends.list_of_moto_modules(), moto.backends.list_of_moto_modules()
    # THEN it is the same list, and the same object (no directory scan the second time)
    assert list(first) == expected
    assert second is first


def test_name_conversions_are_remembered_and_unchanged():
    import moto.core.responses
    import moto.core.utils

    names = ["ApproximateNumberOfMessages", "QueueArn", "SendMessageBatch", "KMSMasterKeyId", "", "x"]
    expected = [moto.core.utils.camelcase_to_underscores(name) for name in names]
    expected_methods = moto.core.utils.method_names_from_class(moto.core.responses.BaseResponse)
    with patches.applied():
        # GIVEN the fix, WHEN moto converts the same names twice, through the name its responses module imported
        first = [moto.core.responses.camelcase_to_underscores(name) for name in names]
        second = [moto.core.utils.camelcase_to_underscores(name) for name in names]
        methods = moto.core.responses.method_names_from_class(moto.core.responses.BaseResponse)
        hits = moto.core.utils.camelcase_to_underscores.cache_info().hits
    # THEN the answers are moto's, and the second round came from the cache
    assert first == second == expected
    assert hits == len(names)
    assert methods == expected_methods


def test_step_functions_clients_are_shared_per_region_and_service():
    with patches.applied():
        # GIVEN the fix, WHEN the interpreter asks for clients as its Lambda task does
        lambda_client = lambda_eval_utils.boto_client_for(region=REGION, service="lambda", state_credentials=object())
        again = boto_client.boto_client_for(REGION, "lambda", None)
        other_region = boto_client.boto_client_for("eu-west-1", "lambda")
        sns_client = boto_client.boto_client_for(REGION, "sns")
    # THEN one client per (region, service), whatever the (unhashable) credentials, also through the
    # name lambda_eval_utils imported
    assert again is lambda_client
    assert other_region is not lambda_client and other_region.meta.region_name == "eu-west-1"
    assert sns_client.meta.service_model.service_name == "sns"
    assert lambda_eval_utils.boto_client_for is boto_client.boto_client_for


def sqs_story() -> list:
    """Sends, receives, deletes, visibility changes, delays, redrive and purge; every observable result."""
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName="story-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url = sqs.create_queue(QueueName="story", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    seen: list = []

    def counts(queue_url):
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        seen.append([attributes[name] for name in names])

    def receive(queue_url, count, visibility):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=count, VisibilityTimeout=visibility).get("Messages", [])
        seen.append([message["Body"] for message in messages])
        return messages

    def outcome(call):
        try:
            call()
            seen.append("ok")
        except ClientError as error:
            seen.append(error.response["Error"]["Code"])

    for number in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
    sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=FAR_DELAY_SECONDS)
    counts(url)
    in_flight = receive(url, 3, IN_FLIGHT_SECONDS)
    counts(url)
    outcome(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight[0]["ReceiptHandle"]))
    outcome(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight[0]["ReceiptHandle"]))  # again: accepted
    outcome(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle"))
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=in_flight[1]["ReceiptHandle"], VisibilityTimeout=0)
    counts(url)
    outcome(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=in_flight[2]["ReceiptHandle"], VisibilityTimeout=43201))
    outcome(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=in_flight[0]["ReceiptHandle"], VisibilityTimeout=5))  # deleted
    batch = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "kept", "ReceiptHandle": in_flight[2]["ReceiptHandle"], "VisibilityTimeout": IN_FLIGHT_SECONDS},
            {"Id": "unknown", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0},
        ],
    )
    seen.append([[entry["Id"] for entry in batch.get("Successful", [])], [entry["Code"] for entry in batch.get("Failed", [])]])
    counts(url)
    first_pass = receive(url, 10, 0)  # visible again at once: received once more
    counts(url)
    receive(url, 10, 0)
    receive(url, 10, 0)  # the third receive moves what reached maxReceiveCount to the DLQ
    counts(url)
    counts(dlq_url)
    outcome(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=first_pass[0]["ReceiptHandle"]))  # now in the DLQ
    from_dlq = receive(dlq_url, 10, IN_FLIGHT_SECONDS)
    outcome(lambda: sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=from_dlq[0]["ReceiptHandle"]))
    batch = sqs.delete_message_batch(
        QueueUrl=dlq_url,
        Entries=[{"Id": "old-handle", "ReceiptHandle": first_pass[1]["ReceiptHandle"]}, {"Id": "unknown", "ReceiptHandle": "not-a-handle"}],
    )  # a message moved to the DLQ keeps its earlier receipt handles there
    seen.append([[entry["Id"] for entry in batch.get("Successful", [])], [entry["Code"] for entry in batch.get("Failed", [])]])
    counts(dlq_url)
    sqs.purge_queue(QueueUrl=url)
    counts(url)
    sqs.send_message(QueueUrl=url, MessageBody="after-purge")
    counts(url)
    receive(url, 10, 0)
    return seen


def test_sqs_fix_behaves_exactly_as_moto():
    # GIVEN the same story of SQS calls, run on unpatched moto and on patched moto
    with mock_aws():
        expected = sqs_story()
    with patches.applied(), mock_aws():
        # WHEN it runs with the fix
        actual = sqs_story()
    # THEN every receive returns the same bodies in the same order, every count and every error matches
    assert actual == expected
    assert expected[0] == ["12", "0", "1"]  # the story does exercise visible, in-flight and delayed messages
    assert expected[2] == ["9", "3", "1"]
    assert [["kept"], ["ReceiptHandleIsInvalid"]] in expected and [["old-handle"], ["ReceiptHandleIsInvalid"]] in expected


def test_a_definition_is_parsed_once_and_its_program_serves_every_execution():
    # GIVEN the parse cache over ExecutionWorker._get_evaluation_entrypoint
    from types import SimpleNamespace

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def worker_for(definition):
        details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
        return SimpleNamespace(_evaluation_details=details)

    first = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    second = json.dumps({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Nope"}}})
    with patches.applied():
        entrypoint = ExecutionWorker._get_evaluation_entrypoint
        # WHEN executions of the same and of another definition ask for their program
        programs = [entrypoint(worker_for(definition)) for definition in (first, first, second)]
    # THEN the same definition yields the very same parsed program, another definition its own
    assert programs[0] is programs[1]
    assert programs[2] is not programs[0]
    assert type(programs[0]).__name__ == "Program"


def dynamodb_update_story() -> list:
    """UpdateItem calls reusing the same expressions with other values and items, plus invalid ones; every result."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="story",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    seen: list = []

    def update(pk, expression, values, names=None, condition=None):
        arguments = {"TableName": "story", "Key": {"pk": {"S": pk}}, "UpdateExpression": expression, "ReturnValues": "ALL_NEW"}
        arguments.update({"ExpressionAttributeValues": values} if values else {})
        arguments.update({"ExpressionAttributeNames": names} if names else {})
        arguments.update({"ConditionExpression": condition} if condition else {})
        try:
            seen.append(dynamodb.update_item(**arguments)["Attributes"])
        except ClientError as error:
            seen.append([error.response["Error"]["Code"], error.response["Error"]["Message"]])

    failed = "SET #status = :failed, reason = :reason, failedAt = if_not_exists(failedAt, :now) ADD tries :one"
    for pk, reason, now in (("a", "declined", "1"), ("b", "timeout", "2"), ("a", "again", "3")):
        update(pk, failed, {":failed": {"S": "FAILED"}, ":reason": {"S": reason}, ":now": {"S": now}, ":one": {"N": "1"}}, {"#status": "status"})
    update("a", "SET stock = :units REMOVE reason", {":units": {"N": "5"}})
    for units in ("2", "2", "9"):  # the third would go below zero: the condition fails
        update("a", "SET stock = stock - :units", {":units": {"N": units}}, condition="stock >= :units")
    update("b", "SET stock = stock - :units", {":units": {"N": "1"}})  # no stock attribute on b
    update("b", "SET pk = :key", {":key": {"S": "c"}})  # the key cannot be updated
    update("b", "SET a = :x, a = :x", {":x": {"S": "x"}})  # overlapping paths
    for _ in range(2):  # an invalid expression fails every time
        update("b", "SET = :x", {":x": {"S": "x"}})
    update("b", "SET stock = :undefined", {":x": {"S": "x"}})
    return seen


def test_dynamodb_update_fixes_behave_exactly_as_moto():
    # GIVEN the same UpdateItem calls, run on unpatched moto and on patched moto
    with mock_aws():
        expected = dynamodb_update_story()
    with patches.applied(), mock_aws():
        # WHEN they run with the fixes (parsed expressions reused, traversal decided per node class)
        actual = dynamodb_update_story()
    # THEN every resulting item and every error is the same
    assert actual == expected
    assert expected[2]["failedAt"] == {"S": "1"} and expected[2]["reason"] == {"S": "again"} and expected[2]["tries"] == {"N": "2"}
    assert [expected[4]["stock"], expected[5]["stock"]] == [{"N": "3"}, {"N": "1"}]
    assert expected[6][0] == "ConditionalCheckFailedException"
    assert [entry[0] for entry in expected[7:]] == ["ValidationException"] * 6
