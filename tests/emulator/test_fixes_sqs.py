"""The SQS queue index: patched moto behaves exactly as moto does."""

from __future__ import annotations

import json

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from blackfriday.emulator import fixes

REGION = "us-east-1"
IN_FLIGHT_SECONDS = 300
FAR_DELAY_SECONDS = 900


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
    outcome(
        lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=in_flight[0]["ReceiptHandle"], VisibilityTimeout=5)
    )  # deleted
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
    with fixes.applied(), mock_aws():
        # WHEN it runs with the fix
        actual = sqs_story()
    # THEN every receive returns the same bodies in the same order, every count and every error matches
    assert actual == expected
    assert expected[0] == ["12", "0", "1"]  # the story does exercise visible, in-flight and delayed messages
    assert expected[2] == ["9", "3", "1"]
    assert [["kept"], ["ReceiptHandleIsInvalid"]] in expected and [["old-handle"], ["ReceiptHandleIsInvalid"]] in expected


def policy_after_an_update_that_does_not_name_it() -> list:
    """A queue created with a policy, then SetQueueAttributes of its visibility timeout alone, then of an empty policy."""
    sqs = boto3.client("sqs", region_name=REGION)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                                 "Action": "sqs:SendMessage", "Resource": "*"}]})  # fmt: skip
    url = sqs.create_queue(QueueName="with-policy", Attributes={"Policy": policy})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
    kept = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    removed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})  # none to show: no key
    return [json.loads(kept["Policy"]) if "Policy" in kept else None, kept["VisibilityTimeout"], removed.get("Policy")]


def test_set_queue_attributes_keeps_the_policy_it_does_not_name():
    # GIVEN a queue with an access policy WHEN only its visibility timeout is set
    with fixes.applied(), mock_aws():
        policy, visibility, after_removal = policy_after_an_update_that_does_not_name_it()
    # THEN the policy is still there (as on AWS), the timeout changed, and an empty Policy still removes it
    assert policy["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    assert (visibility, after_removal) == ("45", None)
    # (stock moto drops the policy: the difference this fix removes)
    with mock_aws():
        assert policy_after_an_update_that_does_not_name_it()[0] is None
