"""A deployed Lambda function as the emulator's runtime sees it (copied out of moto's model by
`fixes.awslambda.deployed_function`), and whether it can run here."""

from __future__ import annotations

from dataclasses import dataclass, field

from blackfriday.emulator.errors import UnsupportedRuntime


@dataclass(frozen=True)
class DeployedFunction:
    """What a warm worker depends on: when any of it changes, the pool is retired and new workers start.

    `package_type` and `code` (the zip) decide whether it runs at all; `code_sha_256` stands for the code in comparisons.
    """

    function_arn: str
    function_name: str
    version: str
    region: str
    handler: str
    runtime: str | None
    code_sha_256: str
    environment: tuple[tuple[str, str], ...]
    timeout: int
    memory_size: int
    package_type: str = field(default="Zip", compare=False)
    code: bytes = field(default=b"", compare=False, repr=False)


def check_runnable(function: DeployedFunction) -> None:
    if function.package_type != "Zip" or not function.code:
        raise UnsupportedRuntime(
            f"function {function.function_name}: only Python zip packages run on the local emulator (no container images)"
        )
    if not (function.runtime or "").startswith("python"):
        raise UnsupportedRuntime(
            f"function {function.function_name}: runtime {function.runtime} is not supported by the local emulator; "
            "only Python runtimes run here"
        )
