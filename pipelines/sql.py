"""Quoting for the SQL the pipeline writes itself (DuckDB dialect), written once.

Why: table and column names come from the API contract and the warehouse; a name with a quote in
it must stay a name. Every module that builds SQL text quotes through here.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: in double quotes, inner double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a DuckDB string literal: in single quotes, inner single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


__all__ = ["quote_identifier", "quote_literal"]
