"""Idempotency keys of jobs: the same request twice is one job."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def idempotency_key(
    marketplace: str, code: str, product_id: int | None, input_data: dict[str, Any] | None
) -> str:
    """The key that makes a repeated request return the job already queued.

    Same marketplace, action, product and input means the same job; a different input
    (another message to answer, a new price) is a different job and is not lost.
    """
    digest = ""
    if input_data:
        canonical = json.dumps(input_data, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"{marketplace}:{code}:{product_id if product_id is not None else '-'}:{digest}"
