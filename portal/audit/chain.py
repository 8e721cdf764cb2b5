"""The tamper-evident chain: what an audit event's hash covers, and how it is computed.

Each event stores ``prev_hash`` (the hash of the event before it, None for the first) and
``hash``: the SHA-256 of a canonical serialization of its fields and ``prev_hash``. Editing an
event changes what its hash should be; deleting one leaves the next event pointing at a hash
that no longer exists. Migration 0009 holds a frozen copy of this function: change both, or
neither.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

CHAINED_FIELDS = (
    "id",
    "occurred_at",
    "action",
    "actor_id",
    "actor_email",
    "partner_id",
    "target_type",
    "target_id",
    "summary",
    "details",
    "ip_address",
    "user_agent",
)


def utc_text(value: datetime) -> str:
    """A timestamp as UTC ISO 8601 with microseconds, e.g. ``2026-03-02T10:00:00.000000Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted-key, compact, ASCII JSON: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def event_hash(fields: Mapping[str, Any], prev_hash: str | None) -> str:
    """The hex SHA-256 sealing one event: its ``CHAINED_FIELDS`` plus ``prev_hash``.

    ``details`` is taken as the database gives it back (JSON), so a value written as a tuple
    or with integer keys hashes the same before and after it is stored.
    """
    document = {name: fields[name] for name in CHAINED_FIELDS}
    document["occurred_at"] = utc_text(document["occurred_at"])
    document["details"] = json.loads(json.dumps(document["details"]))
    document["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(document).encode("ascii")).hexdigest()
