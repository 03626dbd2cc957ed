"""The seller's catalog: checking, storing, importing and exporting products (no Qt).

* :mod:`app.catalog.validation` - :class:`ProductInput` as typed, :func:`validate`, and
  the exception tree rooted at :class:`CatalogError`;
* :mod:`app.catalog.store` - :class:`CatalogStore`: list (with listing states), create,
  update, delete, SKU uniqueness;
* :mod:`app.catalog.photos` - photo files under ``<photos_dir>/<product id>/``;
* :mod:`app.catalog.csv_io` - CSV preview, all-or-nothing import, export.

Everything logs to the ``marketdesk.catalog`` logger and blocks: the window calls it
through ``UiContext.run``.
"""

from app.catalog.csv_io import (
    ImportPreview,
    PreviewRow,
    RowProblem,
    commit_import,
    export_file,
    parse_csv,
    preview_file,
)
from app.catalog.store import CatalogStore, ListingInfo, ProductRow
from app.catalog.validation import (
    CONDITION_LABELS,
    CONDITIONS,
    FIELDS,
    CatalogError,
    CsvImportError,
    DuplicateSkuError,
    PhotoError,
    ProductChangedError,
    ProductInput,
    ProductInUseError,
    ProductNotFoundError,
    ProductValidationError,
    ProductValues,
    validate,
)

__all__ = [
    "CONDITIONS",
    "CONDITION_LABELS",
    "FIELDS",
    "CatalogError",
    "CatalogStore",
    "CsvImportError",
    "DuplicateSkuError",
    "ImportPreview",
    "ListingInfo",
    "PhotoError",
    "PreviewRow",
    "ProductChangedError",
    "ProductInUseError",
    "ProductInput",
    "ProductNotFoundError",
    "ProductRow",
    "ProductValidationError",
    "ProductValues",
    "RowProblem",
    "commit_import",
    "export_file",
    "parse_csv",
    "preview_file",
    "validate",
]
