"""Marketplace-specific job fields: declared once, validated before any call.

A marketplace declares its fields (eBay category, condition, policies; Etsy taxonomy,
who_made, when_made, profiles) as :class:`FieldSpec`. :func:`resolve_fields` takes each
value from the job's ``input_data``, else the seller's defaults for that marketplace,
checks and converts it, and reports every problem at once with the field's name, so the
seller sees "category_id: required ..." instead of a refusal from the marketplace. The
window's job forms use the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.marketplace.errors import PermanentJobError

Kind = Literal["text", "integer", "choice", "boolean"]


class FieldError(PermanentJobError, ValueError):
    """One or more fields are missing or wrong; ``problems`` maps field to message."""

    def __init__(self, marketplace: str, problems: dict[str, str]) -> None:
        details = "; ".join(f"{name}: {message}" for name, message in problems.items())
        super().__init__(f"Invalid {marketplace} fields: {details}")
        self.problems = problems


@dataclass(frozen=True)
class FieldSpec:
    """One field: how it is called, what it holds, whether a job needs it."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = True
    choices: Sequence[str] = ()
    default: Any = None
    help: str = ""

    def convert(self, value: Any) -> Any:
        """The value in its proper type; raises ValueError with words for the seller."""
        if self.kind == "integer":
            if isinstance(value, bool):
                raise ValueError("must be a whole number")
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ValueError(f"must be a whole number, not {value!r}") from None
            if number <= 0:
                raise ValueError("must be a positive number")
            return number
        if self.kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes"):
                return True
            if text in ("0", "false", "no"):
                return False
            raise ValueError("must be true or false")
        text = str(value).strip()
        if self.kind == "choice" and text not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, not {text!r}")
        if not text:
            raise ValueError("must not be empty")
        return text


def resolve_fields(
    marketplace: str,
    specs: Sequence[FieldSpec],
    input_data: Mapping[str, Any] | None,
    defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The job's field values (input, else seller default, else spec default), checked."""
    given = dict(input_data or {})
    fallback = dict(defaults or {})
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if raw in (None, ""):
            raw = fallback.get(spec.name)
        if raw in (None, ""):
            raw = spec.default
        if raw in (None, ""):
            if spec.required:
                problems[spec.name] = (
                    f"{spec.label} is required (in the job, or as a default in Settings)"
                )
            continue
        try:
            values[spec.name] = spec.convert(raw)
        except ValueError as exc:
            problems[spec.name] = f"{spec.label} {exc}"
    if problems:
        raise FieldError(marketplace, problems)
    return values
