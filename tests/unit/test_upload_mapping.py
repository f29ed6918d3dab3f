"""A file's row mapped to a customer: the CLI's matching by column name, and the
workspace's mapping chosen column by column (core/uploads/files.py)."""

from __future__ import annotations

from datetime import date

from forecourt.core.uploads import files


def test_the_default_mapping_is_the_clis_matching() -> None:
    assert files.default_target(" vin ") == "vin"
    assert files.default_target("Rego No") == files.KEEP
    assert files.default_target("") == files.IGNORE
    assert files.default_target(None) == files.IGNORE
    row = {" rego ": " ABC123 ", "state": "VIC", "Phone": "0412", "": "x", "empty": "", None: ["extra"]}
    assert files.to_customer(row) == {
        "rego": "ABC123",
        "state": "VIC",
        "additional_fields": {"Phone": "0412"},
    }


def test_a_chosen_mapping_sends_each_column_where_it_says() -> None:
    row = {"Plate": "ABC123", "vin": "not the vin", "When": date(2024, 3, 1), "Km": 4821.0, "Notes": "n"}
    mapping = {"Plate": "rego", "vin": files.IGNORE, "When": "sale_date", "Km": files.KEEP}
    assert files.map_row(row, mapping) == {
        "rego": "ABC123",
        "sale_date": "2024-03-01",
        "additional_fields": {"Km": 4821},  # a column the mapping does not name is left out
    }


def test_cells_as_a_preview_shows_them() -> None:
    assert files.cell_text(None) == ""
    assert files.cell_text(4821.0) == "4821"
    assert files.cell_text(date(2024, 3, 1)) == "2024-03-01"
    assert files.cell_text({"a": "ü"}) == '{"a": "ü"}'
