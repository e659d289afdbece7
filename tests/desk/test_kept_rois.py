"""Issue 15 item 1: an ROI kept with a lesion (or as the liver reference) as evidence.

Which ROI, lesion, timepoint and image, refused on a signed timepoint or another image;
stored and audited in the same transaction, in the content hash only when present,
exported in rois.csv beside measurements.csv (blinded as measurements.csv is).
"""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.integrity import canonical_timepoint, content_hashes
from mrecist_reader.core.model import (
    KeptRoi,
    Method,
    Organ,
    Read,
    RoiShape,
    RoiStatistics,
)
from mrecist_reader.desk.desk import Proposal, ReadingDesk, WrongImage
from mrecist_reader.desk.rois import (
    MeasuredRoi,
    enhancement,
    keep_roi,
    kept_message,
    remove_kept_roi,
)
from mrecist_reader.imaging.roi_stats import (
    PixelEllipse,
    ellipse_outline,
    ellipse_stats,
    polygon_stats,
)
from mrecist_reader.resources import load_profile
from mrecist_reader.session import TimepointSigned
from mrecist_reader.storage.audit import Actor
from mrecist_reader.transfer.columns import ROI_COLUMNS
from mrecist_reader.transfer.csv_in import read_measurements
from mrecist_reader.transfer.csv_out import write_measurements
from tests.desk.conftest import caliper_at
from tests.desk.test_measurement_evidence import found

NCT = load_profile("nct06779461")


def propose_and_accept(desk: ReadingDesk) -> None:
    """Measure T1 at the current timepoint by an accepted click (with its checks)."""
    drawn = caliper_at(desk, (0.0, 0.0, 0.0), 40.0, method=Method.SEMI_AUTOMATIC)
    desk.propose(Proposal.from_measurement(drawn, found()))
    accepted = desk.take_proposal()
    assert accepted is not None
    desk.measure("T1", accepted)


KEPT_AT = datetime(2026, 3, 1, 14, 3, 22, 123456, tzinfo=UTC)
OUTLINE = ((-4.0, 0.0, 0.0), (0.0, 4.0, 0.0), (4.0, 0.0, 0.0), (0.0, -4.0, 0.0))


def measured(desk: ReadingDesk, mean: float, *, index: int = 0) -> MeasuredRoi:
    """Return an ROI measured on the open series' image 3 at a timepoint."""
    state = desk.open_series(index)
    assert state is not None
    series = state.series
    return MeasuredRoi(
        shape=RoiShape.ELLIPSE,
        points_mm=OUTLINE,
        subject_id=series.subject_id,
        timepoint_index=index,
        series_instance_uid=series.series_instance_uid,
        sop_instance_uid=series.sop_instance_uids[3],
        stats=RoiStatistics(
            pixel_count=40,
            area_mm2=25.6,
            mean=mean,
            sd=9.5,
            minimum=mean - 20.0,
            maximum=mean + 21.25,
            unit="HU",
        ),
    )


@pytest.fixture
def with_target(desk: ReadingDesk) -> ReadingDesk:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "segment 7")
    desk.select_lesion("T1")
    return desk


def stored(desk: ReadingDesk) -> Read:
    (read,) = desk.repository().all_reads()
    return read


def test_an_roi_is_kept_with_the_selected_lesion_and_stored_as_drawn(
    with_target: ReadingDesk,
) -> None:
    kept = keep_roi(with_target, measured(with_target, 142.0), now=KEPT_AT)
    assert (kept.lesion_id, kept.label, kept.timepoint_index) == ("T1", "T1", 0)
    (back,) = stored(with_target).rois
    assert back == kept  # every field, the outline and the time to the microsecond
    assert with_target.repository().integrity_problems() == ()


def test_the_liver_reference_gives_the_lesion_minus_liver_difference(
    with_target: ReadingDesk,
) -> None:
    lesion = keep_roi(with_target, measured(with_target, 142.0))
    liver = keep_roi(with_target, measured(with_target, 85.0), reference=True)
    assert (liver.lesion_id, liver.label) == ("", "liver")
    read = stored(with_target)
    assert enhancement(read, lesion) == pytest.approx(57.0)
    assert enhancement(read, liver) is None
    assert kept_message(read, lesion).endswith("T1 − liver: +57 HU")


