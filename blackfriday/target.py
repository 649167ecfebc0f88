"""Where the pipeline runs: resolve --target/--endpoint-url/--region/--prefix once, for every script."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from blackfriday.errors import UsageProblem
from blackfriday.names import partition_of

LOCAL = "local"
AWS = "aws"
ENDPOINT = "endpoint"  # any AWS-compatible endpoint someone already runs
TARGETS = (LOCAL, AWS)

DEFAULT_REGION = "us-east-1"
DEFAULT_PREFIX = "blackfriday"
DEFAULT_EMULATOR_PORT = 4599
EMULATOR_HOST = "127.0.0.1"

# Every resource name is "<prefix>-<Thing>"; the S3 bucket is the strictest consumer
# (lowercase, 63 chars with account and region appended), so the prefix follows its rules.
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
PREFIX_MAX_LENGTH = 20
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class Target:
    kind: str  # LOCAL, AWS or ENDPOINT
    region: str
    prefix: str
    endpoint_url: str | None  # None on real AWS

    @property
    def is_local(self) -> bool:
        return self.kind == LOCAL

    @property
    def is_aws(self) -> bool:
        return self.kind == AWS

    def describe(self) -> str:
        where = "AWS" if self.is_aws else self.endpoint_url
        return f"{self.kind} ({where}, {self.region}, prefix {self.prefix})"


def emulator_port() -> int:
    raw = os.environ.get("BF_EMULATOR_PORT", str(DEFAULT_EMULATOR_PORT))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise UsageProblem(f"BF_EMULATOR_PORT must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def local_endpoint_url(port: int | None = None) -> str:
    return f"http://{EMULATOR_HOST}:{port or emulator_port()}"


def validate_prefix(prefix: str) -> str:
    """Return the prefix if every resource name derived from it is valid, else say which rule it breaks."""
    if not prefix:
        raise UsageProblem("--prefix must not be empty")
    if len(prefix) > PREFIX_MAX_LENGTH:
        raise UsageProblem(
            f"--prefix {prefix!r} is {len(prefix)} characters; at most {PREFIX_MAX_LENGTH} keep the "
            "bucket, role and function names within AWS limits"
        )
    if not PREFIX_PATTERN.match(prefix):
        raise UsageProblem(
            f"--prefix {prefix!r} must start with a lowercase letter and contain only lowercase "
            "letters, digits and hyphens (S3 bucket naming rules)"
        )
    if prefix.endswith("-") or "--" in prefix:
        raise UsageProblem(f"--prefix {prefix!r} must not end with a hyphen or contain '--'")
    return prefix


def validate_endpoint_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageProblem(f"--endpoint-url {url!r} is not an http(s) URL such as http://localhost:4566")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise UsageProblem(f"--endpoint-url {url!r} has an invalid port") from None
    return url.rstrip("/")


def resolve_target(target: str | None, endpoint_url: str | None, region: str | None, prefix: str | None) -> Target:
    """Turn CLI options (already merged with their env fallbacks by click) into a Target."""
    kind = (target or LOCAL).strip().lower()
    if kind not in TARGETS:
        raise UsageProblem(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    region = (region or DEFAULT_REGION).strip()
    if not REGION_PATTERN.match(region):
        raise UsageProblem(f"--region {region!r} is not an AWS region name such as us-east-1")
    if partition_of(region) is None:
        raise UsageProblem(
            f"--region {region} is in an isolated partition the stack does not support: "
            "use a region of aws, aws-cn (cn-*) or aws-us-gov (us-gov-*)"
        )
    prefix = validate_prefix((prefix or DEFAULT_PREFIX).strip())
    if endpoint_url:
        if kind == AWS:
            raise UsageProblem("--target aws talks to real AWS: unset --endpoint-url / AWS_ENDPOINT_URL, or drop --target aws")
        return Target(ENDPOINT, region, prefix, validate_endpoint_url(endpoint_url))
    if kind == LOCAL:
        return Target(LOCAL, region, prefix, local_endpoint_url())
    return Target(AWS, region, prefix, None)


def endpoint_answers(url: str, timeout: float = 2.0) -> bool:
    """True when something accepts TCP connections at the endpoint's host and port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
