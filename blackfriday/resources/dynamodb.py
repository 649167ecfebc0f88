"""DynamoDB tables (on-demand) and the inventory seed: the kinds, their operations, the calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from blackfriday.domain import Product
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, CannotConverge
from blackfriday.resources.kinds import ABSENT, Listing, Operations, operates_on, reported_deletion

ON_DEMAND = "PAY_PER_REQUEST"
BATCH_GET_LIMIT = 100  # BatchGetItem keys per request
WAITER_CONFIG = {"Delay": 2, "MaxAttempts": 150}  # botocore's default polls every 20 s


Keys = tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE), every key a string


@dataclass(frozen=True, kw_only=True)
class Table(Resource):
    kind: ClassVar[str] = "dynamodb table"
    thing: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE), every key a string
    environment: str | None = None  # the variable that carries its name into Lambdas

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.table_arn(self.name(names))

    def reference(self, names: StackNames) -> str:
        return self.name(names)


@dataclass(frozen=True, kw_only=True)
class InventorySeed(Resource):
    kind: ClassVar[str] = "inventory seed"
    table: str
    catalogue: tuple[Product, ...]

    def name(self, names: StackNames) -> str:
        return f"{len(self.catalogue)} SKUs"

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.table,)


def _key_schema(keys: Keys) -> list[dict]:
    return [{"AttributeName": attribute, "KeyType": kind} for attribute, kind in keys]


def describe_table(dynamodb, name: str) -> dict | None:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        return None


def table_differences(table: dict, name: str, keys: Keys) -> list[str]:
    """What setup would change on an existing table; CannotConverge when its key differs (a key cannot change)."""
    current_keys = tuple((key["AttributeName"], key["KeyType"]) for key in table["KeySchema"])
    key_types = {item["AttributeName"]: item["AttributeType"] for item in table["AttributeDefinitions"]}
    if current_keys != keys or any(key_types.get(attribute) != "S" for attribute, _ in keys):
        raise CannotConverge(
            f"DynamoDB table {name} exists with key {current_keys} instead of {keys} (string keys); "
            "a table's key cannot change: delete it (python teardown.py) or choose another --prefix"
        )
    return [] if table.get("BillingModeSummary", {}).get("BillingMode") == ON_DEMAND else ["configuration: BillingMode"]


def live_table(dynamodb, name: str) -> dict | None:
    """The table's description, None when absent or being deleted (a teardown just before)."""
    table = describe_table(dynamodb, name)
    return None if table is None or table["TableStatus"] == "DELETING" else table


def ensure_table(dynamodb, name: str, keys: Keys) -> Action:
    """Create the on-demand table; an existing one with other keys cannot be converged and stops the run."""
    table = describe_table(dynamodb, name)
    if table is not None and table["TableStatus"] == "DELETING":
        dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAITER_CONFIG)
        table = None
    if table is None:
        dynamodb.create_table(
            TableName=name,
            KeySchema=_key_schema(keys),
            AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": "S"} for attribute, _ in keys],
            BillingMode=ON_DEMAND,
        )
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAITER_CONFIG)
        return Action.CREATED
    differences = table_differences(table, name, keys)
    if table["TableStatus"] != "ACTIVE":
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAITER_CONFIG)
    if differences:
        dynamodb.update_table(TableName=name, BillingMode=ON_DEMAND)
        return Action.UPDATED
    return Action.UNCHANGED


def inventory_item(product: Product) -> dict:
    return {
        "sku": {"S": product.sku},
        "name": {"S": product.name},
        "priceCents": {"N": str(product.price_cents)},
        "stock": {"N": str(product.initial_stock)},
        "initialStock": {"N": str(product.initial_stock)},
    }


def missing_skus(dynamodb, table: str, catalogue: tuple[Product, ...]) -> list[str]:
    """The catalogue's SKUs that have no item in the table (read in batches, unprocessed keys asked again)."""
    found: set[str] = set()
    skus = [product.sku for product in catalogue]
    for start in range(0, len(skus), BATCH_GET_LIMIT):
        request = {table: {"Keys": [{"sku": {"S": sku}} for sku in skus[start : start + BATCH_GET_LIMIT]], "ProjectionExpression": "sku"}}
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            found.update(item["sku"]["S"] for item in answer["Responses"].get(table, []))
            request = answer.get("UnprocessedKeys") or {}
    return [sku for sku in skus if sku not in found]


def seed_inventory(dynamodb, table: str, catalogue: tuple[Product, ...]) -> Action:
    """Put each catalogue SKU that is not there yet; stock already sold on a live stack is never reset."""
    added = 0
    for product in catalogue:
        try:
            dynamodb.put_item(TableName=table, Item=inventory_item(product), ConditionExpression="attribute_not_exists(sku)")
            added += 1
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
    if added == 0:
        return Action.UNCHANGED
    return Action.CREATED if added == len(catalogue) else Action.UPDATED


def delete_table(dynamodb, name: str) -> bool:
    """True when the table existed; returns once it is gone."""
    try:
        dynamodb.delete_table(TableName=name)
    except dynamodb.exceptions.ResourceNotFoundException:
        return False
    except dynamodb.exceptions.ResourceInUseException:  # still being created by an interrupted setup
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=WAITER_CONFIG)
        dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=WAITER_CONFIG)
    return True


@operates_on(Table)
class TableOperations(Operations):
    noun = "table"
    listing = Listing("dynamodb", "list_tables", "TableNames", lambda name: name)

    def read(self, context, table: Table):
        return live_table(context.client("dynamodb"), table.name(context.names))

    def differences(self, context, table, current):
        return table_differences(current, table.name(context.names), table.keys)

    def apply(self, context, table):
        return ensure_table(context.client("dynamodb"), table.name(context.names), table.keys)

    def delete(self, context, table):
        name = table.name(context.names)
        return reported_deletion(table, name, delete_table(context.client("dynamodb"), name))


@operates_on(InventorySeed)
class InventorySeedOperations(Operations):
    """Goes with its table; an item already there is never reset (stock sold on a live stack stays sold)."""

    deletable = False

    def read(self, context, seed: InventorySeed):
        client = context.client("dynamodb")
        if live_table(client, context.name(seed.table)) is None:
            return ABSENT
        missing = missing_skus(client, context.name(seed.table), seed.catalogue)
        return ABSENT if len(missing) == len(seed.catalogue) else missing

    def differences(self, context, seed, missing):
        return [f"items: {len(missing)} SKUs missing"] if missing else []

    def apply(self, context, seed):
        return seed_inventory(context.client("dynamodb"), context.name(seed.table), seed.catalogue)
