"""DynamoDB's wire format ({"S": ...}, {"N": ...}, {"M": ...}) is written and read here, and for the Orders table in
order_rows: the three kinds of value the tables hold (text, whole numbers, maps of them), the one scan, the stock.

Hand-written rather than boto3's TypeSerializer: the workflow's Lambdas marshal on every step, and these few
checks cost a fraction of its type dispatch (numbers stay ints: cents, units and counts are whole)."""

from __future__ import annotations

Value = str | int | dict  # a map's values are Values too


def marshal(value: Value) -> dict:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {name: marshal(inner) for name, inner in value.items()}}
    raise TypeError(f"no DynamoDB attribute for {type(value).__name__} {value!r}")


def unmarshal(attribute: dict) -> Value:
    if "S" in attribute:
        return attribute["S"]
    if "N" in attribute:
        return int(attribute["N"])
    if "M" in attribute:
        return {name: unmarshal(inner) for name, inner in attribute["M"].items()}
    raise TypeError(f"no Python value for the DynamoDB attribute {attribute!r}")


def to_item(**values: Value) -> dict:
    """An item or a key from Python values: to_item(sku="TV-55") is {"sku": {"S": "TV-55"}}."""
    return {name: marshal(value) for name, value in values.items()}


def from_item(item: dict) -> dict[str, Value]:
    return {name: unmarshal(attribute) for name, attribute in item.items()}


def expression_values(**values: Value) -> dict:
    """ExpressionAttributeValues from Python values: expression_values(now=stamp) is {":now": {"S": stamp}}."""
    return {f":{name}": marshal(value) for name, value in values.items()}


def stored_text(item: dict) -> dict[str, object]:
    """Each attribute as the item carries it (a number as its decimal text, a map as stored): what a person is shown."""
    return {name: next(iter(attribute.values())) for name, attribute in item.items()}


def scan_all(dynamodb, table: str, **kwargs):
    """Every item of a scan (Scan's own arguments in kwargs), page after page."""
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, **kwargs):
        yield from page["Items"]


def stock_levels(dynamodb, inventory_table: str) -> dict[str, int]:
    """sku -> units in stock now, from the Inventory table (key sku, attribute stock)."""
    return {row["sku"]: row["stock"] for row in map(from_item, scan_all(dynamodb, inventory_table, ProjectionExpression="sku, stock"))}
