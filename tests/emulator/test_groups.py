"""Which process serves which service, and how moto's own calls are told apart by service."""

from __future__ import annotations

import pytest

from blackfriday.emulator import groups, in_process


def test_every_grouped_service_has_one_process_and_one_endpoint_variable():
    # GIVEN the groups' URLs
    urls = {"messaging": "http://127.0.0.1:1", "dynamodb": "http://127.0.0.1:2", "workflow": "http://127.0.0.1:3"}
    # WHEN the endpoint map and the workers' environment are built from them
    endpoints = groups.endpoint_map(urls)
    environment = groups.endpoint_environment(endpoints)
    # THEN each grouped service points at its group's process, through boto3's service-specific variable
    assert endpoints == {
        "s3": urls["messaging"], "sns": urls["messaging"], "sqs": urls["messaging"], "events": urls["messaging"],
        "dynamodb": urls["dynamodb"], "dynamodbstreams": urls["dynamodb"],
        "stepfunctions": urls["workflow"], "lambda": urls["workflow"], "logs": urls["workflow"], "iam": urls["workflow"],
    }  # fmt: skip
    assert environment["AWS_ENDPOINT_URL_SFN"] == urls["workflow"]
    assert environment["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] == urls["workflow"]
    assert environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] == urls["dynamodb"]
    assert environment["AWS_ENDPOINT_URL_EVENTBRIDGE"] == urls["messaging"]


@pytest.mark.parametrize(
    ("event_name", "client"),
    [
        ("request-created.sfn.StartExecution", "stepfunctions"),
        ("before-send.lambda.Invoke", "lambda"),
        ("before-send.cloudwatch-logs.PutLogEvents", "logs"),
        ("request-created.dynamodb-streams.GetRecords", "dynamodbstreams"),
        ("request-created.eventbridge.PutEvents", "events"),
        ("request-created.sts.GetCallerIdentity", None),
    ],
)
def test_botocore_event_names_map_to_the_gateways_client_names(event_name, client):
    assert in_process.event_client(event_name) == client
