"""`mrecist-reader scan PATH [--json]`."""

import json
from pathlib import Path

import pytest

from mrecist_reader.cli import main
from tests.kit.dicom import SeriesSpec, write_series

SPEC_KEYS = [
    "series_instance_uid",
    "study_instance_uid",
    "modality",
    "series_description",
    "phase",
    "n_images",
    "rows",
    "columns",
    "pixel_spacing_mm",
    "slice_spacing_mm",
    "image_orientation",
    "first_position_mm",
    "transfer_syntaxes",
    "warnings",
]


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    write_series(folder / "art", SeriesSpec(n_slices=4, description="LIVER ARTERIAL"))
    write_series(
        folder / "gap",
        SeriesSpec(n_slices=4, description="PV 70s", offsets=[0.0, 2.5, 7.5, 10.0]),
    )
    (folder / "readme.txt").write_text("hello")
    return folder


def test_json_has_the_spec_keys_first_and_lists_skipped_files(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(study), "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert list(output) == ["series", "skipped"]
    assert len(output["series"]) == 2
    for entry in output["series"]:
        assert list(entry)[: len(SPEC_KEYS)] == SPEC_KEYS
        assert entry["n_images"] == 4
        assert entry["pixel_spacing_mm"] == [0.7, 0.9]
        assert len(entry["image_orientation"]) == 6
    phases = sorted(e["phase"] for e in output["series"])
    assert phases == ["arterial", "portal_venous"]
    gap = next(e for e in output["series"] if e["phase"] == "portal_venous")
    assert any("missing slices" in w for w in gap["warnings"])
    assert output["skipped"] == [
        {
            "path": str(study / "readme.txt"),
            "reason": "not a DICOM file (no DICM marker and no DICOM header)",
        }
    ]


def test_table_has_one_line_per_series_then_skipped_files(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(study)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:5] == [
        "subject",
        "timepoint",
        "phase",
        "modality",
        "description",
    ]
    arterial = next(line for line in lines if "LIVER ARTERIAL" in line)
    assert "arterial" in arterial
    assert "32x32" in arterial
    assert "0.70x0.90x2.50" in arterial
    assert "missing slices" in next(line for line in lines if "PV 70s" in line)
    assert "1 file skipped:" in out
    assert "readme.txt: not a DICOM file" in out
    assert "P-SECRET" not in out  # without a trial subject ID the patient ID is hashed
    assert "patient-" in arterial


def test_missing_path_is_a_usage_error_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert "absent: no such file or folder" in err
    assert "Traceback" not in err
