"""Lambda functions and their log groups (the kinds and their operations): deterministic deployment zips, create or
converge code and configuration."""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from blackfriday.errors import error_code, error_message
from blackfriday.functions import FunctionSpec
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, retry_while
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on, reported_deletion
from blackfriday.vendoring import vendored_files

RUNTIME = "python3.13"  # Amazon Linux 2023; python3.11 runs on Amazon Linux 2 (end of life June 2026)
PACKAGE = "blackfriday"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so unchanged sources give the same CodeSha256
ZIP_FILE_MODE = 0o100644 << 16


LOG_RETENTION_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class LogGroup(Resource):
    kind: ClassVar[str] = "log group"
    function: str  # the function's short name
    retention_days: int = LOG_RETENTION_DAYS

    def name(self, names: StackNames) -> str:
        return names.log_group(self.function)

    def arn(self, names: StackNames) -> str:
        return names.arn("logs", f"log-group:{self.name(names)}:*")


@dataclass(frozen=True, kw_only=True)
class Function(Resource):
    kind: ClassVar[str] = "lambda function"
    spec: FunctionSpec
    role: str
    log_group: str

    def name(self, names: StackNames) -> str:
        return names.function(self.spec.short_name)

    def arn(self, names: StackNames) -> str:
        return names.function_arn(self.spec.short_name)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # the log group first, so Lambda does not create one that keeps logs forever
        return self.role, self.log_group


@functools.cache  # each zip walks the same modules: parse each source once
def _imported_modules(source: str) -> frozenset[str]:
    """Dotted names of the project package's modules that a source file imports (absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == PACKAGE:
            found.add(node.module)
            # `from blackfriday import domain` names a module, not an attribute
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def package_files(handler: Path, root: Path) -> dict[str, bytes]:
    """The handler at the zip root plus every project module it imports, transitively, with their packages' __init__,
    and the third-party modules those import (Powertools), which the Lambda runtime does not have."""
    files = {handler.name: handler.read_bytes()}
    pending = list(_imported_modules(handler.read_text()))
    while pending:
        module = pending.pop()
        path = _module_file(root, module)
        if path is None:
            continue  # an attribute imported from a module (from blackfriday.domain import PRODUCTS)
        archive_name = path.relative_to(root).as_posix()
        if archive_name in files:
            continue
        files[archive_name] = path.read_bytes()
        pending.extend(_imported_modules(path.read_text()))
        parts = module.split(".")
        pending.extend(".".join(parts[:depth]) for depth in range(1, len(parts)))  # the enclosing packages
    files.update(vendored_files(files))
    return files


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.external_attr = ZIP_FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """As Lambda reports it in CodeSha256."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    role_arn: str
    handler: str
    description: str
    timeout: int
    memory_mb: int
    environment: dict[str, str]
    zip_bytes: bytes

    def settings(self) -> dict:
        """The configuration as UpdateFunctionConfiguration takes it."""
        return {
            "Role": self.role_arn,
            "Handler": self.handler,
            "Runtime": RUNTIME,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_mb,
            "Environment": {"Variables": dict(self.environment)},
        }


def _role_not_assumable_yet(error) -> bool:
    # A role created seconds ago is not yet visible to Lambda (IAM is eventually consistent).
    return error_code(error) == "InvalidParameterValueException" and "cannot be assumed" in error_message(error)


def _current_settings(configuration: dict) -> dict:
    return {
        "Role": configuration.get("Role"),
        "Handler": configuration.get("Handler"),
        "Runtime": configuration.get("Runtime"),
        "Description": configuration.get("Description", ""),
        "Timeout": configuration.get("Timeout"),
        "MemorySize": configuration.get("MemorySize"),
        "Environment": {"Variables": configuration.get("Environment", {}).get("Variables", {})},
    }


