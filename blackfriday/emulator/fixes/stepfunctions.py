"""Step Functions: the interpreter's hot spots (clients, parsing)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from blackfriday.emulator.fixes import Fingerprint, Patch
from blackfriday.emulator.fixes.core import memoized


# The Step Functions interpreter builds a new boto3 client for every Task state (tens of
# milliseconds, and not thread-safe on boto3's default session). Clients are thread-safe once built,
# and the original ignores `state_credentials` (it signs with fixed dummy keys), so one client per
# (region, service) is exact. `state_credentials` is not hashable: it cannot be part of the key.
def cached_boto_client_for(original: Callable) -> Callable:
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region=region, service=service, state_credentials=state_credentials)
        return client

    return boto_client_for


# Every execution parses its state machine's definition again with ANTLR
# (ExecutionWorker._get_evaluation_entrypoint): about 60 ms of server CPU per execution for the
# order workflow, more than all its Lambda calls. The parsed program holds no execution state (retry
# counters live in each execution's Environment heap), so one parse per definition serves them all.
PARSED_DEFINITIONS_KEPT = 16


def cached_entrypoint(original: Callable) -> Callable:
    @functools.lru_cache(maxsize=PARSED_DEFINITIONS_KEPT)
    def parse(definition: str):
        from moto.stepfunctions.parser.asl.parse.asl_parser import (
            AmazonStateLanguageParser,
        )

        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self):
        return parse(self._evaluation_details.state_machine_details.definition)

    return _get_evaluation_entrypoint


FIXES = (
    Patch(boto_client, "boto_client_for", "1f44dc2ac8aa2179df62365a6e5ea377f1770ea828a0f107440a2554f1b4edb8", cached_boto_client_for, hot_spot=True),
    Patch(ExecutionWorker, "_get_evaluation_entrypoint", "2b25949ae855da8035b347b28ac72f90d7d6542bf26ef7e1f03a50ce6a981fde", cached_entrypoint, hot_spot=True),
    # extract_json builds a new jsonpath parser (a yacc table) for every path of every state of
    # every execution; parsed paths hold no data, so each distinct path is parsed once.
    Patch(json_path, "parse", "8e8fc5e91980418de2f2dda0105ef9082ea234aeb8625c1a96401aeb399e50b7", memoized, hot_spot=True),
)
RELIED_ON = (Fingerprint(json_path, "extract_json", "932245247973780c72287b75597e70031472f0cd764f35a199100d8a195987a4"),)
