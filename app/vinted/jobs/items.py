"""What the Vinted handlers send the plugin: item fields and photos from a product."""

from __future__ import annotations

import base64
import mimetypes
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.marketplace.fields import FieldError
from app.models.user.product import Product

#: The largest photo file sent to Vinted (the bridge frame carries it base64-encoded).
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def item_fields(
    product: Product, fields: dict[str, Any], photo_ids: list[str], price: Decimal
) -> dict[str, Any]:
    """The protocol's ``ItemFields`` for ``product`` at ``price``."""
    return {
        "title": product.title.strip(),
        "description": (product.description or "").strip(),
        "price": f"{price:.2f}",
        "currency": product.currency,
        "catalog_id": fields["catalog_id"],
        "brand": fields.get("brand"),
        "size": fields.get("size"),
        "condition": fields["condition"],
        "package_size": fields["package_size"],
        "photo_ids": photo_ids,
    }


def photo_payload(path: Path) -> dict[str, Any]:
    """The ``upload_photo`` payload of one photo file (blocking: run off the loop)."""
    content = path.read_bytes()
    if len(content) > MAX_PHOTO_BYTES:
        raise FieldError(
            "Vinted",
            {"photos": f"{path.name} is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB"},
        )
    content_type = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    return {
        "filename": path.name,
        "content_type": content_type,
        "data_base64": base64.b64encode(content).decode("ascii"),
        "temp_uuid": str(uuid.uuid4()),
    }
