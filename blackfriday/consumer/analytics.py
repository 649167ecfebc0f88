"""Analytics: demand per SKU (orders, units, value at catalogue prices) of every valid order, counted exactly once
per order, and beside it the sales: what the COMPLETED orders (charged, with a receipt) took.

Demand is what customers asked for, including orders that then failed (out of stock, declined); it is never
called revenue. Sales are read from the Orders table when the report is made (after the run has drained).

One DynamoDB TransactWriteItems per order, on the analytics table (key pk S + sk S):
- a seen-marker  pk="ORDER#<orderId>" sk="SEEN", put only if absent (attribute_not_exists);
- counter updates (ADD) on pk="SKU#<sku>" for each SKU of the order and on pk="ALL" for the totals,
  or on pk="REJECTED" for an order that fails validation (attribute revenueCents holds the demand's value).
Both happen or neither does, so a redelivery, a duplicate upload or a restart after a kill finds the
marker and changes nothing: the cancelled transaction whose marker condition failed is a duplicate.
Each counter partition is split into COUNTER_SHARDS items (sk="COUNTER#<n>", n from the orderId) so
that concurrent transactions on a hot SKU rarely touch the same item; the report sums the shards.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from blackfriday.consumer.messages import ObjectRef
from blackfriday.consumer.pool import Backoff, call_with_backoff
from blackfriday.consumer.stats import PoolCounter, PoolStats
from blackfriday.domain import CATALOGUE, PRODUCTS, REPORTS_PREFIX, OrderStatus, units_by_sku, validation_problems
from blackfriday.errors import error_code
from blackfriday.order_rows import STATUS_NAME, OrderRow
from blackfriday.tables import from_item, number, scan_all, text

COUNTER_SHARDS = 8
SEEN_SORT_KEY = "SEEN"
ALL_ORDERS = "ALL"
REJECTED = "REJECTED"
# Cancellation reasons that a later attempt can get past (another transaction held an item, throttling).
RETRYABLE_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def marker_key(order_id: str) -> dict:
    return {"pk": text(f"ORDER#{order_id}"), "sk": text(SEEN_SORT_KEY)}


def sku_partition(sku: str) -> str:
    return f"SKU#{sku}"


def counter_key(partition: str, order_id: str) -> dict:
    shard = zlib.crc32(order_id.encode()) % COUNTER_SHARDS
    return {"pk": text(partition), "sk": text(f"COUNTER#{shard}")}


def revenue_by_sku(order: dict) -> dict[str, int]:
    revenue: dict[str, int] = {}
    for item in order["items"]:
        revenue[item["sku"]] = revenue.get(item["sku"], 0) + item["quantity"] * item["unitPriceCents"]
    return revenue


def _add_counters(table: str, key: dict, orders: int, units: int, revenue_cents: int) -> dict:
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "ADD orders :orders, units :units, revenueCents :revenue",
            "ExpressionAttributeValues": {
                ":orders": number(orders),
                ":units": number(units),
                ":revenue": number(revenue_cents),
            },
        }
    }


def transaction_items(table: str, order: dict, recorded_at: str) -> tuple[PoolCounter, list[dict]]:
    """(AGGREGATED or REJECTED, the TransactWriteItems items) for one order."""
    order_id = order["orderId"]
    rejected = bool(validation_problems(order))
    outcome = PoolCounter.REJECTED if rejected else PoolCounter.AGGREGATED
    marker = {
        "Put": {
            "TableName": table,
            "Item": {**marker_key(order_id), "outcome": text(outcome), "recordedAt": text(recorded_at)},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    if rejected:
        return outcome, [marker, _add_counters(table, counter_key(REJECTED, order_id), 1, 0, 0)]
    units = units_by_sku(order)
    revenue = revenue_by_sku(order)
    counters = [_add_counters(table, counter_key(ALL_ORDERS, order_id), 1, sum(units.values()), sum(revenue.values()))]
    counters += [_add_counters(table, counter_key(sku_partition(sku), order_id), 1, units[sku], revenue[sku]) for sku in sorted(units)]
    return outcome, [marker, *counters]


def cancellation_codes(error: ClientError) -> list[str]:
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


class AnalyticsHandler:
    def __init__(self, dynamodb, table: str, stats: PoolStats):
        self.dynamodb = dynamodb
        self.table = table
        self.stats = stats

    def handle(self, order: dict, ref: ObjectRef, stop: threading.Event) -> PoolCounter:
        recorded_at = datetime.now(timezone.utc).isoformat()
        outcome, items = transaction_items(self.table, order, recorded_at)
        backoff = Backoff(stop)
        while True:
            try:
                call_with_backoff(lambda: self.dynamodb.transact_write_items(TransactItems=items), stop, self.stats)
                return outcome
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(error)
                if codes and codes[0] == "ConditionalCheckFailed":  # the seen-marker is there: counted before
                    return PoolCounter.DUPLICATES
                if not RETRYABLE_CANCELLATIONS.intersection(codes):
                    raise
                self.stats.add(PoolCounter.CONFLICTS)
                backoff.wait()


# --- The report --------------------------------------------------------------------------------


@dataclass
class Demand:
    orders: int = 0
    units: int = 0
    demand_cents: int = 0  # what the orders asked for at catalogue prices, completed or not

    def add(self, counters: dict[str, int]) -> None:
        """One counter item's values (absent ones are 0)."""
        self.orders += counters.get("orders", 0)
        self.units += counters.get("units", 0)
        self.demand_cents += counters.get("revenueCents", 0)


