"""The CSV columns are exactly the tables of shared/spec/data-transfer.md."""

import re
from pathlib import Path

import pytest

from mrecist_reader.transfer.columns import (
    MEASUREMENT_COLUMNS,
    MEASUREMENT_COLUMNS_V1,
    RESPONSE_COLUMNS,
    RESPONSE_COLUMNS_V1,
    ReadRole,
)

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


def second_version() -> str:
    if not SPEC.is_file():
        pytest.skip("shared/spec/data-transfer.md is absent (a user's clone)")
    text = SPEC.read_text(encoding="utf-8")
    return text.split("## Added in the second version of the files")[1]


def test_measurement_columns_match_the_spec() -> None:
    assert spec_columns("measurements.csv") == MEASUREMENT_COLUMNS_V1


def test_response_columns_match_the_spec() -> None:
    assert spec_columns("responses.csv") == RESPONSE_COLUMNS_V1


def test_the_second_versions_columns_are_appended_in_the_specs_order() -> None:
    section = second_version()
    added = (
        "read_role",
        "source_reader",
        "whole_diameter_mm",
        "viable_perpendicular_mm",
    )
    positions = [section.index(f"`{column}`") for column in added]
    assert positions == sorted(positions)
    assert (*MEASUREMENT_COLUMNS_V1, *added) == MEASUREMENT_COLUMNS
    assert (*RESPONSE_COLUMNS_V1, *added[:2]) == RESPONSE_COLUMNS


def test_the_read_roles_are_the_specs() -> None:
    roles = re.search(r"`read_role` \(([^)]*)\)", second_version())
    assert roles is not None
    assert re.findall(r"`([a-z]+)`", roles.group(1)) == [str(r) for r in ReadRole]
