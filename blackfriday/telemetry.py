"""The Lambdas' side of blackfriday.observability: Powertools' JSON Logger and embedded-metric-format counts.

Imported by the handlers only (Powertools is bundled into each zip by blackfriday.vendoring).
"""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from blackfriday.domain import BusinessRejection, order_id_from_key
from blackfriday.fulfillment import rejection
from blackfriday.observability import (
    EXECUTION_KEY,
    METRICS_NAMESPACE,
    ORDER_ID_KEY,
    ORDERS_COMPLETED,
    ORDERS_FAILED,
    REASON_DIMENSION,
    SERVICE_DIMENSION,
    SERVICE_NAME,
)

logger = Logger(service=SERVICE_NAME)


def event_order_id(event: dict) -> str | None:
    """The order a workflow task is about: {"orderId"}, {"order": {"orderId"}}, or the id in {"source": {"key"}}."""
    if isinstance(event.get("orderId"), str):
        return event["orderId"]
    order = event.get("order")
    if isinstance(order, dict) and isinstance(order.get("orderId"), str) and order["orderId"]:
        return order["orderId"]
    try:
        return order_id_from_key(event["source"]["key"])
    except (KeyError, TypeError, ValueError):
        return None


def order_step(handler):
    """A workflow task's handler: JSON log lines with the orderId and execution; a BusinessRejection returned.

    The state machine passes the execution's name as "execution". A rejection is the order's outcome,
    not the function's failure: it comes back as {"rejection": {"Error", "Cause"}} for a Choice state.
    """

    @logger.inject_lambda_context(clear_state=True)
    @functools.wraps(handler)
    def run(event, context):
        logger.append_keys(**{ORDER_ID_KEY: event_order_id(event), EXECUTION_KEY: event.get("execution")})
        try:
            result = handler(event, context)
        except BusinessRejection as error:
            logger.info("order rejected", extra={"errorName": type(error).__name__, "cause": str(error)})
            return rejection(error)
        except Exception:
            logger.exception("step failed")
            raise
        logger.info("step done", extra={"result": result})
        return result

    return run


def _count(name: str, dimensions: dict[str, str]) -> None:
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE, default_dimensions={SERVICE_DIMENSION: SERVICE_NAME}
    ) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(name=dimension, value=value)


def count_completed() -> None:
    _count(ORDERS_COMPLETED, {})


def count_failed(error_name: str) -> None:
    _count(ORDERS_FAILED, {})
    _count(ORDERS_FAILED, {REASON_DIMENSION: error_name})
