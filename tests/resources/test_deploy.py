"""deploy(): dependency order, idempotence, convergence, interrupted runs (moto.mock_aws)."""

from __future__ import annotations

import json

import pytest

from blackfriday.deployment.deploy import Sources, deploy, prepare
from blackfriday.deployment.remove import remaining_resources, remove_stack
from blackfriday.domain import CATALOGUE
from blackfriday.errors import RunFailure
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from blackfriday.resources.base import Action
from blackfriday.resources.stepfunctions import workflow_policy
from blackfriday.stack_declaration import STACK
from tests.resources.helpers import fixture_definition

FUNCTIONS = len(FUNCTION_SPECS) + 1  # the workflow's and orders_api
# 5 topics, bucket, 5 queues, 4 subscriptions, notification, 3 tables, seed, per function (log group, role, function,
# errors alarm), workflow role, state machine, 7 alarms (2 DLQ, 2 oldest age, timed out, aborted, failure rate),
# the order API's REST API, dashboard
RESOURCE_COUNT = 5 + 1 + 5 + 4 + 1 + 3 + 1 + 4 * FUNCTIONS + 2 + 7 + 1 + 1


def actions(changes) -> dict[str, str]:
    return {change.resource: change.action.value for change in changes}


def test_first_deploy_creates_every_resource_in_dependency_order(gateway, names, fixture_sources):
    # GIVEN an empty account
    # WHEN the stack is deployed
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN every resource is created, once
    assert len(changes) == RESOURCE_COUNT
    assert {change.action for change in changes} == {Action.CREATED}
    order = [change.resource for change in changes]
    assert len(set(order)) == RESOURCE_COUNT
    # AND each thing comes after what it names: topic policy < queue policies < subscriptions < bucket notification,
    # DLQ < its queue, role < function, functions < workflow role < state machine
    position = {resource: index for index, resource in enumerate(order)}
    assert position[f"sns topic {STACK['topic:new_orders'].name(names)}"] < position[f"sqs queue {names.shipping_queue}"]
    assert position[f"sqs queue {STACK['queue:shipping_dlq'].name(names)}"] < position[f"sqs queue {names.shipping_queue}"]
    subscription = f"sns subscription {STACK['topic:new_orders'].name(names)} -> {names.shipping_queue}"
    notification = next(resource for resource in order if resource.startswith("s3 notification"))
    assert position[f"sqs queue {names.shipping_queue}"] < position[subscription] < position[notification]
    for spec in FUNCTION_SPECS:
        role = STACK[f"role:{spec.short_name}"].name(names)
        assert position[f"iam role {role}"] < position[f"lambda function {names.function(spec.short_name)}"]
        assert position[f"lambda function {names.function(spec.short_name)}"] < position[f"iam role {STACK['role:workflow'].name(names)}"]
    assert position[f"iam role {STACK['role:workflow'].name(names)}"] < position[f"state machine {names.state_machine}"]


def test_second_deploy_changes_nothing(gateway, names, fixture_sources):
    # GIVEN a deployed stack
    deploy(gateway, names, fixture_sources.sources)

    # WHEN it is deployed again from the same sources
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN every resource is reported unchanged
    assert len(changes) == RESOURCE_COUNT
    assert {change.action for change in changes} == {Action.UNCHANGED}


def test_changed_lambda_source_updates_only_that_function(gateway, names, fixture_sources):
    # GIVEN a deployed stack
    deploy(gateway, names, fixture_sources.sources)
    before = gateway.client("lambda").get_function(FunctionName=names.function("process_payment"))["Configuration"]["CodeSha256"]

    # WHEN one handler changes and the stack is deployed again
    fixture_sources.write_handler("process_payment", version=2)
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN only that function is updated, with the new code
    updated = {resource for resource, action in actions(changes).items() if action != "unchanged"}
    assert updated == {f"lambda function {names.function('process_payment')}"}
    assert actions(changes)[f"lambda function {names.function('process_payment')}"] == "updated"
    after = gateway.client("lambda").get_function(FunctionName=names.function("process_payment"))["Configuration"]["CodeSha256"]
    assert after != before


def test_changed_definition_updates_the_state_machine_and_its_role(gateway, names, fixture_sources):
    # GIVEN a deployed stack
    deploy(gateway, names, fixture_sources.sources)

    # WHEN the ASL gains a state that publishes to OrderErrors
    extra = {
        "Alert": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "${topic:order_errors}", "Message": "x"},
            "End": True,
        }
    }
    fixture_sources.write_definition(fixture_definition(extra))
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN the state machine is updated in place with the rendered definition, and its role may now publish there too
    updated = {resource for resource, action in actions(changes).items() if action != "unchanged"}
    assert updated == {f"state machine {names.state_machine}", f"iam role {STACK['role:workflow'].name(names)}"}
    sfn = gateway.client("stepfunctions")
    deployed = json.loads(sfn.describe_state_machine(stateMachineArn=names.state_machine_arn)["definition"])
    assert deployed["States"]["Alert"]["Parameters"]["TopicArn"] == STACK["topic:order_errors"].arn(names)
    workflow_role = STACK["role:workflow"].name(names)
    role_policy = gateway.client("iam").get_role_policy(RoleName=workflow_role, PolicyName="least-privilege")["PolicyDocument"]
    assert role_policy == workflow_policy(names, json.dumps(deployed))
    publish = next(statement for statement in role_policy["Statement"] if statement["Action"] == "sns:Publish")
    assert publish["Resource"] == sorted([STACK["topic:order_events"].arn(names), STACK["topic:order_errors"].arn(names)])


