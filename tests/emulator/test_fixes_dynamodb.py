"""The DynamoDB fixes: transactions back up items, not tables; UpdateItem's cached parsing; same outcomes as moto's."""

from __future__ import annotations

import copy
import inspect

import boto3
import moto.dynamodb.models as dynamodb_models
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from blackfriday.emulator import fixes
from blackfriday.emulator.fixes.dynamodb import _CopyKeepingTables, item_level_backup

REGION = "us-east-1"
ORIGINAL = dynamodb_models.DynamoDBBackend.transact_write_items


def test_moto_still_backs_up_whole_tables_with_copy_deepcopy_and_restores_them():
    # GIVEN moto's transact_write_items, which the fix relies on: its backup goes through the
    # module's `copy.deepcopy` of each Table, and its restore puts those objects back
    source = inspect.getsource(ORIGINAL)
    assert "original_table_state[table_name] = copy.deepcopy(\n                    self.tables[table_name]\n                )" in source
    assert "self.tables[table_name] = original_table_state[table_name]" in source
    assert dynamodb_models.copy is copy or isinstance(dynamodb_models.copy, _CopyKeepingTables)


@pytest.fixture
def dynamodb(monkeypatch):
    deep_copied_tables = []

    class CountingShim(_CopyKeepingTables):
        def deepcopy(self, value, memo=None):
            result = super().deepcopy(value, memo)
            if isinstance(value, Table) and result is not value:
                deep_copied_tables.append(value.name)
            return result

    monkeypatch.setattr(dynamodb_models, "copy", CountingShim(Table))
    monkeypatch.setattr(dynamodb_models.DynamoDBBackend, "transact_write_items", item_level_backup(ORIGINAL))
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, keys in (("Inventory", ["sku"]), ("Demand", ["pk", "sk"])):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        client.put_item(TableName="Inventory", Item={"sku": {"S": "A"}, "stock": {"N": "5"}})
        client.put_item(TableName="Inventory", Item={"sku": {"S": "B"}, "stock": {"N": "0"}})
        client.deep_copied_tables = deep_copied_tables
        yield client


def take(sku, units=1):
    return {
        "Update": {
            "TableName": "Inventory",
            "Key": {"sku": {"S": sku}},
            "UpdateExpression": "SET stock = stock - :n",
            "ConditionExpression": "stock >= :n",
            "ExpressionAttributeValues": {":n": {"N": str(units)}},
        }
    }


def marker(order_id):
    return {
        "Put": {
            "TableName": "Demand",
            "Item": {"pk": {"S": f"seen#{order_id}"}, "sk": {"S": "-"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def stock(client, sku):
    return client.get_item(TableName="Inventory", Key={"sku": {"S": sku}})["Item"]["stock"]["N"]


def test_a_cancelled_transaction_leaves_every_touched_item_as_it_was(dynamodb):
    # GIVEN an order that would take A (in stock), put a new marker, and take B (sold out)
    # WHEN it runs
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[take("A"), marker("o-1"), take("B")])
    # THEN it is cancelled on B alone, A keeps its stock, the marker does not exist, no table was copied
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]] == ["None", "None", "ConditionalCheckFailed"]
    assert (stock(dynamodb, "A"), stock(dynamodb, "B")) == ("5", "0")
    assert "Item" not in dynamodb.get_item(TableName="Demand", Key={"pk": {"S": "seen#o-1"}, "sk": {"S": "-"}})
    assert dynamodb.deep_copied_tables == []


def test_a_successful_transaction_applies_every_write(dynamodb):
    dynamodb.transact_write_items(TransactItems=[take("A", 2), marker("o-2")])
    assert stock(dynamodb, "A") == "3"
    assert "Item" in dynamodb.get_item(TableName="Demand", Key={"pk": {"S": "seen#o-2"}, "sk": {"S": "-"}})
    # AND a repeat of the same order is refused by its marker, taking nothing more
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[take("A", 2), marker("o-2")])
    assert stock(dynamodb, "A") == "3"
    assert dynamodb.deep_copied_tables == []


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
        update(
            pk,
            failed,
            {":failed": {"S": "FAILED"}, ":reason": {"S": reason}, ":now": {"S": now}, ":one": {"N": "1"}},
            {"#status": "status"},
        )
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
    with fixes.applied(), mock_aws():
        # WHEN they run with the fixes (parsed expressions reused, traversal decided per node class)
        actual = dynamodb_update_story()
    # THEN every resulting item and every error is the same
    assert actual == expected
    assert expected[2]["failedAt"] == {"S": "1"} and expected[2]["reason"] == {"S": "again"} and expected[2]["tries"] == {"N": "2"}
    assert [expected[4]["stock"], expected[5]["stock"]] == [{"N": "3"}, {"N": "1"}]
    assert expected[6][0] == "ConditionalCheckFailedException"
    assert [entry[0] for entry in expected[7:]] == ["ValidationException"] * 6


