"""The semi-automatic viable diameter on ``sample_dicom/`` against its ``truth.json``.

Each measured lesion is clicked at ``viable_seed_mm`` (the centroid of its viable outline,
inside the necrotic core for a rim); its plain-liver reference point and the centre of
each lesion that no longer enhances must give "no enhancing lesion".
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mrecist_reader.imaging.measure import (
    MeasureOptions,
    NoEnhancingLesion,
    longest_viable_diameter,
)
from mrecist_reader.imaging.volume import Volume

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
TRUTH = SAMPLE / "truth.json"

pytestmark = pytest.mark.slow


def _partly_necrotic() -> list[Any]:
    """Return (entry, click) for each lesion with necrosis, clicked on its necrotic side.

    The click mirrors the viable part's centroid through the whole lesion's centre.
    """
    if not TRUTH.is_file():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="no truth"))]
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    cases: list[Any] = []
    for subject in truth["subjects"]:
        for lesion in subject["lesions"]:
            for timepoint in lesion["timepoints"]:
                whole = timepoint.get("whole_lesion_diameter_mm") or 0.0
                for entry in timepoint.get("measurements", []):
                    if "viable_seed_mm" not in entry:
                        continue
                    if whole <= entry["viable_diameter_mm"] + 1.0:
                        continue
                    cx, cy, _ = timepoint["centre_mm"]
                    sx, sy, sz = entry["viable_seed_mm"]
                    click = (2 * cx - sx, 2 * cy - sy, sz)
                    name = f"{subject['subject_id']}-{lesion['lesion_id']}-{timepoint['timepoint']}"
                    cases.append(pytest.param(entry, click, id=name))
    return cases


def _cases() -> tuple[list[Any], list[Any]]:
    if not TRUTH.is_file():
        reason = "sample_dicom/truth.json is absent (run `make sample`)"
        skipped = [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
        return skipped, skipped
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    measured: list[Any] = []
    empty: list[Any] = []
    for subject in truth["subjects"]:
        for lesion in subject["lesions"]:
            for timepoint in lesion["timepoints"]:
                name = f"{subject['subject_id']}-{lesion['lesion_id']}-{timepoint['timepoint']}"
                for entry in timepoint.get("measurements", []):
                    label = f"{name}-{entry['modality']}"
                    if "viable_seed_mm" in entry:
                        measured.append(pytest.param(entry, id=label))
                        empty.append(
                            pytest.param(
                                (entry["series_folder"], entry["liver_reference_mm"]),
                                id=f"{label}-liver",
                            )
                        )
                    elif timepoint.get("status") == "absent":
                        point = timepoint["centre_mm"]
                        empty.append(
                            pytest.param(
                                (entry["series_folder"], point), id=f"{label}-absent"
                            )
                        )
    return measured, empty


MEASURED, EMPTY = _cases()


@cache
def volume_of(folder: str) -> Volume:
    from mrecist_reader.imaging.load import load_volume
    from mrecist_reader.imaging.scan import scan

    (series,) = scan(SAMPLE / folder).series
    return load_volume(series)


@pytest.mark.parametrize("entry", MEASURED)
def test_sample_lesion_viable_diameter_matches_truth(entry: dict[str, Any]) -> None:
    volume = volume_of(entry["series_folder"])
    result = longest_viable_diameter(volume, tuple(entry["viable_seed_mm"]))
    truth = entry["viable_diameter_exact_mm"]
    assert result.diameter_mm == pytest.approx(truth, abs=1.0)
    assert result.sop_instance_uid == entry["sop_instance_uid"]


@pytest.mark.parametrize("case", EMPTY)
def test_sample_points_without_enhancing_tumour_find_no_lesion(
    case: tuple[str, list[float]],
) -> None:
    folder, point = case
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(volume_of(folder), (point[0], point[1], point[2]))


# Points of anatomy without enhancing tumour, from the generator's anatomy
# (sample_dicom/generate.py: anatomy_labels) on the slices of the arterial series, each
# at least 45 mm from every lesion. Kidney clicks are in test_measure_kidney.py (refused
# as a kidney on CT).
CT_ART = "S01/BASELINE/ART"
MR_ART = "S02/BASELINE/MR_ART"
NOT_TUMOUR = [
    ("liver near the dome", CT_ART, (-78.8, 1.8, -40.0)),
    ("liver at the dome edge", CT_ART, (-12.2, -13.5, -40.0)),
    ("liver at the lateral edge", CT_ART, (-104.0, 0.0, -100.0)),
    ("liver at the anterior edge", CT_ART, (-40.1, -66.6, -60.0)),
    ("liver left lobe", CT_ART, (27.4, -47.7, -80.0)),
    ("liver at its lower tip", CT_ART, (-41.0, -22.5, -160.0)),
    ("spleen", CT_ART, (87.8, 40.5, -80.0)),
    ("aorta", CT_ART, (17.0, 10.0, -90.0)),
    ("IVC", CT_ART, (-26.0, 10.0, -60.0)),
    ("portal vein", CT_ART, (-20.0, 2.0, -100.0)),
    ("vertebral body", CT_ART, (0.0, 38.0, -100.0)),
    ("spinous process", CT_ART, (0.0, 80.0, -70.0)),
    ("the issue's bone click", CT_ART, (0.0, 60.0, -70.0)),
    ("paraspinal muscle", CT_ART, (30.0, 76.0, -70.0)),
    ("abdominal wall muscle", CT_ART, (0.0, -82.0, -80.0)),
    ("subcutaneous fat", CT_ART, (-60.0, -85.0, -80.0)),
    ("air outside the body", CT_ART, (0.0, -125.0, -80.0)),
    ("table", CT_ART, (40.0, 102.5, -80.0)),
    ("MR liver near the dome", MR_ART, (-61.5, 20.5, -50.0)),
    ("MR liver at the dome edge", MR_ART, (-62.5, -13.5, -50.0)),
    ("MR liver at the lateral edge", MR_ART, (-104.5, -0.5, -102.0)),
    ("MR liver at the anterior edge", MR_ART, (-40.5, -67.5, -62.0)),
    ("MR liver left lobe", MR_ART, (27.5, -47.5, -78.0)),
    ("MR liver at its lower tip", MR_ART, (-35.5, -24.5, -150.0)),
    ("MR spleen", MR_ART, (90.5, 40.5, -78.0)),
    ("MR aorta", MR_ART, (17.0, 10.0, -90.0)),
    ("MR IVC", MR_ART, (-26.0, 10.0, -58.0)),
    ("MR portal vein", MR_ART, (-20.0, 2.0, -102.0)),
    ("MR vertebral body", MR_ART, (0.0, 38.0, -98.0)),
    ("MR paraspinal muscle", MR_ART, (30.0, 76.0, -70.0)),
    ("MR subcutaneous fat", MR_ART, (-60.0, -85.0, -78.0)),
    ("MR air outside the body", MR_ART, (0.0, -125.0, -78.0)),
]


@pytest.mark.skipif(not TRUTH.is_file(), reason="sample_dicom/ is absent")
@pytest.mark.parametrize(
    ("folder", "point"),
    [pytest.param(folder, point, id=name) for name, folder, point in NOT_TUMOUR],
)
def test_a_click_on_anatomy_without_tumour_finds_no_lesion_and_says_why(
    folder: str, point: tuple[float, float, float]
) -> None:
    with pytest.raises(
        NoEnhancingLesion, match=r"no enhancing lesion at this point: .+"
    ):
        longest_viable_diameter(volume_of(folder), point)


@pytest.mark.skipif(not TRUTH.is_file(), reason="sample_dicom/ is absent")
@pytest.mark.parametrize(
    ("folder", "point"),
    [
        pytest.param(folder, point, id=name)
        for name, folder, point in NOT_TUMOUR
        if "liver" in name
    ],
)
def test_plain_liver_is_refused_without_relying_on_the_size_limit(
    folder: str, point: tuple[float, float, float]
) -> None:
    # A small or cirrhotic liver can be under 130 mm across: the ring and shape tests
    # alone must refuse plain liver.
    with pytest.raises(NoEnhancingLesion):
        longest_viable_diameter(
            volume_of(folder), point, options=MeasureOptions(max_diameter_mm=400.0)
        )


@pytest.mark.parametrize(("entry", "click"), _partly_necrotic())
def test_a_click_on_the_necrotic_side_of_a_partly_necrotic_lesion_measures_its_viable_part(
    entry: dict[str, Any], click: tuple[float, float, float]
) -> None:
    result = longest_viable_diameter(volume_of(entry["series_folder"]), click)
    assert result.diameter_mm == pytest.approx(
        entry["viable_diameter_exact_mm"], abs=1.0
    )
