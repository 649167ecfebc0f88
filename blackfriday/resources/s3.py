"""The orders bucket: encryption, public access block, TLS-only policy, and the filtered event notification (the kinds,
their operations, the calls)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from botocore.exceptions import ClientError

from blackfriday.errors import RunFailure, error_code, error_message
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, CannotConverge, policy, retry_while, same_policy
from blackfriday.resources.kinds import ABSENT, Context, Listing, Operations, operates_on
from blackfriday.resources.sns import Subscription

NOTIFICATION_ID = "new-orders-to-sns"
SSE_S3 = "AES256"
BLOCK_ALL_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DELETE_BATCH = 1000  # DeleteObjects' limit


@dataclass(frozen=True, kw_only=True)
class Bucket(Resource):
    kind: ClassVar[str] = "s3 bucket"
    environment: str | None = None  # the variable that carries its name into Lambdas

    def name(self, names: StackNames) -> str:
        return names.bucket

    def arn(self, names: StackNames) -> str:
        return names.bucket_arn

    def reference(self, names: StackNames) -> str:
        return names.bucket


@dataclass(frozen=True, kw_only=True)
class BucketNotification(Resource):
    kind: ClassVar[str] = "s3 notification"
    bucket: str
    topic: str
    prefix: str
    suffix: str

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # Last of the event path: S3 checks that the topic policy lets it publish, and the first events find the queues subscribed.
        subscribed = tuple(item.key for item in manifest.of(Subscription) if item.topic == self.topic)
        return self.bucket, self.topic, *subscribed

    def shown_name(self, manifest: Manifest, names: StackNames) -> str:
        return f"{manifest[self.bucket].name(names)} {self.prefix}*{self.suffix} -> {manifest[self.topic].name(names)}"


def tls_only_policy(names: StackNames) -> dict:
    return policy(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [names.bucket_arn, f"{names.bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def notification_configuration(topic_arn: str, prefix: str, suffix: str) -> dict:
    """Only objects under `prefix` ending in `suffix` notify: receipts/ and reports/ are written without waking anyone."""
    return {
        "TopicConfigurations": [
            {
                "Id": NOTIFICATION_ID,
                "TopicArn": topic_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": prefix},
                            {"Name": "suffix", "Value": suffix},
                        ]
                    }
                },
            }
        ]
    }


def bucket_exists(s3, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        if error_code(error) in ("403", "AccessDenied"):
            raise CannotConverge(f"bucket {bucket} exists but belongs to another account: choose another --prefix") from None
        raise


def _create_bucket(s3, names: StackNames, sleep) -> None:
    location = {} if names.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": names.region}}
    try:
        retry_while(
            lambda: s3.create_bucket(Bucket=names.bucket, **location),
            # the same name deleted moments ago (teardown, then setup) is briefly "in progress"
            lambda error: error_code(error) == "OperationAborted",
            sleep=sleep,
        )
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    except s3.exceptions.BucketAlreadyExists:
        raise CannotConverge(f"bucket {names.bucket} is taken by another account: choose another --prefix") from None


def _encryption_differs(s3, bucket: str) -> bool:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    return [rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules] != [SSE_S3]


def _put_encryption(s3, names: StackNames) -> None:
    s3.put_bucket_encryption(
        Bucket=names.bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3}}]},
    )


def _public_access_block_differs(s3, bucket: str) -> bool:
    try:
        current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    return current != BLOCK_ALL_PUBLIC_ACCESS


def _put_public_access_block(s3, names: StackNames) -> None:
    s3.put_public_access_block(Bucket=names.bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)


def _policy_differs(s3, names: StackNames) -> bool:
    try:
        current = s3.get_bucket_policy(Bucket=names.bucket)["Policy"]
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        current = None
    return not same_policy(current, tls_only_policy(names))


def _put_policy(s3, names: StackNames) -> None:
    s3.put_bucket_policy(Bucket=names.bucket, Policy=json.dumps(tls_only_policy(names)))


def bucket_differences(s3, names: StackNames, tls_only: bool) -> list[str]:
    """What setup would change on the existing bucket: "encryption", "public access block", "policy"."""
    differences = []
    if _encryption_differs(s3, names.bucket):
        differences.append("encryption")
    if _public_access_block_differs(s3, names.bucket):
        differences.append("public access block")
    if tls_only and _policy_differs(s3, names):
        differences.append("policy")
    return differences


_CONVERGE = {"encryption": _put_encryption, "public access block": _put_public_access_block, "policy": _put_policy}


def ensure_bucket(s3, names: StackNames, *, tls_only: bool, sleep) -> Action:
    """The bucket with SSE-S3, every public access blocked and (when the endpoint speaks TLS) a TLS-only policy."""
    exists = bucket_exists(s3, names.bucket)
    if not exists:
        _create_bucket(s3, names, sleep)
    differences = bucket_differences(s3, names, tls_only)
    for difference in differences:
        _CONVERGE[difference](s3, names)
    if not exists:
        return Action.CREATED
    return Action.UPDATED if differences else Action.UNCHANGED


def _comparable_notifications(configuration: dict) -> dict:
    def rules(entry: dict) -> list:
        return sorted((rule["Name"].lower(), rule["Value"]) for rule in entry.get("Filter", {}).get("Key", {}).get("FilterRules", []))

    return {
        kind: sorted(
            (entry.get("TopicArn") or entry.get("QueueArn") or entry.get("LambdaFunctionArn"), sorted(entry["Events"]), rules(entry))
            for entry in configuration.get(kind, [])
        )
        for kind in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")
    }


def _destination_not_validated_yet(error: ClientError) -> bool:
    # S3 checks it may publish to the topic; a topic policy set a moment ago may not have propagated.
    return error_code(error) == "InvalidArgument" and "destination" in error_message(error).lower()


def notification_differences(s3, bucket: str, desired: dict) -> list[str] | None:
    """None when the bucket notifies nothing yet; else what differs from `desired`."""
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    if not any(current.get(kind) for kind in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")):
        return None
    return [] if _comparable_notifications(current) == _comparable_notifications(desired) else ["configuration"]


def ensure_bucket_notification(s3, bucket: str, desired: dict, *, sleep) -> Action:
    """Put the notification configuration (after the topic policy lets the bucket publish) unless it is in place."""
    differences = notification_differences(s3, bucket, desired)
    if differences == []:
        return Action.UNCHANGED
    retry_while(
        lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=desired),
        _destination_not_validated_yet,
        sleep=sleep,
    )
    return Action.CREATED if differences is None else Action.UPDATED


def empty_and_delete_bucket(s3, bucket: str) -> int | None:
    """Delete every object version and delete marker, then the bucket; the object count, None when absent.

    Each round lists from the start again: paging on with a key marker past objects that were just
    deleted skips the rest on some endpoints (moto ended a 1,681-object listing after the first page).
    """
    removed = 0
    try:
        while True:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
            keys = [
                {"Key": item["Key"], "VersionId": item["VersionId"]} for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if not keys:
                break
            for start in range(0, len(keys), DELETE_BATCH):
                batch = keys[start : start + DELETE_BATCH]
                errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
                if errors:
                    first = errors[0]
                    raise RunFailure(f"DeleteObjects on {bucket} failed for {len(errors)} objects, e.g. {first['Key']}: {first['Code']}")
                removed += len(batch)
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        return None
    return removed


@operates_on(Bucket)
class BucketOperations(Operations):
    noun = "bucket"
    listing = Listing("s3", "list_buckets", "Buckets", lambda item: item["Name"])

    def read(self, context, bucket: Bucket):
        return True if bucket_exists(context.client("s3"), bucket.name(context.names)) else ABSENT

    def differences(self, context, bucket, current):
        return bucket_differences(context.client("s3"), context.names, context.tls_only)

    def apply(self, context, bucket):
        return ensure_bucket(context.client("s3"), context.names, tls_only=context.tls_only, sleep=context.sleep)

    def delete(self, context, bucket):
        objects = empty_and_delete_bucket(context.client("s3"), bucket.name(context.names))
        return [] if objects is None else [f"{bucket.kind} {bucket.name(context.names)} ({objects} object versions)"]


@operates_on(BucketNotification)
class BucketNotificationOperations(Operations):
    """Goes with its bucket."""

    deletable = False

    @staticmethod
    def configuration(context: Context, notification: BucketNotification) -> dict:
        return notification_configuration(context.arn(notification.topic), notification.prefix, notification.suffix)

    def read(self, context, notification: BucketNotification):
        try:
            bucket = context.name(notification.bucket)
            return notification_differences(context.client("s3"), bucket, self.configuration(context, notification))
        except ClientError as error:
            if error_code(error) == "NoSuchBucket":
                return ABSENT
            raise

    def differences(self, context, notification, current):
        return current

    def apply(self, context, notification):
        return ensure_bucket_notification(
            context.client("s3"), context.name(notification.bucket), self.configuration(context, notification), sleep=context.sleep
        )
