"""Helpers the built-in checks share: common parameters, ratios, and which column to excerpt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpusgit.quality.api import Param

if TYPE_CHECKING:
    from corpusgit.quality.table import TableData

TEXT_NAMES = ("text", "content", "document", "body")  # what corpora call their text column


def column_param(help: str = "the text column to check") -> Param:
    return Param("column", "column", "text", help)


def ratio(part: int | float, whole: int | float) -> float:
    """part/whole, 0 for an empty whole (an empty table violates no ratio)."""
    return float(part) / float(whole) if whole else 0.0


def display_column(table: TableData) -> str | None:
    """The column whose text identifies a row in reports: a usual text name, else the first
    string column, else none (samples then show only row ids and keys)."""
    from corpusgit.quality.facts import is_text_type

    names = [f.name for f in table.schema if is_text_type(f.type)]
    for name in TEXT_NAMES:
        if name in names:
            return name
    return names[0] if names else None
