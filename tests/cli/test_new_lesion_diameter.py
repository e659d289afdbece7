"""A new lesion's measured longest diameter (data-transfer.md ``viable_diameter_mm``).

"new lesions: their longest diameter when the reader measured one (it supports the
≥ 10 mm rule for an unequivocal new HCC), else empty": ``assess``, ``import`` and
``export`` accept it and keep it.
"""

import csv
import io
from pathlib import Path

import pytest

from mrecist_reader.cli import main

EXAMPLE = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "measurements"
    / "nct06779461_central_two_subjects.csv"
)
DIAMETERS = {"equivocal": "8.0", "present": "14.0"}


def with_new_lesion_diameters(tmp_path: Path, diameters: dict[str, str]) -> Path:
    """Copy the example, giving its new lesion N1 a diameter per status."""
    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or ())
        rows = list(reader)
    changed = 0
    for row in rows:
        if row["lesion_type"] == "new":
            row["viable_diameter_mm"] = diameters[row["status"]]
            changed += 1
    assert changed == 2
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "measurements.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def new_lesion_cells(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (row["timepoint"], row["status"], row["viable_diameter_mm"])
            for row in csv.DictReader(handle)
            if row["lesion_type"] == "new"
        ]


def test_assess_accepts_new_lesion_diameters_and_responds_as_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", str(EXAMPLE)]) == 0
    without = capsys.readouterr().out
    source = with_new_lesion_diameters(tmp_path, DIAMETERS)
    assert main(["assess", str(source)]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (without, "")


def test_import_then_export_keeps_new_lesion_diameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = with_new_lesion_diameters(tmp_path, DIAMETERS)
    db = f"sqlite:///{tmp_path / 'reads.db'}"
    assert main(["import", str(source), "--db", db]) == 0
    assert main(["export", "--db", db, "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert new_lesion_cells(tmp_path / "out" / "measurements.csv") == [
        ("FU1", "equivocal", "8.0"),
        ("FU2", "present", "14.0"),
    ]


def test_a_new_lesion_diameter_of_zero_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = with_new_lesion_diameters(tmp_path, {"equivocal": "", "present": "0.0"})
    assert main(["assess", str(source)]) == 1
    assert capsys.readouterr().err == (
        f"{source}:15: N1 at FU2: diameter 0.0 mm given, expected empty or the new "
        "lesion's measured longest diameter above 0.0 mm\n"
    )
