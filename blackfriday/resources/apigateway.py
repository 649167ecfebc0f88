"""API Gateway REST API (the RestApi kind and its operations): the order API's resources, each with an ANY method
proxied to one Lambda, a throttled stage.

Every route resource takes ANY, so a method a route does not have reaches the Lambda and gets its 405
naming the allowed one; a path that is no resource gets API Gateway's own 403. Converging is read first,
compared, then changed: `rest_api_differences` is the read-only plan, `ensure_rest_api` applies it and
deploys the stage again when a route or integration changed (a stage serves its last deployment).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

from blackfriday.errors import error_code
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, retry_while
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on, reported_deletion

STAGE = "prod"
RATE_LIMIT_PER_SECOND = 100.0  # steady requests/s over the stage; beyond it (and the burst) clients get 429
BURST_LIMIT = 200
ANY_METHOD = "ANY"
PERMISSION_STATEMENT_ID = "apigateway-invoke"
THROTTLING_PATHS = {"rateLimit": "/*/*/throttling/rateLimit", "burstLimit": "/*/*/throttling/burstLimit"}


@dataclass(frozen=True, kw_only=True)
class RestApi(Resource):
    """A REST API whose every path takes ANY, proxied to one function, on a throttled stage; found by its name.

    Its ARN and URL hold the id AWS gives it, so nothing refers to it by `${key}`: describe_stack gives its URL.
    """

    kind: ClassVar[str] = "rest api"
    thing: str
    function: str  # key of the function every route is proxied to (its resource policy admits this API's stage)
    paths: tuple[str, ...]
    description: str

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.function,)


@dataclass(frozen=True)
class RestApiConfig:
    name: str  # "<prefix>-OrdersApi"
    function_arn: str  # the Lambda every route is proxied to
    paths: tuple[str, ...]  # "/", "/catalogue", "/orders/{orderId}", ...
    region: str
    account: str
    description: str = ""
    stage: str = STAGE
    rate_limit: float = RATE_LIMIT_PER_SECOND
    burst_limit: int = BURST_LIMIT

    @property
    def integration_uri(self) -> str:
        return f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{self.function_arn}/invocations"

    def source_arn(self, api_id: str) -> str:
        """What the Lambda permission admits: any method and path of this API's stage, nothing else."""
        return f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}/{self.stage}/*"


@dataclass
class CurrentApi:
    """What exists now, read with get_* calls only."""

    api_id: str
    resources: dict[str, dict]  # path -> resource (with resourceMethods)
    stage: dict | None
    permission_source_arn: str | None
    extra_ids: list[str] = field(default_factory=list)  # other APIs with the same name


def find_rest_api_ids(apigateway, name: str) -> list[str]:
    ids = []
    for page in apigateway.get_paginator("get_rest_apis").paginate():
        ids.extend(api["id"] for api in page["items"] if api["name"] == name)
    return ids


def read_rest_api(apigateway, lambda_client, config: RestApiConfig) -> CurrentApi | None:
    ids = find_rest_api_ids(apigateway, config.name)
    if not ids:
        return None
    api_id = ids[0]
    resources = {}
    for page in apigateway.get_paginator("get_resources").paginate(restApiId=api_id, embed=["methods"]):
        resources.update((resource["path"], resource) for resource in page["items"])
    try:
        stage = apigateway.get_stage(restApiId=api_id, stageName=config.stage)
    except apigateway.exceptions.NotFoundException:
        stage = None
    return CurrentApi(api_id, resources, stage, permission_source_arn(lambda_client, config.function_arn), ids[1:])


def permission_source_arn(lambda_client, function_arn: str) -> str | None:
    """The SourceArn of our statement in the function's resource policy, None when it has none."""
    try:
        document = json.loads(lambda_client.get_policy(FunctionName=function_arn)["Policy"])
    except lambda_client.exceptions.ResourceNotFoundException:
        return None
    for statement in document.get("Statement", []):
        if statement.get("Sid") == PERMISSION_STATEMENT_ID:
            return statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
    return None


def integration_of(resource: dict) -> dict | None:
    return resource.get("resourceMethods", {}).get(ANY_METHOD, {}).get("methodIntegration")


def route_differences(current: CurrentApi, config: RestApiConfig) -> list[str]:
    """Route and integration differences: these need a new deployment."""
    differences = []
    for path in config.paths:
        resource = current.resources.get(path)
        integration = integration_of(resource) if resource else None
        if resource is None:
            differences.append(f"resource {path} missing")
        elif ANY_METHOD not in resource.get("resourceMethods", {}):
            differences.append(f"{ANY_METHOD} {path} missing")
        elif integration is None or integration.get("type") != "AWS_PROXY" or integration.get("uri") != config.integration_uri:
            differences.append(f"{ANY_METHOD} {path} not proxied to {config.function_arn}")
    differences += [f"resource {path} not declared" for path in sorted(set(current.resources) - set(config.paths) - {"/"})]
    if "/" not in config.paths and current.resources.get("/", {}).get("resourceMethods"):
        differences.append("resource / has methods but is not declared")
    return differences


def throttling_of(stage: dict) -> tuple[float | None, int | None]:
    settings = stage.get("methodSettings", {}).get("*/*", {})
    return settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")


