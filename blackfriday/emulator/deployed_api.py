"""A deployed REST API as execute_api serves it: its routes, copied out of moto's backend (`fixes.apigateway`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One (resource, method) of a deployed API, copied out of moto's backend."""

    resource_path: str  # "/orders/{orderId}"
    method: str  # "GET" or "ANY"
    integration_type: str | None
    integration_uri: str | None


@dataclass(frozen=True)
class DeployedApi:
    api_id: str
    account_id: str
    region: str
    stage: str
    stage_variables: dict[str, str]
    binary_media_types: tuple[str, ...]
    routes: tuple[Route, ...]
