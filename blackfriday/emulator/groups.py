"""Which emulator process serves which AWS service (`fixes.core.backend_for` tells which service a request is for).

moto's backends reach into each other in memory, so services that do must live in one process:
- messaging: S3 notifications go to SNS, SQS and EventBridge in-process, SNS delivers to SQS in-process;
- dynamodb: tables and their streams, and the transaction fix's rollback;
- workflow: the Step Functions interpreter and the Lambda runtime it invokes, Lambda reading its role
  from IAM (`put_function`) and writing its logs to CloudWatch Logs;
- the front process serves everything else (STS, CloudWatch, API Gateway, ...) and forwards a request
  for a group's service to that group, so one port still answers every service.

Clients that know the layout (the project's gateway, the Lambda workers, the Step Functions
interpreter) reach each group's port directly through boto3's service-specific endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceGroup:
    name: str
    clients: tuple[str, ...]  # boto3 client names, the keys of the endpoint map
    backends: frozenset[str]  # moto backend names, as moto's dispatcher resolves a request


MESSAGING = ServiceGroup("messaging", ("s3", "sns", "sqs", "events"), frozenset({"s3", "sns", "sqs", "events"}))
DYNAMODB = ServiceGroup("dynamodb", ("dynamodb", "dynamodbstreams"), frozenset({"dynamodb", "dynamodb_v20111205", "dynamodbstreams"}))
WORKFLOW = ServiceGroup("workflow", ("stepfunctions", "lambda", "logs", "iam"), frozenset({"stepfunctions", "awslambda", "logs", "iam"}))
GROUPS = (MESSAGING, DYNAMODB, WORKFLOW)
GROUPED, SINGLE = 4, 1  # process modes: the front process and one per group, or every service in one
FRONT = "front"  # the process on the public port: every other service, and the way in for anyone else
ALL_SERVICES = "all"  # the single-process mode: the front process serves every service itself
GROUPS_BY_NAME = {group.name: group for group in GROUPS}

# boto3 reads AWS_ENDPOINT_URL_<service id> (botocore >= 1.31); the id is the service model's serviceId.
ENDPOINT_VARIABLES = {
    "s3": "AWS_ENDPOINT_URL_S3",
    "sns": "AWS_ENDPOINT_URL_SNS",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "events": "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "dynamodbstreams": "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
    "stepfunctions": "AWS_ENDPOINT_URL_SFN",
    "lambda": "AWS_ENDPOINT_URL_LAMBDA",
    "logs": "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "iam": "AWS_ENDPOINT_URL_IAM",
}


def endpoint_map(group_urls: dict[str, str]) -> dict[str, str]:
    """boto3 client name -> the URL of the process that serves it, for every grouped service."""
    return {client: group_urls[group.name] for group in GROUPS if group.name in group_urls for client in group.clients}


def endpoint_environment(endpoints: dict[str, str]) -> dict[str, str]:
    """The AWS_ENDPOINT_URL_<SERVICE> variables that send a process's boto3 clients straight to each group."""
    return {ENDPOINT_VARIABLES[client]: url for client, url in endpoints.items()}


def group_of_backend(backend: str) -> ServiceGroup | None:
    for group in GROUPS:
        if backend in group.backends:
            return group
    return None
