"""Lambda: invocations run the function's Python handler in the emulator's warm workers (lambda_runtime.py)."""

from __future__ import annotations

from collections.abc import Callable

from moto.awslambda.models import LambdaFunction

from blackfriday.emulator import lambda_runtime
from blackfriday.emulator.fixes import Patch


def invoke_in_runtime(original: Callable) -> Callable:
    """moto's `LambdaFunction.invoke`, answered by the runtime the server started (moto's echo when none runs: in-process tests)."""

    def invoke(self, body, request_headers, response_headers):
        if lambda_runtime.RUNTIME is None:
            return original(self, body, request_headers, response_headers)
        return lambda_runtime.RUNTIME.invoke(self, body, request_headers, response_headers)

    return invoke


FIXES = (Patch(LambdaFunction, "invoke", "dadc324f30aed38bf9dde5a93000c195ed3e5fb5e984f71ebd4c6629fc89aa2e", invoke_in_runtime),)
RELIED_ON = ()
