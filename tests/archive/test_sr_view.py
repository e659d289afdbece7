"""A report shown read only: lesions as rows, each caliper on its own image."""

import math
from pathlib import Path

import pytest

from mrecist_reader.archive.sr import measurement_report
from mrecist_reader.desk.image_places import remember
from mrecist_reader.desk.sr_view import NotAReport, open_report
from mrecist_reader.imaging.scan import scan
from tests.archive.test_sr import IMAGES, sample_read
from tests.conftest import SAMPLE_DICOM


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "sr.dcm"
    measurement_report(sample_read(), 0, IMAGES).save_as(path, enforce_file_format=True)
    return path


def test_the_lesions_are_rows_and_a_caliper_is_found_on_its_image(
    report: Path,
) -> None:
    view = open_report(report)
    assert [row[:3] for row in view.rows] == [
        ("T1", "target", "measured"),
        ("T2", "target", "measured"),
        ("NT1", "non target", "present"),
    ]
    assert view.rows[0][3] == "liver"
    assert view.image(0) is None  # not opened here, no folder named
    shown = view.image(0, [SAMPLE_DICOM / "S01" / "BASELINE"])
    assert shown is not None
    ((r1, c1), (r2, c2)) = shown.caliper_rc
    assert (c1, r1) == pytest.approx((30.25 - 0.5, 40.5 - 0.5), abs=0.01)
    assert math.dist((r1, c1), (r2, c2)) > 10
    assert shown.pixels.ndim == 2
    assert view.image(2) is None  # NT1 has no caliper


def test_a_series_opened_before_is_found_where_it_was_opened(report: Path) -> None:
    remember(scan(SAMPLE_DICOM / "S01" / "BASELINE", use_index=False).series)
    assert open_report(report).image(1) is not None


def test_a_file_that_is_not_a_report_is_named() -> None:
    image = next((SAMPLE_DICOM / "S01").rglob("*.dcm"))
    with pytest.raises(NotAReport, match=f"{image}: not a TID 1500"):
        open_report(image)
