"""Plan, then apply: exact plans from read-only calls, and a stack grown by one manifest entry (moto.mock_aws)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from blackfriday.deployment.deploy import Deployment, deploy
from blackfriday.deployment.remove import remaining_resources, removal_plan, remove_stack
from blackfriday.deployment.stack import describe_stack
from blackfriday.resources.base import CannotConverge
from blackfriday.resources.sqs import Queue
from blackfriday.stack_declaration import STACK, work_queue
from tests.resources.helpers import ACCOUNT, READ_ONLY_OPERATION, fixture_definition, record_calls

RETURNS = STACK.plus(*work_queue("returns", "ReturnsQueue", "ReturnsDLQ", "topic:new_orders"))


def plan_of(gateway, names, sources, manifest=STACK) -> list[tuple[str, str, tuple[str, ...]]]:
    """(resource, planned action, differences) of every resource, in the plan's order."""
    plan = Deployment.prepare(gateway, names, sources.sources, manifest=manifest).plan()
    return [(step.change.resource, step.change.action.planned, step.change.differences) for step in plan.steps]


def every_resource(names, manifest=STACK) -> list[str]:
    return [manifest.label(resource, names) for resource in manifest]


def test_on_an_empty_account_every_resource_is_create(gateway, names, fixture_sources):
    # GIVEN an empty account WHEN the stack is planned
    planned = plan_of(gateway, names, fixture_sources)

    # THEN every resource of the manifest, in dependency order, is to be created, and nothing exists afterwards
    assert planned == [(resource, "create", ()) for resource in every_resource(names)]
    assert len(planned) == 67
    assert gateway.client("sns").list_topics()["Topics"] == []


def test_after_setup_every_resource_is_unchanged(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN it is planned again
    deploy(gateway, names, fixture_sources.sources)

    # THEN nothing would change
    assert plan_of(gateway, names, fixture_sources) == [(resource, "unchanged", ()) for resource in every_resource(names)]


def test_a_changed_handler_plans_an_update_of_that_function_only_naming_its_code_hash(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN one handler changes
    deploy(gateway, names, fixture_sources.sources)
    fixture_sources.write_handler("process_payment", version=2)

    # THEN the plan updates only that function, because its code hash differs
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources)
        if action != "unchanged"
    ]
    assert changed == [(f"lambda function {names.function('process_payment')}", "update", ("code hash",))]


def test_a_changed_asl_plans_an_update_of_the_state_machine_only(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN the ASL changes without needing another permission (a new comment)
    deploy(gateway, names, fixture_sources.sources)
    fixture_sources.write_definition({**fixture_definition(), "Comment": "reviewed on ${bucket}"})

    # THEN the plan updates only the state machine, because its ASL differs
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources)
        if action != "unchanged"
    ]
    assert changed == [(f"state machine {names.state_machine}", "update", ("ASL",))]


def test_an_asl_that_needs_another_permission_plans_the_role_policy_too(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN the ASL gains a publish to OrderErrors
    deploy(gateway, names, fixture_sources.sources)
    alert = {
        "Alert": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "${topic:order_errors}", "Message": "x"},
            "End": True,
        }
    }
    fixture_sources.write_definition(fixture_definition(alert))

    # THEN the workflow role's policy and the state machine's ASL are to be updated, in that order
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources)
        if action != "unchanged"
    ]
    assert changed == [
        (f"iam role {STACK['role:workflow'].name(names)}", "update", ("policy",)),
        (f"state machine {names.state_machine}", "update", ("ASL",)),
    ]


def test_changed_settings_are_named(gateway, names, fixture_sources):
    # GIVEN a deployed stack whose ShippingDLQ retention, a function's timeout and an alarm's threshold were changed by hand
    # (a queue without a policy: moto 5.2.5's SetQueueAttributes drops the Policy it is not given, AWS keeps it)
    deploy(gateway, names, fixture_sources.sources)
    sqs = gateway.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=STACK["queue:shipping_dlq"].name(names))["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"MessageRetentionPeriod": "60"})
    gateway.client("lambda").update_function_configuration(FunctionName=names.function("validate_order"), Timeout=3)
    alarm = gateway.client("cloudwatch").describe_alarms(AlarmNames=[names.alarm("workflow-timedout")])["MetricAlarms"][0]
    fields = (
        "AlarmName",
        "AlarmDescription",
        "Namespace",
        "MetricName",
        "Dimensions",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "ComparisonOperator",
        "TreatMissingData",
        "AlarmActions",
        "OKActions",
    )
    gateway.client("cloudwatch").put_metric_alarm(**{field: alarm[field] for field in fields}, Threshold=5)

    # WHEN the stack is planned THEN exactly those three are to be updated, each naming what differs
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources)
        if action != "unchanged"
    ]
    assert changed == [
        (f"sqs queue {STACK['queue:shipping_dlq'].name(names)}", "update", ("attributes: MessageRetentionPeriod",)),
        (f"lambda function {names.function('validate_order')}", "update", ("configuration: Timeout",)),
        (f"alarm {names.alarm('workflow-timedout')}", "update", ("configuration: Threshold",)),
    ]


