"""What execute_api reads of moto's API Gateway backend: a deployed REST API's stage and routes."""

from __future__ import annotations

import boto3
from moto import mock_aws

from blackfriday.emulator.deployed_api import DeployedApi, Route
from blackfriday.emulator.fixes import apigateway

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders/invocations"


@mock_aws
def test_a_deployed_api_is_read_with_its_stage_variables_media_types_and_routes():
    # GIVEN a REST API for binary image/png: GET /orders/{orderId} proxied to a Lambda, ANY /orders without integration, deployed to prod
    client = boto3.client("apigateway", region_name=REGION)
    api_id = client.create_rest_api(name="shop")["id"]
    client.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/binaryMediaTypes", "value": "image/png"}])
    root_id = client.get_resources(restApiId=api_id)["items"][0]["id"]
    orders_id = client.create_resource(restApiId=api_id, parentId=root_id, pathPart="orders")["id"]
    order_id = client.create_resource(restApiId=api_id, parentId=orders_id, pathPart="{orderId}")["id"]
    client.put_method(restApiId=api_id, resourceId=orders_id, httpMethod="ANY", authorizationType="NONE")
    client.put_method(restApiId=api_id, resourceId=order_id, httpMethod="GET", authorizationType="NONE")
    client.put_integration(
        restApiId=api_id, resourceId=order_id, httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="POST", uri=FUNCTION_URI
    )
    client.create_deployment(restApiId=api_id, stageName="prod", variables={"mode": "test"})
    # WHEN it is read for its stage
    api = apigateway.deployed_api(api_id, "prod")
    # THEN every field is moto's, each method a route
    assert api == DeployedApi(
        api_id, ACCOUNT, REGION, "prod", {"mode": "test"}, ("image/png",),
        (Route("/orders", "ANY", None, None), Route("/orders/{orderId}", "GET", "AWS_PROXY", FUNCTION_URI)),
    )  # fmt: skip
    # AND an unknown stage or API is None
    assert apigateway.deployed_api(api_id, "staging") is None
    assert apigateway.deployed_api("nosuchapi", "prod") is None
