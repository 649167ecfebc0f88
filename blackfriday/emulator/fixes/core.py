"""moto's request dispatch and name helpers: hot spots every request pays."""

from __future__ import annotations

import functools
from collections.abc import Callable

import moto.backends
import moto.core.utils as moto_utils
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

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


FIXES = (
    Patch(moto.backends, "list_of_moto_modules", "4f741a10b06500e840c3aaa1b4f02706e6f2bfbababc0e8a2a7b9c9d0e8957dc", cached_list_of_moto_modules, hot_spot=True),
    Patch(moto_utils, "camelcase_to_underscores", "084cdc5bab92db95a0ebd8d554c70b212a057d35825b08ca3b80b202d4965eb3", memoized, hot_spot=True),
    Patch(moto_utils, "method_names_from_class", "9dbac89d082b655fee902c450e69de9dbadf9699ad06411298494984b55138c3", memoized, hot_spot=True),
)
# The server calls `backends.list_of_moto_modules()` through the module.
RELIED_ON = (Fingerprint(DomainDispatcherApplication, "get_backend_for_host", "1f41972c1e4e660fbf4e4ddfeeed2fdff56dc105a8f8e1bf015640f710ef511a"),)