def test_keeping_is_audited_with_the_statistics(with_target: ReadingDesk) -> None:
    keep_roi(with_target, measured(with_target, 142.0))
    session = with_target.session
    assert session is not None
    entry = session.audit_trail()[-1]
    assert (entry.action, entry.target) == ("keep_roi", "BASELINE/T1")
    assert "mean 142.0" in entry.new_value
    assert "area 25.6 mm2, 40 pixels" in entry.new_value


def test_without_a_selected_lesion_an_roi_is_refused_unless_a_reference(
    desk: ReadingDesk,
) -> None:
    desk.select_lesion(None)
    with pytest.raises(MrecistError, match="select the lesion"):
        keep_roi(desk, measured(desk, 142.0))
    keep_roi(desk, measured(desk, 85.0), reference=True)
    assert len(stored(desk).rois) == 1


def test_an_roi_on_another_image_is_refused(with_target: ReadingDesk) -> None:
    roi = replace(measured(with_target, 142.0), sop_instance_uid="1.2.3.4.5")
    with pytest.raises(WrongImage):
        keep_roi(with_target, roi)
    assert stored(with_target).rois == ()


def test_an_roi_on_a_signed_timepoint_is_refused(with_target: ReadingDesk) -> None:
    with_target.sign()
    with pytest.raises(TimepointSigned):
        keep_roi(with_target, measured(with_target, 142.0))
    assert stored(with_target).rois == ()


def test_an_roi_without_pixels_or_label_is_refused(with_target: ReadingDesk) -> None:
    roi = measured(with_target, 142.0)
    empty = replace(roi, stats=replace(roi.stats, pixel_count=0, mean=None))
    with pytest.raises(MrecistError, match="no image pixel inside"):
        keep_roi(with_target, empty)
    with pytest.raises(MrecistError, match="needs a label"):
        keep_roi(with_target, roi, label="  ")
    with pytest.raises(MrecistError, match="longer than 64"):
        keep_roi(with_target, roi, label="x" * 65)


def test_deleting_the_lesion_removes_its_rois(with_target: ReadingDesk) -> None:
    keep_roi(with_target, measured(with_target, 142.0))
    keep_roi(with_target, measured(with_target, 85.0), reference=True)
    session = with_target.session
    assert session is not None
    session.delete_lesion("T1")
    (left,) = stored(with_target).rois
    assert left.lesion_id == ""
    assert with_target.repository().integrity_problems() == ()


def test_the_content_hash_includes_rois_only_when_present(
    with_target: ReadingDesk,
) -> None:
    before = stored(with_target)
    baseline = before.timepoints[0]
    assert "rois" not in canonical_timepoint(before, baseline)  # older hashes valid
    keep_roi(with_target, measured(with_target, 142.0))
    after = stored(with_target)
    assert content_hashes(after).read != content_hashes(before).read
    changed = replace(
        after.rois[0], stats=replace(after.rois[0].stats, mean=143.0)
    )  # a value edited in the database is seen
    assert content_hashes(replace(after, rois=(changed,))) != content_hashes(after)