def rest_api_differences(current: CurrentApi | None, config: RestApiConfig) -> list[str]:
    """Everything that differs from the config, in words; empty when the API is converged (the read-only plan)."""
    if current is None:
        return [f"rest api {config.name} missing"]
    differences = route_differences(current, config)
    if current.stage is None:
        differences.append(f"stage {config.stage} missing")
    elif throttling_of(current.stage) != (config.rate_limit, config.burst_limit):
        rate, burst = throttling_of(current.stage)
        differences.append(f"stage {config.stage} throttling {rate}/s burst {burst}, want {config.rate_limit}/s burst {config.burst_limit}")
    if current.permission_source_arn != config.source_arn(current.api_id):
        differences.append(f"permission for API Gateway to invoke {config.function_arn} missing or different")
    differences += [f"duplicate rest api {api_id} named {config.name}" for api_id in current.extra_ids]
    return differences


def ensure_rest_api(apigateway, lambda_client, config: RestApiConfig, *, sleep) -> tuple[Action, str]:
    """Create or converge the API, its routes, its stage and the Lambda's permission: (action, API id)."""
    current = read_rest_api(apigateway, lambda_client, config)
    if current is not None and not rest_api_differences(current, config):
        return Action.UNCHANGED, current.api_id
    action = Action.UPDATED
    if current is None:
        created = apigateway.create_rest_api(
            name=config.name, description=config.description, endpointConfiguration={"types": ["REGIONAL"]}
        )
        current = read_rest_api(apigateway, lambda_client, config) or CurrentApi(created["id"], {}, None, None)
        action = Action.CREATED
    redeploy = bool(route_differences(current, config))
    converge_routes(apigateway, current, config)
    converge_stage(apigateway, current, config, redeploy)
    if current.permission_source_arn != config.source_arn(current.api_id):
        converge_permission(lambda_client, config, current.api_id, had_statement=current.permission_source_arn is not None)
    for api_id in current.extra_ids:
        delete_by_id(apigateway, api_id, sleep)
    return action, current.api_id


def converge_routes(apigateway, current: CurrentApi, config: RestApiConfig) -> None:
    api_id = current.api_id
    resources = dict(current.resources)
    for path in sorted(config.paths, key=lambda item: item.count("/") if item != "/" else 0):
        if path not in resources:
            parent_path, _, part = path.rpartition("/")
            parent = resources[parent_path or "/"]
            resources[path] = apigateway.create_resource(restApiId=api_id, parentId=parent["id"], pathPart=part)
        resource = resources[path]
        if ANY_METHOD not in resource.get("resourceMethods", {}):
            apigateway.put_method(restApiId=api_id, resourceId=resource["id"], httpMethod=ANY_METHOD, authorizationType="NONE")
        integration = integration_of(resource)
        if integration is None or integration.get("type") != "AWS_PROXY" or integration.get("uri") != config.integration_uri:
            apigateway.put_integration(
                restApiId=api_id,
                resourceId=resource["id"],
                httpMethod=ANY_METHOD,
                type="AWS_PROXY",
                integrationHttpMethod="POST",  # Lambda is always invoked with POST, whatever the client's method
                uri=config.integration_uri,
            )
    # Deepest first, so a child goes before its parent (deleting a parent takes its children along on AWS).
    for path in sorted(set(resources) - set(config.paths) - {"/"}, key=lambda item: -item.count("/")):
        try:
            apigateway.delete_resource(restApiId=api_id, resourceId=resources[path]["id"])
        except apigateway.exceptions.NotFoundException:
            pass  # went with its parent
    if "/" not in config.paths:
        for method in resources["/"].get("resourceMethods", {}):
            apigateway.delete_method(restApiId=api_id, resourceId=resources["/"]["id"], httpMethod=method)


