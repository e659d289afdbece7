"""A non-target added with N is a position marker, never an invented measurement.

The data-transfer spec leaves a non-target's diameter empty and has no column for a
position other than a caliper's end points: the marker is not recorded in the read, so
the export holds no length and no end points for it; the desk shows it while reading.
"""

import csv
from pathlib import Path

import pytest

from mrecist_reader.core.model import Caliper, Organ
from mrecist_reader.desk.desk import ReadingDesk, WrongImage
from tests.desk.conftest import caliper_at

POINT_COLUMNS = ("p1_x_mm", "p1_y_mm", "p1_z_mm", "p2_x_mm", "p2_y_mm", "p2_z_mm")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_the_export_of_a_non_target_added_with_n_holds_no_length(
    desk: ReadingDesk, tmp_path: Path
) -> None:
    at = caliper_at(desk, (3.0, 4.0, -20.0), 0.0)
    lesion_id = desk.mark_non_target(Organ.LUNG, "right lower lobe", at)
    observation = desk.session.read.observation(lesion_id, 0)  # type: ignore[union-attr]
    assert observation is not None
    assert observation.caliper is None
    assert observation.diameter is None
    measurements = desk.export(tmp_path).paths[0]
    (row,) = [r for r in _rows(measurements) if r["lesion_id"] == lesion_id]
    assert row["viable_diameter_mm"] == ""
    assert all(row[column] == "" for column in POINT_COLUMNS), row
    assert row["location"] == "right lower lobe"


def test_the_marker_is_a_point_on_the_image_it_was_placed_on(
    desk: ReadingDesk,
) -> None:
    at = caliper_at(desk, (3.0, 4.0, -20.0), 10.0)
    lesion_id = desk.mark_non_target(Organ.LUNG, "right lower lobe", at)
    ((marked, drawn),) = desk.markers(0)
    assert marked == lesion_id
    assert drawn.caliper == Caliper((3.0, 4.0, -20.0), (3.0, 4.0, -20.0))
    assert drawn.sop_instance_uid == at.sop_instance_uid
    assert desk.markers(1) == ()
    desk.session.undo()  # type: ignore[union-attr]
    assert desk.markers(0) == ()


def test_a_marker_on_an_image_not_shown_is_refused(desk: ReadingDesk) -> None:
    at = caliper_at(desk, (3.0, 4.0, -20.0), 0.0)
    from dataclasses import replace

    with pytest.raises(WrongImage):
        desk.mark_non_target(Organ.LUNG, "lung", replace(at, sop_instance_uid="9.9"))
    assert desk.session is not None
    assert not desk.session.read.lesions
