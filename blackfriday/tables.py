"""DynamoDB's wire format ({"S": ...}, {"N": ...}, {"M": ...}) is written and read here, and for the Orders table in
order_rows: the three kinds of value the tables hold (text, whole numbers, maps of them), the one scan, the stock.

The workflow's Lambdas build attribute values on every step: `text` and `number` cost what a written-out literal
does (timeit: about half a keyword-argument builder's time, a sixth of boto3's TypeSerializer's). Numbers are ints:
cents, units and counts are whole."""

from __future__ import annotations

Value = str | int | dict  # a map's values are Values too


def text(value: str) -> dict:
    return {"S": value}


def number(value: int) -> dict:
    return {"N": str(value)}


def numbers(counts: dict[str, int]) -> dict:
    """A map of numbers (an order's sku -> units)."""
    return {"M": {name: number(count) for name, count in counts.items()}}


def marshal(value: Value) -> dict:
    """Any value the tables hold, by its type (reading a whole record back; the steps call text and number)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return number(value)
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


def from_item(item: dict) -> dict[str, Value]:
    return {name: unmarshal(attribute) for name, attribute in item.items()}


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