def converge_stage(apigateway, current: CurrentApi, config: RestApiConfig, redeploy: bool) -> None:
    api_id = current.api_id
    if current.stage is None:
        apigateway.create_deployment(restApiId=api_id, stageName=config.stage, description="setup_infra")
    elif redeploy:
        deployment = apigateway.create_deployment(restApiId=api_id, description="setup_infra")
        apigateway.update_stage(
            restApiId=api_id,
            stageName=config.stage,
            patchOperations=[{"op": "replace", "path": "/deploymentId", "value": deployment["id"]}],
        )
    stage = apigateway.get_stage(restApiId=api_id, stageName=config.stage)
    if throttling_of(stage) != (config.rate_limit, config.burst_limit):
        apigateway.update_stage(
            restApiId=api_id,
            stageName=config.stage,
            patchOperations=[
                {"op": "replace", "path": THROTTLING_PATHS["rateLimit"], "value": str(config.rate_limit)},
                {"op": "replace", "path": THROTTLING_PATHS["burstLimit"], "value": str(config.burst_limit)},
            ],
        )


def converge_permission(lambda_client, config: RestApiConfig, api_id: str, had_statement: bool) -> None:
    if had_statement:
        try:
            lambda_client.remove_permission(FunctionName=config.function_arn, StatementId=PERMISSION_STATEMENT_ID)
        except lambda_client.exceptions.ResourceNotFoundException:
            pass
    lambda_client.add_permission(
        FunctionName=config.function_arn,
        StatementId=PERMISSION_STATEMENT_ID,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=config.source_arn(api_id),
        SourceAccount=config.account,
    )


def _too_many_requests(error) -> bool:
    # DeleteRestApi is limited to one call every 30 s per account.
    return error_code(error) == "TooManyRequestsException"


def delete_by_id(apigateway, api_id: str, sleep) -> bool:
    try:
        retry_while(
            lambda: apigateway.delete_rest_api(restApiId=api_id),
            _too_many_requests,
            sleep=sleep,
            attempts=6,
            first_delay=5.0,
            max_delay=30.0,
        )
    except apigateway.exceptions.NotFoundException:
        return False
    return True


def delete_rest_api(apigateway, name: str, *, sleep) -> bool:
    """Delete every REST API with this name; False when there was none (not found is done)."""
    deleted = False
    for api_id in find_rest_api_ids(apigateway, name):
        deleted = delete_by_id(apigateway, api_id, sleep) or deleted
    return deleted


@operates_on(RestApi)
class RestApiOperations(Operations):
    noun = "rest api"
    listing = Listing("apigateway", "get_rest_apis", "items", lambda item: item["name"])

    @staticmethod
    def config(context: Context, api: RestApi) -> RestApiConfig:
        names = context.names
        return RestApiConfig(
            name=api.name(names),
            function_arn=context.arn(api.function),
            paths=api.paths,
            region=names.region,
            account=names.account,
            description=api.description,
        )

    def read(self, context, api: RestApi):
        return read_rest_api(context.client("apigateway"), context.client("lambda"), self.config(context, api))

    def differences(self, context, api, current):
        return rest_api_differences(current, self.config(context, api))

    def apply(self, context, api):
        return ensure_rest_api(context.client("apigateway"), context.client("lambda"), self.config(context, api), sleep=context.sleep)[0]

    def delete(self, context, api):
        name = api.name(context.names)
        return reported_deletion(api, name, delete_rest_api(context.client("apigateway"), name, sleep=context.sleep))
