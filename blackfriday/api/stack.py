"""The order API as the stack declares it: its REST API and its Lambda's environment and least-privilege grants.

Until the manifest lists them, this is the one place that says what `orders_api` needs; the grants use the
logical resources of blackfriday.functions plus the ones named in ORDERS_API_RESOURCES.
"""

from __future__ import annotations

from blackfriday.api.routes import ROUTE_PATHS
from blackfriday.api.urls import invoke_url
from blackfriday.errors import StackNotReady
from blackfriday.functions import FunctionSpec, Grant
from blackfriday.names import StackNames
from blackfriday.resources.apigateway import RestApiConfig, find_rest_api_ids

SHORT_NAME = "orders_api"

ORDERS_API_FUNCTION = FunctionSpec(
    SHORT_NAME,
    "The order API behind API Gateway: storefront page, catalogue, order placement, journey and receipt.",
    ("BUCKET", "INVENTORY_TABLE", "ORDERS_TABLE", "STATE_MACHINE_ARN"),
    (
        # PutObject with If-None-Match; HeadObject (a replayed Idempotency-Key) is authorised by s3:GetObject.
        Grant(("s3:PutObject", "s3:GetObject"), "orders_objects"),
        Grant(("s3:GetObject",), "receipts_objects"),
        # Without ListBucket a missing key is 403 AccessDenied instead of 404 NoSuchKey (journey, receipt).
        Grant(("s3:ListBucket",), "bucket"),
        Grant(("dynamodb:Scan",), "inventory_table"),
        Grant(("dynamodb:GetItem",), "orders_table"),
        Grant(("states:DescribeExecution", "states:GetExecutionHistory"), "executions"),
    ),
)


def orders_api_resources(names: StackNames) -> dict[str, str]:
    """The logical resources ORDERS_API_FUNCTION's grants name beyond blackfriday.functions.resource_arns."""
    return {
        "orders_objects": f"{names.bucket_arn}/orders/*",
        "bucket": names.bucket_arn,
        "executions": names.arn("states", f"execution:{names.state_machine}:*"),
    }


def orders_api_environment(names: StackNames) -> dict[str, str]:
    return {
        "BUCKET": names.bucket,
        "INVENTORY_TABLE": names.inventory_table,
        "ORDERS_TABLE": names.orders_table,
        "STATE_MACHINE_ARN": names.state_machine_arn,
    }


def orders_api_config(names: StackNames) -> RestApiConfig:
    return RestApiConfig(
        name=f"{names.prefix}-OrdersApi",
        function_arn=names.function_arn(SHORT_NAME),
        paths=ROUTE_PATHS,
        region=names.region,
        account=names.account,
        description="Black Friday order API and storefront",
    )


def api_url(gateway, names: StackNames) -> str:
    """The deployed order API's invoke URL (setup's summary, producer --via api, demo); StackNotReady when absent."""
    name = orders_api_config(names).name
    ids = find_rest_api_ids(gateway.client("apigateway"), name)
    if not ids:
        raise StackNotReady(f"the stack with prefix {names.prefix!r} has no order API ({name} is missing): run `python setup_infra.py` first")
    return invoke_url(gateway.target, ids[0])
