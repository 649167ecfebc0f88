"""DynamoDB tables (on-demand) and the inventory seed."""

from __future__ import annotations

from dataclasses import dataclass

from blackfriday.domain import Product
from blackfriday.errors import RunFailure
from blackfriday.names import StackNames
from blackfriday.resources.base import Action

ON_DEMAND = "PAY_PER_REQUEST"
WAITER_CONFIG = {"Delay": 2, "MaxAttempts": 150}  # botocore's default polls every 20 s


@dataclass(frozen=True)
class TableSpec:
    name: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE), every key a string

    def key_schema(self) -> list[dict]:
        return [{"AttributeName": attribute, "KeyType": kind} for attribute, kind in self.keys]


def table_specs(names: StackNames) -> list[TableSpec]:
    return [
        TableSpec(names.inventory_table, (("sku", "HASH"),)),
        TableSpec(names.orders_table, (("orderId", "HASH"),)),
        TableSpec(names.analytics_table, (("pk", "HASH"), ("sk", "RANGE"))),
    ]


def describe_table(dynamodb, name: str) -> dict | None:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        return None


def ensure_table(dynamodb, spec: TableSpec) -> Action:
    """Create the on-demand table; an existing one with other keys cannot be converged and stops the run."""
    table = describe_table(dynamodb, spec.name)
    if table is not None and table["TableStatus"] == "DELETING":  # a teardown just before
        dynamodb.get_waiter("table_not_exists").wait(TableName=spec.name, WaiterConfig=WAITER_CONFIG)
        table = None
    if table is None:
        dynamodb.create_table(
            TableName=spec.name,
            KeySchema=spec.key_schema(),
            AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": "S"} for attribute, _ in spec.keys],
            BillingMode=ON_DEMAND,
        )
        dynamodb.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig=WAITER_CONFIG)
        return Action.CREATED
    current_keys = tuple((key["AttributeName"], key["KeyType"]) for key in table["KeySchema"])
    key_types = {item["AttributeName"]: item["AttributeType"] for item in table["AttributeDefinitions"]}
    if current_keys != spec.keys or any(key_types.get(attribute) != "S" for attribute, _ in spec.keys):
        raise RunFailure(
            f"DynamoDB table {spec.name} exists with key {current_keys} instead of {spec.keys} (string keys); "
            "a table's key cannot change: delete it (python teardown.py) or choose another --prefix"
        )
    if table["TableStatus"] != "ACTIVE":
        dynamodb.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig=WAITER_CONFIG)
    if table.get("BillingModeSummary", {}).get("BillingMode") != ON_DEMAND:
        dynamodb.update_table(TableName=spec.name, BillingMode=ON_DEMAND)
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
