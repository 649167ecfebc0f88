"""What the Lambda runtime writes into moto's CloudWatch Logs backend."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from blackfriday.emulator.fixes import logs

REGION = "us-east-1"
ACCOUNT = "123456789012"


@mock_aws
def test_log_events_go_to_their_stream_whose_group_and_stream_are_created_once():
    # WHEN two batches are written to a stream of a group that does not exist yet
    now = int(time.time() * 1000)
    logs.put_log_events(ACCOUNT, REGION, "/aws/lambda/orders", "2026/11/27/[$LATEST]abc", [{"timestamp": now, "message": "START"}])
    logs.put_log_events(ACCOUNT, REGION, "/aws/lambda/orders", "2026/11/27/[$LATEST]abc", [{"timestamp": now + 1, "message": "END"}])
    # THEN the group and the stream exist once, with both events in order
    client = boto3.client("logs", region_name=REGION)
    assert [group["logGroupName"] for group in client.describe_log_groups()["logGroups"]] == ["/aws/lambda/orders"]
    streams = client.describe_log_streams(logGroupName="/aws/lambda/orders")["logStreams"]
    assert [stream["logStreamName"] for stream in streams] == ["2026/11/27/[$LATEST]abc"]
    events = client.get_log_events(logGroupName="/aws/lambda/orders", logStreamName="2026/11/27/[$LATEST]abc", startFromHead=True)["events"]
    assert [(event["timestamp"], event["message"]) for event in events] == [(now, "START"), (now + 1, "END")]