def rois_csv(folder: Path) -> list[dict[str, str]]:
    text = (folder / "rois.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == ROI_COLUMNS
    return list(reader)


def test_rois_csv_is_exported_beside_measurements_blinded(
    with_target: ReadingDesk, tmp_path: Path
) -> None:
    lesion = keep_roi(with_target, measured(with_target, 142.0))
    with_target.export(tmp_path / "out")
    (row,) = rois_csv(tmp_path / "out")
    assert (row["lesion_id"], row["roi_label"], row["shape"]) == ("T1", "T1", "ellipse")
    assert (row["mean"], row["sd"], row["min"], row["max"]) == (
        "142.00",
        "9.50",
        "122.00",
        "163.25",
    )
    assert (row["area_mm2"], row["pixel_count"], row["unit"]) == ("25.60", "40", "HU")
    assert row["outline_mm"].split(";")[0] == "-4.00 0.00 0.00"
    # a central read: blinded as measurements.csv, UIDs as keyed pseudonyms
    assert (row["site_id"], row["scan_date"]) == ("", "")
    assert row["sop_instance_uid"].startswith("2.25.")
    assert row["sop_instance_uid"] != lesion.sop_instance_uid
    measurements = (tmp_path / "out" / "measurements.csv").read_text(encoding="utf-8")
    assert row["sop_instance_uid"] in measurements  # the same image, the same pseudonym


def test_without_rois_no_rois_csv_is_written(
    with_target: ReadingDesk, tmp_path: Path
) -> None:
    with_target.export(tmp_path / "out")
    assert not (tmp_path / "out" / "rois.csv").exists()


def test_a_freehand_rois_statistics_are_the_pixels_inside() -> None:
    image = np.random.default_rng(7).normal(60.0, 15.0, (64, 64))
    square = [(10.0, 20.0), (10.0, 29.0), (19.0, 29.0), (19.0, 20.0)]
    stats = polygon_stats(image, square, (0.8, 0.8))
    inside = image[10:20, 20:30]  # read independently
    assert stats.n_pixels == inside.size == 100
    assert stats.mean == pytest.approx(float(inside.mean()))
    assert stats.sd == pytest.approx(float(inside.std()))
    assert stats.area_mm2 == pytest.approx(64.0)


def test_an_ellipse_kept_by_its_outline_measures_as_the_ellipse() -> None:
    image = np.random.default_rng(8).normal(60.0, 15.0, (64, 64))
    ellipse = PixelEllipse(30.0, 30.0, 8.0, 12.0)
    as_drawn = ellipse_stats(image, ellipse, (1.0, 1.0))
    by_outline = polygon_stats(image, ellipse_outline(ellipse, 360), (1.0, 1.0))
    assert by_outline.n_pixels == pytest.approx(as_drawn.n_pixels, rel=0.05)
    assert by_outline.mean == pytest.approx(as_drawn.mean, abs=1.0)


def test_a_kept_roi_is_plain_data() -> None:
    stats = RoiStatistics(1, 0.64, 5.0, 0.0, 5.0, 5.0, "HU")
    roi = KeptRoi(
        0, "", "liver", RoiShape.FREEHAND, OUTLINE, "1.2", "1.2.3", stats, KEPT_AT
    )
    assert replace(roi) == roi


@pytest.mark.parametrize("replace_reads", [False, True])
def test_importing_the_exported_read_keeps_its_rois_and_checks(
    with_target: ReadingDesk, tmp_path: Path, replace_reads: bool
) -> None:
    """measurements.csv carries neither ROIs nor checks: an import keeps them."""
    with_target.go_to_timepoint(1)
    propose_and_accept(with_target)
    with_target.select_lesion("T1")
    keep_roi(with_target, measured(with_target, 142.0, index=1))
    before = stored(with_target)
    path = tmp_path / "measurements.csv"
    write_measurements(path, [before])
    imported = read_measurements(path, profile_for=lambda _: NCT)
    outcome = with_target.repository().import_reads(
        imported,
        actor=Actor("R01", "tester"),
        source="measurements.csv",
        replace_reads=replace_reads,
    )
    after = stored(with_target)
    assert after.rois == before.rois
    assert after.observations == before.observations  # the checks too
    if not replace_reads:
        assert outcome.unchanged == 1  # nothing lost, nothing to write


def test_a_kept_roi_is_removed_audited_but_not_on_a_signed_timepoint(
    with_target: ReadingDesk,
) -> None:
    first = keep_roi(with_target, measured(with_target, 142.0))
    second = keep_roi(with_target, measured(with_target, 85.0), reference=True)
    remove_kept_roi(with_target, first)
    assert stored(with_target).rois == (second,)
    session = with_target.session
    assert session is not None
    entry = session.audit_trail()[-1]
    assert (entry.action, entry.new_value) == ("remove_roi", "")
    assert "mean 142.0" in entry.old_value
    with_target.sign()
    with pytest.raises(TimepointSigned):
        remove_kept_roi(with_target, second)
    assert stored(with_target).rois == (second,)
