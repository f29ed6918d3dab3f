"""Dealers' customer files (CSV, XLSX, JSON) as lists of API customers.

Columns named like the API's customer fields fill those fields; any other column goes
into `additional_fields`. Empty cells are left out. The columns are documented in
docs/uploads.md and in `forecourt upload --help`.
"""

from __future__ import annotations

import csv
import io
import json
import re
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


# Excel keeps `0412345678` typed into a number cell as 412345678 and shows the zero only
# through a number format of zeros (`0000000000`, `0000 000 000`, `00000` for postcodes).
_ZERO_PADDED = re.compile(r"0[0 -]*0")


def _shown(value: Any, number_format: str | None) -> Any:
    """A number cell as the spreadsheet shows it when its format pads it with zeros."""
    if not (isinstance(value, int | float) and number_format and _ZERO_PADDED.fullmatch(number_format)):
        return value
    digits = iter(str(int(value)).zfill(number_format.count("0")))
    shown = "".join(next(digits) if symbol == "0" else symbol for symbol in number_format)
    return shown + "".join(digits)  # a number longer than its format shows all its digits


# A column's target in a mapping: one of FIELDS, kept in `additional_fields` under the
# column's name, or left out.
KEEP = "additional_fields"
IGNORE = "ignore"
TARGETS = (*sorted(FIELDS), KEEP, IGNORE)


def default_target(column: str | None) -> str:
    """What the CLI does with a column: a customer field of that name, else kept in
    `additional_fields`; a column without a name is left out."""
    name = str(column).strip() if column is not None else ""
    if name in FIELDS:
        return name
    return KEEP if name else IGNORE


def map_row(row: Mapping[Any, Any], mapping: Mapping[Any, str]) -> dict[str, Any]:
    """A file's row as an API customer, each column sent where `mapping` says (columns
    it does not name are left out). Empty cells are left out."""
    customer: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_name, raw_value in row.items():
        value = _cell(raw_value)
        target = mapping.get(raw_name, IGNORE)
        if value is None or value == "" or target == IGNORE:
            continue
        if target == KEEP:
            extra[str(raw_name).strip()] = value
        else:
            customer[target] = str(value).strip()
    if extra:
        customer["additional_fields"] = extra
    return customer


def to_customer(row: Mapping[Any, Any]) -> dict[str, Any]:
    return map_row(row, {name: default_target(name) for name in row})


# Each reader yields (row, cells): the row as a spreadsheet or an editor shows it (the
# header is row 1), or for JSON the customer's position from 1. Blank rows are skipped.
Rows = Iterable[tuple[int, Mapping[str, Any]]]


def _csv_rows(body: bytes) -> Rows:
    rows = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    for row in rows:
        yield rows.line_num, row


def _xlsx_rows(body: bytes) -> Rows:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        rows = workbook.active.iter_rows() if workbook.active else iter(())
        header = next(rows, None)
        if header is None:
            return
        names = [str(h.value).strip() if h.value is not None else "" for h in header]
        for number, cells in enumerate(rows, start=2):
            values = [_shown(c.value, getattr(c, "number_format", None)) for c in cells]
            if any(v is not None and v != "" for v in values):  # formatted but empty rows are not customers
                yield number, dict(zip(names, values, strict=False))
    finally:
        workbook.close()


def _json_rows(body: bytes) -> Rows:
    data = json.loads(body.decode("utf-8"))
    rows = data.get("customers") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise InvalidInput("file", 'a JSON file must hold a list of customers or {"customers": [...]}')
    for number, row in enumerate(rows, start=1):
        yield number, row if isinstance(row, dict) else {}


READERS = {".csv": _csv_rows, ".xlsx": _xlsx_rows, ".json": _json_rows}


def read_rows(name: str, body: bytes) -> list[tuple[int, Mapping[str, Any]]]:
    """The rows, with their numbers, of the file `name` (its suffix says the format)
    holding `body`; or InvalidInput naming the file."""
    path = Path(name)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidInput("file", f"{path.name}: expected a .csv, .xlsx or .json file")
    try:
        return list(reader(body))
    except InvalidInput:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"{path.name}: {exc}") from None
    except Exception as exc:
        # A file from a browser can be broken in any way its parser notices (openpyxl and
        # zipfile have exceptions of their own): it is unreadable, not a server error.
        raise InvalidInput("file", f"{path.name}: not a readable {path.suffix[1:].upper()} file") from exc


def columns_of(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[str]:
    """Every column named in the rows, in the order first seen."""
    seen: dict[str, None] = {}
    for _, row in rows:
        for name in row:
            if name is not None and name not in seen:
                seen[name] = None
    return list(seen)


def cell_text(value: Any) -> str:
    """A cell as a person reads it in a preview."""
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_customers(
    name: str, body: bytes, mapping: Mapping[Any, str] | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """The file's customers, and the row each came from (to name rows in errors); the
    columns go where `mapping` says, else where `default_target` sends them."""
    rows = read_rows(name, body)
    if mapping is None:
        numbered = [(number, to_customer(row)) for number, row in rows]
    else:
        numbered = [(number, map_row(row, mapping)) for number, row in rows]
    return [customer for _, customer in numbered], [number for number, _ in numbered]
