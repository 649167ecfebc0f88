"""Where a deployed REST API answers: the one place that knows both targets' URL forms."""

from __future__ import annotations

from blackfriday.names import DNS_SUFFIXES, partition_of
from blackfriday.target import Target

STAGE = "prod"


def invoke_url(target: Target, api_id: str, stage: str = STAGE) -> str:
    """AWS: https://{id}.execute-api.{region}.amazonaws.com/{stage}; an endpoint (the emulator, LocalStack):
    {endpoint}/restapis/{id}/{stage}/_user_request_. Routes are appended to it ("/catalogue")."""
    if target.endpoint_url is None:
        return f"https://{api_id}.execute-api.{target.region}.{DNS_SUFFIXES[partition_of(target.region)]}/{stage}"
    return f"{target.endpoint_url.rstrip('/')}/restapis/{api_id}/{stage}/_user_request_"
