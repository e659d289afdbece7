"""The CSV columns are exactly the tables of shared/spec/data-transfer.md."""

import re
from pathlib import Path

import pytest

from mrecist_reader.transfer.columns import MEASUREMENT_COLUMNS, RESPONSE_COLUMNS

SPEC = (
    Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "data-transfer.md"
)


def spec_columns(section: str) -> tuple[str, ...]:
    if not SPEC.is_file():
        pytest.skip("shared/spec/data-transfer.md is absent (a user's clone)")
    text = SPEC.read_text(encoding="utf-8")
    table = text.split(f"### {section}")[1].split("\n\n| column")[1].split("\n\n")[0]
    names: list[str] = []
    for row in table.splitlines()[1:]:
        first_cell = row.split("|")[1]
        names += re.findall(r"[a-z][a-z0-9_]*", first_cell)
    return tuple(names)


def test_measurement_columns_match_the_spec() -> None:
    assert spec_columns("measurements.csv") == MEASUREMENT_COLUMNS


def test_response_columns_match_the_spec() -> None:
    assert spec_columns("responses.csv") == RESPONSE_COLUMNS