def current_function(lambda_client, name: str) -> dict | None:
    try:
        return lambda_client.get_function(FunctionName=name)["Configuration"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def function_differences(current: dict, config: FunctionConfig) -> list[str]:
    """What setup would change on the deployed function: "code hash", "configuration: Timeout, ..."."""
    differences = []
    if current.get("CodeSha256") != code_sha256(config.zip_bytes):
        differences.append("code hash")
    settings = _current_settings(current)
    changed = [setting for setting, value in config.settings().items() if settings[setting] != value]
    if changed:
        differences.append(f"configuration: {', '.join(changed)}")
    return differences


def ensure_function(lambda_client, config: FunctionConfig, *, sleep) -> Action:
    """Create the function, or update its code and/or configuration in place; returns once it is ready."""
    current = current_function(lambda_client, config.name)
    if current is None:
        retry_while(
            lambda: lambda_client.create_function(FunctionName=config.name, Code={"ZipFile": config.zip_bytes}, **config.settings()),
            _role_not_assumable_yet,
            sleep=sleep,
        )
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=config.name)
        return Action.CREATED
    # An interrupted earlier run may have left it starting or mid-update.
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=config.name)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=config.name)
    differences = function_differences(current, config)
    if "code hash" in differences:
        lambda_client.update_function_code(FunctionName=config.name, ZipFile=config.zip_bytes)
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=config.name)
    if any(difference.startswith("configuration") for difference in differences):
        retry_while(
            lambda: lambda_client.update_function_configuration(FunctionName=config.name, **config.settings()),
            _role_not_assumable_yet,
            sleep=sleep,
        )
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=config.name)
    return Action.UPDATED if differences else Action.UNCHANGED


def delete_function(lambda_client, name: str) -> bool:
    try:
        lambda_client.delete_function(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return True


def find_log_group(logs, name: str) -> dict | None:
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return group
    return None


def log_group_differences(group: dict, retention_days: int) -> list[str]:
    return [] if group.get("retentionInDays") == retention_days else ["configuration: retention"]


def ensure_log_group(logs, name: str, retention_days: int) -> Action:
    """The function's log group, created ahead of Lambda so it does not keep logs forever."""
    group = find_log_group(logs, name)
    if group is None:
        try:
            logs.create_log_group(logGroupName=name)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass  # the function logged between our look-up and now
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        return Action.CREATED
    if log_group_differences(group, retention_days):
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        return Action.UPDATED
    return Action.UNCHANGED


def delete_log_group(logs, name: str) -> bool:
    try:
        logs.delete_log_group(logGroupName=name)
    except logs.exceptions.ResourceNotFoundException:
        return False
    return True


@operates_on(LogGroup)
class LogGroupOperations(Operations):
    listing = Listing(
        "logs",
        "describe_log_groups",
        "logGroups",
        lambda item: item["logGroupName"],
        lambda names: {"logGroupNamePrefix": f"/aws/lambda/{names.prefix}-"},
    )

    def read(self, context, group: LogGroup):
        return find_log_group(context.client("logs"), group.name(context.names))

    def differences(self, context, group, current):
        return log_group_differences(current, group.retention_days)

    def apply(self, context, group):
        return ensure_log_group(context.client("logs"), group.name(context.names), group.retention_days)

    def delete(self, context, group):
        name = group.name(context.names)
        return reported_deletion(group, name, delete_log_group(context.client("logs"), name))


@operates_on(Function)
class FunctionOperations(Operations):
    noun = "function"
    listing = Listing("lambda", "list_functions", "Functions", lambda item: item["FunctionName"])

    @staticmethod
    def config(context: Context, function: Function) -> FunctionConfig:
        values = context.manifest.environment_values(context.names)
        return FunctionConfig(
            name=function.name(context.names),
            role_arn=context.arn(function.role),
            handler=f"{function.spec.short_name}.handler",
            description=function.spec.description,
            timeout=function.spec.timeout_seconds,
            memory_mb=function.spec.memory_mb,
            environment={variable: values[variable] for variable in function.spec.environment},
            zip_bytes=context.artefacts.zips[function.spec.short_name],
        )

    def read(self, context, function: Function):
        return current_function(context.client("lambda"), function.name(context.names))

    def differences(self, context, function, current):
        return function_differences(current, self.config(context, function))

    def apply(self, context, function):
        return ensure_function(context.client("lambda"), self.config(context, function), sleep=context.sleep)

    def delete(self, context, function):
        name = function.name(context.names)
        return reported_deletion(function, name, delete_function(context.client("lambda"), name))
