"""S3: event notifications name the object as S3 does."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote_plus

from moto.s3 import notifications

from blackfriday.emulator.fixes.registry import Patch


# S3 URL-encodes the object key of an event notification as a form value (spaces as `+`) but keeps
# `/`: `orders/2026/11/27/o 1.json` arrives as `orders/2026/11/27/o+1.json`. moto encodes `/` too
# (`orders%2F2026%2F...`). Readers decode with unquote_plus either way; the key now reads as on AWS.
def key_encoded_as_s3_does(original: Callable) -> Callable:
    def _get_s3_event(event_name, bucket, key, notification_id):
        event = original(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            record["s3"]["object"]["key"] = quote_plus(key.name, safe="/")
        return event

    return _get_s3_event


FIXES = (Patch(notifications, "_get_s3_event", "e3f2ed740c7b2971d1a9eaadd72062ac371ba6b116b49efcb29634e05803a17c", key_encoded_as_s3_does),)
RELIED_ON = ()
