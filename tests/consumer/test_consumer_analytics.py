import json
import threading

import pytest
from botocore.exceptions import ClientError

from blackfriday.consumer.analytics import (
    COUNTER_SHARDS,
    AnalyticsHandler,
    read_demand,
    transaction_items,
    write_report,
)
from blackfriday.consumer.messages import ObjectRef
from blackfriday.consumer.pool import Interrupted
from blackfriday.consumer.stats import PoolStats
from blackfriday.domain import PRODUCTS, make_invalid, units_by_sku

REF = ObjectRef("bucket", "orders/ab/x.json", None)


def handler_for(mock_stack) -> AnalyticsHandler:
    return AnalyticsHandler(mock_stack.gateway.client("dynamodb"), mock_stack.info.tables["analytics"], PoolStats("analytics"))


def exact_demand(orders: list[dict]) -> dict[str, tuple[int, int, int]]:
    """sku -> (orders, units, demand cents), computed straight from the orders."""
    demand: dict[str, list[int]] = {}
    for order in orders:
        for sku, units in units_by_sku(order).items():
            row = demand.setdefault(sku, [0, 0, 0])
            row[0] += 1
            row[1] += units
            row[2] += units * PRODUCTS[sku].price_cents
    return {sku: tuple(row) for sku, row in demand.items()}


def test_a_valid_order_is_one_transaction_of_a_conditional_marker_and_counter_updates(orders):
    # GIVEN a valid order with several SKUs
    order = next(order for order in orders if len(order["items"]) >= 2)

    # WHEN its transaction is built
    outcome, items = transaction_items("Demand", order, "2026-11-27T00:00:00+00:00")

    # THEN the first item puts the seen-marker only if absent, and every other item ADDs counters
    assert outcome == "aggregated"
    marker = items[0]["Put"]
    assert marker["Item"]["pk"] == {"S": f"ORDER#{order['orderId']}"}
    assert marker["Item"]["sk"] == {"S": "SEEN"}
    assert marker["Item"]["outcome"] == {"S": "aggregated"}
    assert marker["ConditionExpression"] == "attribute_not_exists(pk)"
    partitions = [item["Update"]["Key"]["pk"]["S"] for item in items[1:]]
    assert partitions == ["ALL"] + [f"SKU#{sku}" for sku in sorted(units_by_sku(order))]
    assert {item["Update"]["UpdateExpression"] for item in items[1:]} == {"ADD orders :orders, units :units, revenueCents :revenue"}
    total = items[1]["Update"]["ExpressionAttributeValues"]
    assert total == {
        ":orders": {"N": "1"},
        ":units": {"N": str(sum(units_by_sku(order).values()))},
        ":revenue": {"N": str(order["totalCents"])},
    }
    # one shard per order, the same for all its counters
    assert len({item["Update"]["Key"]["sk"]["S"] for item in items[1:]}) == 1


def test_an_invalid_order_only_counts_as_rejected(orders):
    outcome, items = transaction_items("Demand", make_invalid(orders[0], "unknown_sku"), "now")
    assert outcome == "rejected"
    assert items[0]["Put"]["Item"]["outcome"] == {"S": "rejected"}
    assert [item["Update"]["Key"]["pk"]["S"] for item in items[1:]] == ["REJECTED"]
    assert items[1]["Update"]["ExpressionAttributeValues"][":orders"] == {"N": "1"}


def test_each_order_counts_once_however_often_it_is_delivered(mock_stack, orders):
    # GIVEN ten valid orders and two invalid ones
    valid, invalid = orders[:10], [make_invalid(orders[10], "wrong_total"), make_invalid(orders[11], "zero_quantity")]
    handler = handler_for(mock_stack)
    stop = threading.Event()

    # WHEN every order is handled, then every order is delivered again (a duplicate upload, a redelivery)
    first = [handler.handle(order, REF, stop) for order in valid + invalid]
    second = [handler.handle(order, REF, stop) for order in valid + invalid]

    # THEN the first pass aggregates or rejects, the second only finds duplicates
    assert first == ["aggregated"] * 10 + ["rejected"] * 2
    assert second == ["duplicates"] * 12
    # AND the table's totals are the exact sums over the valid orders, the invalid ones counted apart
    report = read_demand(mock_stack.gateway.client("dynamodb"), mock_stack.info.tables["analytics"], mock_stack.info.tables["orders"])
    assert report.totals.orders == 10
    assert report.totals.units == sum(sum(units_by_sku(order).values()) for order in valid)
    assert report.totals.demand_cents == sum(order["totalCents"] for order in valid)
    assert report.rejected == 2
    assert {sku: (d.orders, d.units, d.demand_cents) for sku, d in report.skus.items()} == exact_demand(valid)
    values = [demand.demand_cents for demand in report.skus.values()]
    assert values == sorted(values, reverse=True)


