"""One request at a time into moto's backends.

moto's in-memory backends are not thread-safe: under concurrent requests DynamoDB transactions
fail with "dictionary changed size during iteration" (HTTP 500) and conditional writes can race,
which would break "stock never below zero whatever the concurrency". The GIL already serialises
their Python work, so one lock costs little. Two kinds of request must not hold it while they wait:
- Lambda invocations wait for a worker process whose handler calls back into this server (those moto
  makes from inside a gated request, such as SNS delivering to a Lambda, release the gate: `released()`);
- SQS long polls wait for messages that only another request can add.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from blackfriday.emulator import HEALTH_PATH

BACKENDS_LOCK = threading.Lock()
LONG_POLL_SLICE_SECONDS = 0.25  # a waiting receive re-checks the queue at least this often
_gate = threading.local()


def is_lambda_invocation(path: str) -> bool:
    return "/functions/" in path and path.rstrip("/").endswith("/invocations")


class RequestGate:
    """WSGI middleware: answers the health route and serialises requests into moto's backends."""

    def __init__(self, app, health_body: bytes):
        self.app = app
        self.health_body = health_body

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(self.health_body)))])
            return [self.health_body]
        if is_lambda_invocation(path) or getattr(_gate, "inside", False):
            # An invocation waits for its handler, which calls back; a call made from inside a gated
            # request (the interpreter's, in-process) already holds the lock.
            return self.app(environ, start_response)
        with BACKENDS_LOCK:
            _gate.inside = True
            try:
                # moto builds whole responses inside the call: nothing of the backends is read after it.
                return self.app(environ, start_response)
            finally:
                _gate.inside = False


@contextlib.contextmanager
def released() -> Iterator[None]:
    """Let other requests into the backends while this thread, inside a gated request, waits."""
    if not getattr(_gate, "inside", False):
        yield
        return
    BACKENDS_LOCK.release()
    _gate.inside = False
    try:
        yield
    finally:
        BACKENDS_LOCK.acquire()
        _gate.inside = True


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Touch the backends from a thread that is not inside a gated request (Lambda logs of an invocation)."""
    if getattr(_gate, "inside", False):
        yield
        return
    with BACKENDS_LOCK:
        _gate.inside = True
        try:
            yield
        finally:
            _gate.inside = False


def wait_for_messages_outside_the_gate(original: Callable) -> Callable:
    """Queue.wait_for_messages, called by a long-polling ReceiveMessage, without holding the gate (a fix in fixes/sqs.py).

    It waits for add_message's notification (or a short slice) with the lock released; moto's
    receive loop then re-checks the queue under the lock until WaitTimeSeconds is over.
    """

    def wait_for_messages(self, timeout: int) -> None:
        if not getattr(_gate, "inside", False):
            return original(self, timeout)
        with released(), self._messages_lock:
            self._messages_lock.wait(timeout=min(timeout, LONG_POLL_SLICE_SECONDS))
        return None

    return wait_for_messages
