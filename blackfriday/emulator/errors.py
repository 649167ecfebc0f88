"""The emulator's exceptions, in one place.

The Lambda runtime's request errors are moto Lambda client errors, so moto answers them as AWS does (an
error code and message, HTTP 400). `lambda_worker.HandlerError` stays in the worker script: it runs with the
standard library only and imports nothing of this package.
"""

from __future__ import annotations

from moto.awslambda.exceptions import LambdaClientError


class UnsupportedRuntime(LambdaClientError):
    """Only Python zip functions run here; anything else gets this instead of moto's silent echo."""

    def __init__(self, message: str):
        # AWS answers 502, which SDKs retry as transient: 400 makes the clear error come back at once.
        super().__init__("InvalidRuntimeException", message)


class InvalidRequestContent(LambdaClientError):
    def __init__(self, message: str):
        super().__init__("InvalidRequestContentException", message)


class WorkerGone(Exception):
    """The worker process ended (exit, crash) or stopped answering within its deadline."""


class EmulatorStartError(RuntimeError):
    """The emulator process did not become healthy (the message names its log)."""