def test_counters_spread_over_shards_and_the_report_sums_them(mock_stack, orders):
    handler = handler_for(mock_stack)
    for order in orders:
        handler.handle(order, REF, threading.Event())
    dynamodb = mock_stack.gateway.client("dynamodb")
    items = dynamodb.query(
        TableName=mock_stack.info.tables["analytics"], KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "ALL"}}
    )["Items"]
    shards = {item["sk"]["S"] for item in items}
    assert len(shards) > 1
    assert shards <= {f"COUNTER#{shard}" for shard in range(COUNTER_SHARDS)}
    assert sum(int(item["orders"]["N"]) for item in items) == len(orders)


class ScriptedDynamoDB:
    """Answers transact_write_items from a script of errors, then succeeds; counts the calls."""

    def __init__(self, *errors: ClientError):
        self.errors = list(errors)
        self.calls = 0

    def transact_write_items(self, TransactItems):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {}


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def test_a_transaction_conflict_is_retried_until_it_goes_through(orders, monkeypatch):
    # GIVEN a table where two attempts collide with other transactions on a hot SKU
    monkeypatch.setattr("blackfriday.consumer.pool.random.uniform", lambda low, high: 0)
    dynamodb = ScriptedDynamoDB(cancelled("None", "TransactionConflict"), cancelled("None", "None", "TransactionConflict"))
    handler = AnalyticsHandler(dynamodb, "Demand", PoolStats("analytics"))

    # WHEN the order is handled / THEN it is aggregated on the third attempt, the conflicts counted
    assert handler.handle(orders[0], REF, threading.Event()) == "aggregated"
    assert dynamodb.calls == 3
    assert handler.stats.snapshot().get("conflicts", 0) == 2


def test_a_conflict_during_a_stop_gives_the_message_back(orders):
    stop = threading.Event()
    stop.set()
    handler = AnalyticsHandler(ScriptedDynamoDB(cancelled("None", "TransactionConflict")), "Demand", PoolStats("analytics"))
    with pytest.raises(Interrupted):
        handler.handle(orders[0], REF, stop)


def test_any_other_cancellation_is_an_error_for_a_later_retry(orders):
    handler = AnalyticsHandler(ScriptedDynamoDB(cancelled("None", "ValidationError")), "Demand", PoolStats("analytics"))
    with pytest.raises(ClientError) as raised:
        handler.handle(orders[0], REF, threading.Event())
    assert raised.value.response["CancellationReasons"] == [{"Code": "None"}, {"Code": "ValidationError"}]


def test_the_report_is_written_under_reports_as_json(mock_stack, orders):
    # GIVEN aggregated demand
    handler = handler_for(mock_stack)
    for order in orders[:3]:
        handler.handle(order, REF, threading.Event())
    report = read_demand(mock_stack.gateway.client("dynamodb"), mock_stack.info.tables["analytics"], mock_stack.info.tables["orders"])

    # WHEN the report is written
    key = write_report(mock_stack.s3, mock_stack.info.bucket, report)

    # THEN it lies under reports/ and holds the totals and one row per SKU with demand
    assert key == f"reports/sku-demand-{report.generated_at.replace('-', '').replace(':', '')}.json"
    stored = json.loads(mock_stack.s3.get_object(Bucket=mock_stack.info.bucket, Key=key)["Body"].read())
    assert stored == report.to_json()
    assert stored["orders"] == 3
    assert stored["rejected"] == 0
    assert {row["sku"] for row in stored["skus"]} == set(exact_demand(orders[:3]))
    assert all(row["name"] == PRODUCTS[row["sku"]].name for row in stored["skus"])


def test_the_report_puts_the_sales_of_completed_orders_beside_the_demand(mock_stack, orders):
    # GIVEN the demand of three orders, of which only the first COMPLETED and the second FAILED
    dynamodb = mock_stack.gateway.client("dynamodb")
    handler = handler_for(mock_stack)
    for order in orders[:3]:
        handler.handle(order, REF, threading.Event())
    for order, status in ((orders[0], "COMPLETED"), (orders[1], "FAILED")):
        reserved = {sku: {"N": str(units)} for sku, units in units_by_sku(order).items()}
        dynamodb.put_item(
            TableName=mock_stack.info.tables["orders"],
            Item={"orderId": {"S": order["orderId"]}, "status": {"S": status}, "reservedItems": {"M": reserved}},
        )
    # WHEN the report is read
    stored = read_demand(dynamodb, mock_stack.info.tables["analytics"], mock_stack.info.tables["orders"]).to_json()
    # THEN demand counts all three, sales only the COMPLETED one, and it says so; nothing is called revenue
    assert (stored["orders"], stored["demandCents"]) == (3, sum(order["totalCents"] for order in orders[:3]))
    assert stored["sales"] == {"orders": 1, "units": sum(units_by_sku(orders[0]).values()), "salesCents": orders[0]["totalCents"]}
    assert set(stored["measures"]) == {"demand", "sales"}
    sold = {row["sku"]: (row["salesOrders"], row["salesUnits"], row["salesCents"]) for row in stored["skus"] if row["salesOrders"]}
    assert sold == exact_demand(orders[:1])
    assert "revenue" not in json.dumps(stored).lower()
