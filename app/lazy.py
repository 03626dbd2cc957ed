"""Names a package exports but loads on first use (PEP 562 module ``__getattr__``).

A package whose ``__init__`` would otherwise import heavy modules (SQLAlchemy, the
processor) names where each export lives instead, so that importing one light module of
the package loads nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``homes[name]`` on first use."""

    def exported(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return exported