@pytest.mark.parametrize("deployed", [False, True], ids=["empty account", "deployed stack"])
def test_a_plan_makes_only_read_only_calls(gateway, names, fixture_sources, deployed):
    # GIVEN an empty account, or a deployed stack
    if deployed:
        deploy(gateway, names, fixture_sources.sources)
    deployment = Deployment.prepare(gateway, names, fixture_sources.sources)

    # WHEN the plan is computed, every AWS call recorded
    calls = record_calls(gateway)
    deployment.plan()

    # THEN nothing it called changes anything; on an empty account it asked once per resource (67), else more (113: a
    # function asks 6 times with its log group and role, a topic and an alarm once each, the REST API 4 times: its id, routes,
    # stage and the permission)
    assert [call for call in calls if not READ_ONLY_OPERATION.match(call)] == []
    assert len(calls) == (113 if deployed else len(STACK.resources))


def test_a_table_with_another_key_is_named_and_stops_the_run_before_anything_is_touched(gateway, names, fixture_sources):
    # GIVEN an Orders table keyed on something else
    gateway.client("dynamodb").create_table(
        TableName=STACK["table:orders"].name(names),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    deployment = Deployment.prepare(gateway, names, fixture_sources.sources)

    # WHEN the stack is planned THEN that table cannot be converged, and says why
    plan = deployment.plan()
    assert plan.problems == [
        f"DynamoDB table {STACK['table:orders'].name(names)} exists with key (('id', 'HASH'),) instead of (('orderId', 'HASH'),) "
        "(string keys); a table's key cannot change: delete it (python teardown.py) or choose another --prefix"
    ]
    # AND applying it stops before the first resource is created
    with pytest.raises(CannotConverge):
        deployment.apply(plan)
    assert gateway.client("sns").list_topics()["Topics"] == []


def test_a_queue_whose_dead_letters_go_to_another_stacks_queue_cannot_be_converged(gateway, names, fixture_sources):
    # GIVEN a ShippingQueue that sends its failed messages to a queue of another stack
    sqs = gateway.client("sqs")
    sqs.create_queue(QueueName="other-ShippingDLQ")
    other = f"arn:aws:sqs:us-east-1:{ACCOUNT}:other-ShippingDLQ"
    sqs.create_queue(
        QueueName=names.shipping_queue, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": other, "maxReceiveCount": 5})}
    )

    # WHEN the stack is planned THEN the queue is named with the reason
    plan = Deployment.prepare(gateway, names, fixture_sources.sources).plan()
    assert plan.problems == [
        f"sqs queue {names.shipping_queue} sends its failed messages to {other}, which is not a queue of the stack 'bftest': "
        "another stack may use this queue; choose another --prefix or remove it"
    ]


def test_a_bucket_of_another_account_cannot_be_converged(gateway, names, fixture_sources):
    # GIVEN a bucket name that answers 403 (it exists, in another account)
    def forbidden(**kwargs):
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadBucket")

    gateway.client("s3").meta.events.register("before-call.s3.HeadBucket", forbidden)

    # WHEN the stack is planned THEN the bucket is named with the reason
    plan = Deployment.prepare(gateway, names, fixture_sources.sources).plan()
    assert plan.problems == [f"bucket {names.bucket} exists but belongs to another account: choose another --prefix"]


def test_one_more_queue_with_its_dlq_is_one_manifest_entry(gateway, names, fixture_sources):
    # GIVEN the stack deployed, and a manifest with one more entry: a ReturnsQueue with its DLQ, fed by NewOrderEvents
    deploy(gateway, names, fixture_sources.sources)

    # WHEN that manifest is planned THEN the queue, its DLQ, subscription and alarms are to be created, the dashboard shows them
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources, RETURNS)
        if action != "unchanged"
    ]
    assert changed == [
        (f"sqs queue {names.prefix}-ReturnsDLQ", "create", ()),
        (f"sqs queue {names.prefix}-ReturnsQueue", "create", ()),
        (f"dashboard {STACK['dashboard'].name(names)}", "update", ("configuration",)),  # once every queue it shows exists
        (f"sns subscription {STACK['topic:new_orders'].name(names)} -> {names.prefix}-ReturnsQueue", "create", ()),
        (f"alarm {names.alarm('dlq-returns')}", "create", ()),
        (f"alarm {names.alarm('age-returns')}", "create", ()),
    ]

    # WHEN it is deployed THEN the plan is unchanged and describe_stack finds the new queue with its DLQ
    deploy(gateway, names, fixture_sources.sources, manifest=RETURNS)
    assert {action for _, action, _ in plan_of(gateway, names, fixture_sources, RETURNS)} == {"unchanged"}
    sqs = gateway.client("sqs")
    returns = describe_stack(gateway, names, RETURNS).queues["returns"]
    attributes = sqs.get_queue_attributes(QueueUrl=returns.url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": returns.dlq_arn, "maxReceiveCount": 3}
    assert (returns.arn, returns.dlq_arn) == (RETURNS["queue:returns"].arn(names), RETURNS["queue:returns_dlq"].arn(names))
    assert isinstance(RETURNS["queue:returns"], Queue) and sorted(describe_stack(gateway, names, RETURNS).queues) == [
        "analytics",
        "returns",
        "shipping",
    ]

    # AND teardown of that manifest plans and removes it with everything else
    assert f"sqs queue {names.prefix}-ReturnsQueue" in removal_plan(gateway, names, RETURNS)
    deleted = remove_stack(gateway, names, manifest=RETURNS)
    assert {f"sqs queue {names.prefix}-ReturnsQueue", f"sqs queue {names.prefix}-ReturnsDLQ", f"alarm {names.alarm('age-returns')}"} <= set(
        deleted
    )
    assert remaining_resources(gateway, names, RETURNS) == []


def test_removal_plan_lists_what_teardown_deletes_in_reverse_dependency_order(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN the removal is planned
    deploy(gateway, names, fixture_sources.sources)
    calls = record_calls(gateway)
    planned = removal_plan(gateway, names)

    # THEN it lists every resource with a life of its own (not the notification and seed), users first, with read-only calls
    owned = [resource for resource in every_resource(names) if not resource.startswith(("s3 notification", "inventory seed"))]
    assert planned == list(reversed(owned))
    assert [call for call in calls if not READ_ONLY_OPERATION.match(call)] == []
    assert removal_plan(gateway, names.__class__("bfother", names.account, names.region)) == []


def test_the_order_api_is_created_then_unchanged_a_hand_change_is_named_and_teardown_removes_it(gateway, names, fixture_sources):
    api = f"rest api {names.name('OrdersApi')}"
    apigateway = gateway.client("apigateway")

    # GIVEN an empty account THEN the plan creates the REST API after its function
    planned = [resource for resource, _, _ in plan_of(gateway, names, fixture_sources)]
    assert planned.index(f"lambda function {names.function('orders_api')}") < planned.index(api)

    # GIVEN a deployed stack whose stage throttling was changed by hand and one route deleted
    deploy(gateway, names, fixture_sources.sources)
    (api_id,) = [item["id"] for item in apigateway.get_rest_apis()["items"]]
    receipt = next(item for item in apigateway.get_resources(restApiId=api_id)["items"] if item["path"] == "/orders/{orderId}/receipt")
    apigateway.delete_resource(restApiId=api_id, resourceId=receipt["id"])
    apigateway.update_stage(
        restApiId=api_id, stageName="prod", patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "5"}]
    )

    # WHEN planned THEN only the API is to be updated, naming both differences
    changed = [
        (resource, action, differences)
        for resource, action, differences in plan_of(gateway, names, fixture_sources)
        if action != "unchanged"
    ]
    assert changed == [
        (api, "update", ("resource /orders/{orderId}/receipt missing", "stage prod throttling 5.0/s burst 200, want 100.0/s burst 200"))
    ]

    # WHEN setup runs THEN it converges the same API, and the next plan is all unchanged
    deploy(gateway, names, fixture_sources.sources)
    assert [item["id"] for item in apigateway.get_rest_apis()["items"]] == [api_id]
    assert plan_of(gateway, names, fixture_sources) == [(resource, "unchanged", ()) for resource in every_resource(names)]

    # WHEN the stack is removed THEN the API was deleted (before its function) and no REST API remains
    deleted = remove_stack(gateway, names)
    assert deleted.index(api) < deleted.index(f"lambda function {names.function('orders_api')}")
    assert apigateway.get_rest_apis()["items"] == []
    assert remaining_resources(gateway, names) == []