@dataclass
class Sales:
    orders: int = 0
    units: int = 0
    sales_cents: int = 0  # what COMPLETED orders were charged

    def add(self, sku: str, units: int) -> None:
        self.orders += 1
        self.units += units
        self.sales_cents += units * PRODUCTS[sku].price_cents


MEASURES = {
    "demand": "every valid order uploaded, counted once, at catalogue prices, whether or not it completed",
    "sales": "COMPLETED orders only (charged, with a receipt), when the report was made",
}


@dataclass
class DemandReport:
    generated_at: str
    table: str
    totals: Demand
    rejected: int
    skus: dict[str, Demand] = field(default_factory=dict)  # only SKUs with demand, highest demand first
    sales_totals: Sales = field(default_factory=Sales)
    sales: dict[str, Sales] = field(default_factory=dict)  # only SKUs sold

    def to_json(self) -> dict:
        return {
            "generatedAt": self.generated_at,
            "table": self.table,
            "measures": MEASURES,
            "orders": self.totals.orders,
            "units": self.totals.units,
            "demandCents": self.totals.demand_cents,
            "rejected": self.rejected,
            "sales": {"orders": self.sales_totals.orders, "units": self.sales_totals.units, "salesCents": self.sales_totals.sales_cents},
            "skus": [
                {
                    "sku": sku,
                    "name": PRODUCTS[sku].name,
                    "orders": demand.orders,
                    "units": demand.units,
                    "demandCents": demand.demand_cents,
                    "salesOrders": self.sales.get(sku, Sales()).orders,
                    "salesUnits": self.sales.get(sku, Sales()).units,
                    "salesCents": self.sales.get(sku, Sales()).sales_cents,
                }
                for sku, demand in self.skus.items()
            ],
        }


def _partition_demand(dynamodb, table: str, partition: str) -> Demand:
    demand = Demand()
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": text(partition)},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page["Items"]:
            demand.add(from_item(item))
    return demand


def read_sales(dynamodb, orders_table: str) -> tuple[Sales, dict[str, Sales]]:
    """(totals, per SKU) of the COMPLETED orders: the units each reserved, at catalogue prices (validation holds
    every order's prices to the catalogue, so this is what it was charged)."""
    totals, skus = Sales(), {}
    items = scan_all(
        dynamodb,
        orders_table,
        ConsistentRead=True,
        FilterExpression="#status = :completed",
        ProjectionExpression="reservedItems",
        ExpressionAttributeNames=STATUS_NAME,
        ExpressionAttributeValues={":completed": text(OrderStatus.COMPLETED)},
    )
    for row in map(OrderRow.from_item, items):
        totals.orders += 1
        for sku, count in row.reserved_items.items():
            skus.setdefault(sku, Sales()).add(sku, count)
            totals.units += count
            totals.sales_cents += count * PRODUCTS[sku].price_cents
    return totals, skus


def read_demand(dynamodb, table: str, orders_table: str) -> DemandReport:
    """The table's demand (every run so far, each order once, summed over the counter shards) and the sales."""
    skus = {product.sku: _partition_demand(dynamodb, table, sku_partition(product.sku)) for product in CATALOGUE}
    ranked = dict(sorted(((sku, demand) for sku, demand in skus.items() if demand.orders), key=lambda pair: -pair[1].demand_cents))
    sales_totals, sales = read_sales(dynamodb, orders_table)
    return DemandReport(
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        table=table,
        totals=_partition_demand(dynamodb, table, ALL_ORDERS),
        rejected=_partition_demand(dynamodb, table, REJECTED).orders,
        skus=ranked,
        sales_totals=sales_totals,
        sales=sales,
    )


def report_key(report: DemandReport) -> str:
    stamp = report.generated_at.replace("-", "").replace(":", "")
    return f"{REPORTS_PREFIX}sku-demand-{stamp}.json"


def write_report(s3, bucket: str, report: DemandReport) -> str:
    key = report_key(report)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report.to_json(), indent=2).encode(), ContentType="application/json")
    return key
