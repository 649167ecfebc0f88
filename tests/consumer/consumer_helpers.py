"""Helpers shared by the consumer tests (importable, unlike conftest)."""

from __future__ import annotations

import json


def s3_event(bucket: str, key: str, event_time: str = "2026-11-27T00:00:00.000Z") -> str:
    return json.dumps(
        {
            "Records": [
                {"eventName": "ObjectCreated:Put", "eventTime": event_time, "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
            ]
        }
    )
