"""moto's request dispatch and name helpers: hot spots every request pays; and what the emulator reads of moto's server
(which backend a request is for, the header names moto's handler keeps, the raw response moto's stubber builds)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import moto.backends
import moto.core.utils as moto_utils
from moto.core.botocore_stubber import MockRawResponse
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DEFAULT_SERVICE_REGION, DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from blackfriday.emulator.fixes.registry import Fingerprint, Patch


# The server asks `host in backends.list_of_moto_modules()` on every request (werkzeug_app's
# DomainDispatcherApplication.get_backend_for_host, under a global lock); the original lists and stats
# moto's package directory (~180 stat calls) each time: a third of a request's server time. The
# directory does not change while the server runs, so list it once.
def cached_list_of_moto_modules(original: Callable) -> Callable:
    modules = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    return list_of_moto_modules


# `camelcase_to_underscores` walks its argument char by char with `istitle()` calls, and moto
# calls it for every request (the action name) and ~14 times per `Queue.attributes`, which every
# SendMessage builds: a fifth of the emulator's CPU under fan-out load. It is a pure function of a
# short name: remember the answers. `method_names_from_class` runs `inspect.getmembers` on the
# response class for every JSON/query request; a class's methods do not change: remember them too.
def memoized(original: Callable) -> Callable:
    return functools.lru_cache(maxsize=4096)(original)


def dispatcher() -> DomainDispatcherApplication:
    """moto's WSGI app, as moto's own server builds it: each service's Flask app is built on its first request."""
    return DomainDispatcherApplication(create_backend_app)


def backend_for(dispatcher: DomainDispatcherApplication, environ: dict) -> str:
    """The moto backend a request is for, decided as moto's `DomainDispatcherApplication.get_application` does."""
    path = environ.get("PATH_INFO", "")
    host = None
    if path.startswith("/moto-api") or path == "/favicon.ico":
        host = "moto_api"
    elif path.startswith(("/latest/meta-data/", "/latest/api/")):
        host = "instance_metadata"
    backend = dispatcher.get_backend_for_host(host)
    if not backend:
        host = dispatcher.infer_service_region_host(environ, path)
        if host is None:
            service, region = DEFAULT_SERVICE_REGION
            host = f"{service}.{region}.amazonaws.com"
        backend = dispatcher.get_backend_for_host(host)
    return backend


def sent_header_names(environ: dict) -> dict[str, str]:
    """environ key -> the header's name as the client sent it, for the headers moto's request handler keeps (S3 metadata)."""
    return environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}


def raw_response(body: bytes) -> MockRawResponse:
    """A body as botocore reads an HTTP response's, as moto's own stubber gives it."""
    return MockRawResponse(body)


FIXES = (
    Patch(
        moto.backends,
        "list_of_moto_modules",
        "4f741a10b06500e840c3aaa1b4f02706e6f2bfbababc0e8a2a7b9c9d0e8957dc",
        cached_list_of_moto_modules,
        hot_spot=True,
    ),
    Patch(
        moto_utils, "camelcase_to_underscores", "084cdc5bab92db95a0ebd8d554c70b212a057d35825b08ca3b80b202d4965eb3", memoized, hot_spot=True
    ),
    Patch(
        moto_utils, "method_names_from_class", "9dbac89d082b655fee902c450e69de9dbadf9699ad06411298494984b55138c3", memoized, hot_spot=True
    ),
)
RELIED_ON = (
    # The server calls `backends.list_of_moto_modules()` through the module; backend_for calls it too.
    Fingerprint(DomainDispatcherApplication, "get_backend_for_host", "1f41972c1e4e660fbf4e4ddfeeed2fdff56dc105a8f8e1bf015640f710ef511a"),
    # backend_for copies its decision (and the server's warm-up builds each service's app through it).
    Fingerprint(DomainDispatcherApplication, "get_application", "0ff6939685bde9172bc014581e6d9373c63594fab534071ff806e0f26a0c21be"),
    Fingerprint(
        DomainDispatcherApplication, "infer_service_region_host", "b4fac9b6aa6baef13071a246d6038ea1b0c5f3bc5ac6ca4b6d25ef9a51a2848e"
    ),
    Fingerprint(DomainDispatcherApplication, "__init__", "fb61347b637f8eff83979113ddfe21358601c71db3a187902989b3df06020389"),
    Fingerprint(werkzeug_app, "create_backend_app", "a317751ebd1c922b780f29ddad94a40364779d7c4e3107bf671d046c2bb8b463"),
    # The base of the server's request handler: it keeps the header names sent_header_names reads.
    Fingerprint(MotoRequestHandler, "make_environ", "42a8722acc21894aaf24b1ecaba8830bd3ff658249f1157b454f1f0d13ecec63"),
    Fingerprint(MockRawResponse, "__init__", "da7ae92b27a165c596eeb1265013b962a89213503d11f380cc7a8489814e08d4"),
    Fingerprint(MockRawResponse, "stream", "0a98c6abea6161802e431fea7b0c31357d60fcb87257f050eaea755d5ff2bd89"),
)
