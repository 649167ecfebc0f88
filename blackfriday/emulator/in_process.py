"""moto's own calls (the Step Functions interpreter's), without HTTP into their own process.

moto's interpreter calls Lambda, DynamoDB, SNS... with boto3 clients of the default session aimed at
`http://localhost:$MOTO_PORT`, the front port; so do the fixes' Step Functions status events (to
EventBridge, from the workflow process) and EventBridge rules' Lambda targets (to Lambda, from the
messaging process). Two hooks on that session (botocore events, no change to moto) route each call
where its service lives:
- a service this process serves (Lambda for a Task state, in the workflow process) is handed to this
  process's WSGI app in the calling thread: no socket, no server thread, no HTTP parsing;
- a service another group serves goes straight to that group's port instead of through the front.
The request and response stay what boto3 built and moto answered, so every code path in moto is the
one an HTTP call would take, gate included.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from urllib.parse import unquote_to_bytes, urlsplit

import boto3
from botocore.awsrequest import AWSResponse

from blackfriday.emulator.fixes.core import raw_response
from blackfriday.emulator.groups import ENDPOINT_VARIABLES

# botocore names events after the hyphenated service id ("request-created.sfn.StartExecution").
CLIENT_BY_EVENT_SERVICE = {
    variable.removeprefix("AWS_ENDPOINT_URL_").lower().replace("_", "-"): client for client, variable in ENDPOINT_VARIABLES.items()
}


def event_client(event_name: str) -> str | None:
    parts = event_name.split(".")
    return CLIENT_BY_EVENT_SERVICE.get(parts[1]) if len(parts) > 1 else None


def wsgi_environ(request, server_port: int) -> dict:
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "REQUEST_URI": url.path + ("?" + url.query if url.query else ""),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ["HTTP_" + key] = value
    environ.setdefault("HTTP_HOST", url.netloc)
    return environ


def call_app(app: Callable, request, server_port: int) -> AWSResponse:
    """Run one prepared boto3 request through a WSGI app in this thread and wrap the answer for botocore."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

    chunks = app(wsgi_environ(request, server_port), start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return AWSResponse(request.url, answer["status"], dict(answer["headers"]), raw_response(body))


def install(app: Callable, moto_port: int, local_clients: frozenset[str] | None, endpoints: dict[str, str]) -> None:
    """Route the default session's calls to localhost:moto_port: `local_clients` in-process (None: all), others by `endpoints`."""
    moto_base = f"http://localhost:{moto_port}"
    session = boto3._get_default_session()

    def is_local(client: str | None) -> bool:
        return local_clients is None or client in local_clients

    def to_its_group(request, event_name, **kwargs):
        client = event_client(event_name)
        if request.url.startswith(moto_base) and not is_local(client) and client in endpoints:
            request.url = endpoints[client] + request.url[len(moto_base) :]

    def in_this_process(request, event_name, **kwargs):
        if request.url.startswith(moto_base) and is_local(event_client(event_name)):
            return call_app(app, request, moto_port)
        return None

    session.events.register("request-created", to_its_group)
    session.events.register("before-send", in_this_process)
