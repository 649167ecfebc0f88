"""The front port's router: a request for a grouped service is forwarded to its group's process as it came.

Only clients that do not know the layout pay this hop (the AWS CLI, another SDK, `--endpoint-url`
users); the project's own clients go to each group directly. Each server thread keeps one keep-alive
connection per group, so forwarding opens no new TCP connection per request.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from blackfriday.emulator import HEALTH_PATH, groups
from blackfriday.emulator.execute_api import USER_REQUEST_PATH
from blackfriday.emulator.fixes.core import backend_for, sent_header_names

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, never forwarded. The body is always
# forwarded whole with its length, so a chunked request arrives at the group unchunked.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"})
FORWARD_TIMEOUT_SECONDS = 900  # beyond the longest Lambda timeout: a synchronous invoke waits for its handler


def request_headers(environ: dict) -> list[tuple[str, str]]:
    """The request's headers; S3 metadata headers under the names they were sent with (moto's handler keeps them)."""
    sent_names = sent_header_names(environ)
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = sent_names.get(key) or key[5:].replace("_", "-").title()
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                headers.append((name, value))
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    return headers


class Router:
    """WSGI app of the front process: its own services go to `local_app`, a group's are forwarded to it."""

    def __init__(self, local_app: Callable, dispatcher, group_urls: dict[str, str]):
        self.local_app = local_app
        self.dispatcher = dispatcher
        self.group_addresses = {name: urlsplit(url) for name, url in group_urls.items()}
        self.connections = threading.local()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        # A deployed API's request carries no AWS signature (moto would take it for S3): the front process serves
        # API Gateway, so it answers it (execute_api).
        if path == HEALTH_PATH or USER_REQUEST_PATH.match(path):
            return self.local_app(environ, start_response)
        group = groups.group_of_backend(backend_for(self.dispatcher, environ))
        if group is None or group.name not in self.group_addresses:
            return self.local_app(environ, start_response)
        return self.forward(group.name, environ, start_response)

    def connection(self, group_name: str) -> http.client.HTTPConnection:
        pool = self.connections.__dict__.setdefault("by_group", {})
        connection = pool.get(group_name)
        if connection is None:
            address = self.group_addresses[group_name]
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=FORWARD_TIMEOUT_SECONDS)
            pool[group_name] = connection
        return connection

    def forward(self, group_name: str, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        if "?" not in target and environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = request_headers(environ)
        try:
            response = self.send(group_name, environ["REQUEST_METHOD"], target, body, headers)
        except ConnectionError:
            # The kept connection went stale (the group closed it while idle): once more on a new one.
            self.connection(group_name).close()
            response = self.send(group_name, environ["REQUEST_METHOD"], target, body, headers)
        payload = response.read()
        reply_headers = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}", reply_headers)
        return [payload]

    def send(self, group_name: str, method: str, target: str, body: bytes, headers: list[tuple[str, str]]):
        connection = self.connection(group_name)
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        return connection.getresponse()