def test_interrupted_deploy_is_completed_by_the_next_and_removed_by_teardown(gateway, names, fixture_sources):
    # GIVEN a deploy interrupted (Ctrl-C) right after the first Lambda function was created
    def interrupt_after_first_function(change):
        if change.kind == "lambda function":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deploy(gateway, names, fixture_sources.sources, report=interrupt_after_first_function)

    # WHEN setup runs again
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN what existed is unchanged and the rest is created
    first_function = f"lambda function {names.function(FUNCTION_SPECS[0].short_name)}"
    order = [change.resource for change in changes]
    done_before = order[: order.index(first_function) + 1]
    assert {actions(changes)[resource] for resource in done_before} == {"unchanged"}
    assert {actions(changes)[resource] for resource in order[len(done_before) :]} == {"created"}

    # AND teardown removes all of it
    remove_stack(gateway, names)
    assert remaining_resources(gateway, names) == []


def test_queue_with_another_redrive_policy_is_converged(gateway, names, fixture_sources):
    # GIVEN a ShippingQueue that exists with another redrive policy and visibility timeout
    sqs = gateway.client("sqs")
    sqs.create_queue(QueueName=STACK["queue:shipping_dlq"].name(names))
    url = sqs.create_queue(
        QueueName=names.shipping_queue,
        Attributes={
            "VisibilityTimeout": "5",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": STACK["queue:shipping_dlq"].arn(names), "maxReceiveCount": 10}),
        },
    )["QueueUrl"]

    # WHEN setup runs
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN both are reported updated and carry the design's settings
    assert actions(changes)[f"sqs queue {names.shipping_queue}"] == "updated"
    assert actions(changes)[f"sqs queue {STACK['queue:shipping_dlq'].name(names)}"] == "updated"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": STACK["queue:shipping_dlq"].arn(names), "maxReceiveCount": 3}
    assert attributes["VisibilityTimeout"] == "60"
    dlq_url = sqs.get_queue_url(QueueName=STACK["queue:shipping_dlq"].name(names))["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["MessageRetentionPeriod"])["Attributes"] == {
        "MessageRetentionPeriod": "1209600"
    }


def test_table_with_another_key_stops_the_run_naming_it(gateway, names, fixture_sources):
    # GIVEN an Orders table keyed on something else
    gateway.client("dynamodb").create_table(
        TableName=STACK["table:orders"].name(names),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # WHEN setup runs THEN it stops with a message naming the table and both keys
    with pytest.raises(RunFailure) as failure:
        deploy(gateway, names, fixture_sources.sources)
    assert str(failure.value) == (
        f"DynamoDB table {STACK['table:orders'].name(names)} exists with key (('id', 'HASH'),) instead of (('orderId', 'HASH'),) "
        "(string keys); a table's key cannot change: delete it (python teardown.py) or choose another --prefix"
    )


def test_seeding_again_never_resets_stock(gateway, names, fixture_sources):
    # GIVEN a deployed stack where a doorbuster sold 7 units and one SKU is missing
    deploy(gateway, names, fixture_sources.sources)
    dynamodb = gateway.client("dynamodb")
    sold, missing = CATALOGUE[0], CATALOGUE[1]
    dynamodb.update_item(
        TableName=STACK["table:inventory"].name(names),
        Key={"sku": {"S": sold.sku}},
        UpdateExpression="SET stock = stock - :sold",
        ExpressionAttributeValues={":sold": {"N": "7"}},
    )
    dynamodb.delete_item(TableName=STACK["table:inventory"].name(names), Key={"sku": {"S": missing.sku}})

    # WHEN setup runs again
    changes = deploy(gateway, names, fixture_sources.sources)

    # THEN the seed adds only the missing SKU and keeps the sold stock
    assert actions(changes)[f"inventory seed {len(CATALOGUE)} SKUs"] == "updated"
    stock = {item["sku"]["S"]: int(item["stock"]["N"]) for item in dynamodb.scan(TableName=STACK["table:inventory"].name(names))["Items"]}
    assert stock == {product.sku: product.initial_stock for product in CATALOGUE} | {sold.sku: sold.initial_stock - 7}


def test_missing_handler_stops_before_anything_is_touched(gateway, names, fixture_sources):
    # GIVEN a checkout without one handler
    (fixture_sources.lambdas_dir / "generate_receipt.py").unlink()

    # WHEN setup runs THEN it names the missing file and created nothing
    with pytest.raises(RunFailure) as failure:
        deploy(gateway, names, fixture_sources.sources)
    assert (
        str(failure.value)
        == f"the handler of Lambda generate_receipt is missing: expected {fixture_sources.lambdas_dir / 'generate_receipt.py'}"
    )
    assert gateway.client("sns").list_topics()["Topics"] == []


def test_the_project_sources_prepare(names):
    # GIVEN the real handlers and ASL of the repository
    # WHEN they are packaged and rendered
    artefacts = prepare(names, Sources.project())

    # THEN every function (the order API's too) has a package and the workflow role may invoke exactly the seven workflow functions
    assert sorted(artefacts.zips) == sorted(spec.short_name for spec in (*FUNCTION_SPECS, ORDERS_API_FUNCTION))
    invoke = next(
        statement for statement in artefacts.policies["role:workflow"]["Statement"] if statement["Action"] == "lambda:InvokeFunction"
    )
    assert invoke["Resource"] == sorted(names.function_arn(spec.short_name) for spec in FUNCTION_SPECS)
