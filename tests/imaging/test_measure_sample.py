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

from mrecist_reader.imaging.measure import NoEnhancingLesion, longest_viable_diameter
from mrecist_reader.imaging.volume import Volume

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
TRUTH = SAMPLE / "truth.json"

pytestmark = pytest.mark.slow


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
    assert result.diameter_mm == pytest.approx(truth, abs=max(2.0, 0.05 * truth))
    assert result.sop_instance_uid == entry["sop_instance_uid"]


@pytest.mark.parametrize("case", EMPTY)
def test_sample_points_without_enhancing_tumour_find_no_lesion(
    case: tuple[str, list[float]],
) -> None:
    folder, point = case
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(volume_of(folder), (point[0], point[1], point[2]))