# --- The transaction fix on the real emulator: what stock moto's whole-table backup did, and AWS does -------


@pytest.fixture
def streamed_inventory(emulator_gateway) -> tuple[object, str, str]:
    """(DynamoDB client, table name, stream ARN): A has 5 in stock, B none, C is a discontinued SKU."""
    client = emulator_gateway.client("dynamodb")
    name = f"{emulator_gateway.target.prefix}-Inventory"
    description = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    for sku, units in (("A", "5"), ("B", "0"), ("C", "1")):
        client.put_item(TableName=name, Item={"sku": {"S": sku}, "stock": {"N": units}})
    return client, name, description["LatestStreamArn"]


def stream_events(gateway, stream_arn: str) -> list[tuple[str, str]]:
    streams = gateway.client("dynamodbstreams")
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return [
        (record["eventName"], record["dynamodb"]["Keys"]["sku"]["S"]) for record in streams.get_records(ShardIterator=iterator)["Records"]
    ]


def in_table(table: str, operation: dict) -> dict:
    ((kind, body),) = operation.items()
    return {kind: {**body, "TableName": table}}


@pytest.mark.emulator
def test_a_cancelled_transaction_leaves_nothing_on_the_table_stream(emulator_gateway, streamed_inventory):
    # GIVEN a streamed table with three items (three INSERT records)
    client, table, stream_arn = streamed_inventory
    before = stream_events(emulator_gateway, stream_arn)
    # WHEN a transaction that modifies A, inserts D and removes C is cancelled by B's condition
    new_sku = {"Put": {"Item": {"sku": {"S": "D"}, "stock": {"N": "1"}}}}
    discontinue = {"Delete": {"Key": {"sku": {"S": "C"}}}}
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[in_table(table, take("A")), in_table(table, new_sku), in_table(table, discontinue), in_table(table, take("B"))]
        )
    # THEN the stream holds only the three INSERTs, as on AWS: no MODIFY, INSERT or REMOVE of the cancelled writes
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert before == [("INSERT", "A"), ("INSERT", "B"), ("INSERT", "C")]
    assert stream_events(emulator_gateway, stream_arn) == before
    # AND a transaction that succeeds still streams its writes
    client.transact_write_items(TransactItems=[in_table(table, take("A")), in_table(table, discontinue)])
    assert stream_events(emulator_gateway, stream_arn) == before + [("MODIFY", "A"), ("REMOVE", "C")]


@pytest.mark.emulator
def test_an_operation_naming_its_table_by_arn_is_rolled_back_too(emulator_gateway, streamed_inventory):
    # GIVEN the table, named by its ARN in one operation and by its name in the other
    client, table, _ = streamed_inventory
    table_arn = client.describe_table(TableName=table)["Table"]["TableArn"]
    # WHEN a transaction takes A (table by ARN) and B (sold out) and is cancelled
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=[in_table(table_arn, take("A")), in_table(table, take("B"))])
    # THEN A keeps its stock
    assert [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert client.get_item(TableName=table, Key={"sku": {"S": "A"}})["Item"]["stock"] == {"N": "5"}
