"""Dealers' customer files (CSV, XLSX, JSON) as lists of API customers.

Columns named like the API's customer fields fill those fields; any other column goes
into `additional_fields`. Empty cells are left out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from forecourt.core.customers.schemas import CustomerFields
from forecourt.kit.errors import InvalidInput

FIELDS = frozenset(CustomerFields.__struct_fields__) - {"additional_fields"}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # spreadsheets store 4821 as 4821.0
    return value


def to_customer(row: Mapping[str, Any]) -> dict[str, Any]:
    customer: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_name, raw_value in row.items():
        value = _cell(raw_value)
        if raw_name is None or value is None or value == "":
            continue
        name = str(raw_name).strip()
        if name in FIELDS:
            customer[name] = str(value).strip()
        elif name:
            extra[name] = value
    if extra:
        customer["additional_fields"] = extra
    return customer


def _csv_rows(path: Path) -> Iterable[Mapping[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _xlsx_rows(path: Path) -> Iterable[Mapping[str, Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.active.iter_rows(values_only=True) if workbook.active else iter(())
        header = next(rows, None)
        if header is None:
            return
        names = [str(h).strip() if h is not None else "" for h in header]
        for values in rows:
            yield dict(zip(names, values, strict=False))
    finally:
        workbook.close()


def _json_rows(path: Path) -> Iterable[Mapping[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data.get("customers") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise InvalidInput("file", 'a JSON file must hold a list of customers or {"customers": [...]}')
    for row in rows:
        yield row if isinstance(row, dict) else {}


READERS = {".csv": _csv_rows, ".xlsx": _xlsx_rows, ".json": _json_rows}


def read_customers(path: Path) -> list[dict[str, Any]]:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidInput("file", f"{path.name}: expected a .csv, .xlsx or .json file")
    try:
        return [to_customer(row) for row in reader(path)]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"{path.name}: {exc}") from None
