"""API Gateway: no fix; execute_api reads the deployed REST APIs out of moto's backend here, and only here."""

from __future__ import annotations

from moto.apigateway.models import APIGatewayBackend, Integration, Method, Resource, RestAPI, Stage, apigateway_backends

from blackfriday.emulator.deployed_api import DeployedApi, Route
from blackfriday.emulator.fixes.registry import Fingerprint


def deployed_api(api_id: str, stage: str) -> DeployedApi | None:
    """The API and stage from moto's apigateway backend in this process, None when either does not exist."""
    for account_id, regions in list(apigateway_backends.items()):
        for region, backend in list(regions.items()):
            api = backend.apis.get(api_id)
            if api is None:
                continue
            if stage not in api.stages:
                return None
            routes = tuple(
                Route(
                    resource.get_path(),
                    method_name,
                    method.method_integration.integration_type if method.method_integration else None,
                    method.method_integration.uri if method.method_integration else None,
                )
                for resource in list(api.resources.values())
                for method_name, method in list(resource.resource_methods.items())
            )
            return DeployedApi(
                api_id, account_id, region, stage, dict(api.stages[stage].variables or {}), tuple(api.binaryMediaTypes or ()), routes
            )
    return None


# What deployed_api reads: the backend's APIs, an API's stages, resources and binary media types, a stage's variables,
# a resource's path and methods, a method's integration, an integration's type and URI.
RELIED_ON = (
    Fingerprint(APIGatewayBackend, "__init__", "4d6aae610e1196cf97f9cbb115c6414f4e5811ff4f1b81f57737dfb3d6f68e86"),
    Fingerprint(RestAPI, "__init__", "5e4642db7763293565bc346d542eb63ae4a3ebc45fee64ce26225421f06c984a"),
    Fingerprint(Stage, "__init__", "e8e50a4da25c374aa5fcbe52515d7d898376847d6b086c70b273c175fc5401a8"),
    Fingerprint(Resource, "__init__", "c1e3eb2e809a196ebe38849eaf62f0940d68818bbce9f759f52b663ca06dc24a"),
    Fingerprint(Resource, "get_path", "6e92b95898a9aa32d500f0fb532ee2fe75a51ddbd7269f194883063f641f86ce"),
    Fingerprint(Method, "__init__", "e78b06a19c4a86126a1a85d71fc45416085bdc61d10d308e81108bf7949b01ba"),
    Fingerprint(Integration, "__init__", "ef61e03604623c4876febd54c3709dc0f1b32b8bdf8da4fd929f50ddd4c2c2be"),
)
FIXES = ()
