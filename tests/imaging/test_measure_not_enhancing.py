"""A click on tissue that does not enhance is refused for that reason, not for its size.

A click on necrosis, on a hypovascular nodule or on plain liver grows into the liver, a
region larger than ``max_diameter_mm``. The refusal must say that the tissue does not
enhance more than its surroundings (mRECIST measures only viable, enhancing tumour), and
not "larger than 130 mm": the desktop app then suggests drawing the caliper. An enhancing
lesion that merges into a larger bright structure keeps the size reason: it is never
said not to enhance.
"""

import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from mrecist_reader.cli import main
from tests.imaging.test_measure import refusal
from tests.imaging.test_measure_phantom import anatomy_grid, paint_volume
from tests.imaging.test_measure_sample import volume_of

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
TRUTH = SAMPLE / "truth.json"
PREFIX = "no enhancing lesion at this point: "
DARKER_CT = re.compile(
    r"^the tissue here \((-?\d+) HU\) is darker than the tissue 5-25 mm around it "
    r"\(upper quartile (-?\d+) HU\): it does not enhance more than its surroundings "
    r"\(necrotic or non-enhancing tissue is not measured by mRECIST\)$"
)
PLAIN_CT = re.compile(
    r"^the tissue here \((-?\d+) HU\) is not clearly brighter than the tissue 5-25 mm "
    r"around it \(upper quartile (-?\d+) HU; a lesion would need at least \d+ HU "
    r"more\): it does not enhance more than its surroundings \(plain liver and "
    r"non-enhancing tissue are not measured by mRECIST\)$"
)
DARKER_MR = re.compile(
    r"^the tissue here is darker than the tissue 5-25 mm around it \(signal (\d+) % "
    r"of their upper quartile\): it does not enhance more than its surroundings "
    r"\(necrotic or non-enhancing tissue is not measured by mRECIST\)$"
)
PLAIN_MR = re.compile(
    r"^the tissue here is not clearly brighter than the tissue 5-25 mm around it "
    r"\(signal (\d+) % of their upper quartile; a lesion would need at least (\d+) "
    r"%\): it does not enhance more than its surroundings \(plain liver and "
    r"non-enhancing tissue are not measured by mRECIST\)$"
)

pytestmark = pytest.mark.slow
needs_sample = pytest.mark.skipif(not TRUTH.is_file(), reason="sample_dicom/ is absent")


def _truth_points() -> tuple[list[Any], list[Any]]:
    """Return the centres of lesions that no longer enhance, and the plain-liver points."""
    if not TRUTH.is_file():
        return [], []
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    absent: list[Any] = []
    liver: list[Any] = []
    for subject in truth["subjects"]:
        for lesion in subject["lesions"]:
            for timepoint in lesion["timepoints"]:
                name = f"{subject['subject_id']}-{lesion['lesion_id']}-{timepoint['timepoint']}"
                for entry in timepoint.get("measurements", []):
                    folder, label = (
                        entry["series_folder"],
                        f"{name}-{entry['modality']}",
                    )
                    point = entry["liver_reference_mm"]
                    liver.append(pytest.param(folder, point, id=label))
                    if timepoint.get("status") == "absent":
                        point = timepoint["centre_mm"]
                        absent.append(pytest.param(folder, point, id=label))
    return absent, liver


ABSENT, LIVER = _truth_points()


@needs_sample
def test_the_testers_click_on_the_necrotic_remnant_of_s01_fu2_says_it_does_not_enhance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # S01 at FU2 is a complete response: T1 is a non-enhancing (necrotic) remnant.
    series = SAMPLE / "S01" / "FU2" / "ART"
    assert main(["measure", str(series), "--at=-56,-27,-70"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "larger than" not in captured.err
    reason = captured.err.split(PREFIX, 1)[1].split(" (X,Y,Z = ")[0]
    found = DARKER_CT.match(reason)
    assert found is not None, reason
    click, around = (int(level) for level in found.groups())
    assert click < 40  # necrosis, 22-26 HU in the phantom
    assert around > 80  # the arterial-phase liver around it, 92 HU


@needs_sample
@pytest.mark.parametrize(("folder", "point"), ABSENT)
def test_a_click_on_a_lesion_that_no_longer_enhances_is_refused_as_darker(
    folder: str, point: list[float]
) -> None:
    reason = refusal(volume_of(folder), tuple(point))
    assert DARKER_CT.match(reason), reason


@needs_sample
@pytest.mark.parametrize(("folder", "point"), LIVER)
def test_a_click_on_plain_liver_is_refused_as_not_enhancing(
    folder: str, point: list[float]
) -> None:
    reason = refusal(volume_of(folder), tuple(point))
    assert "130" not in reason
    plain = PLAIN_CT if folder.endswith("/ART") else PLAIN_MR
    assert plain.match(reason), reason


@needs_sample
@pytest.mark.parametrize("folder", ["S02/BASELINE/ART", "S02/FU2/ART"])
def test_a_click_on_the_hypovascular_nodule_is_refused_as_darker_on_ct(
    folder: str,
) -> None:
    # S02 NT1 never enhances (55 HU arterial, liver 92 HU).
    reason = refusal(volume_of(folder), (4.0, -50.0, -62.0))
    found = DARKER_CT.match(reason)
    assert found is not None, reason
    click, around = (int(level) for level in found.groups())
    assert around - click > 20


@needs_sample
def test_a_click_on_the_hypovascular_nodule_is_refused_as_darker_on_mr() -> None:
    reason = refusal(volume_of("S02/BASELINE/MR_ART"), (4.0, -50.0, -62.0))
    found = DARKER_MR.match(reason)
    assert found is not None, reason
    assert int(found.group(1)) < 80


@pytest.mark.parametrize("modality", ["CT", "MR"])
@pytest.mark.parametrize("radius", [12.0, 30.0])
def test_an_enhancing_lesion_merged_with_a_larger_bright_structure_keeps_the_size_reason(
    modality: Literal["CT", "MR"], radius: float
) -> None:
    # A lesion (CT 190 HU in a 90 HU liver; MR 800 in 450) overlapping by 4 mm a bright
    # structure 60 x 150 mm: the region grows over 130 mm. It enhances: the reason must
    # not say otherwise.
    z, y, x = anatomy_grid()
    ball = x**2 + y**2 + (0.8 * z) ** 2 <= radius**2
    slab = (
        (x >= radius - 4.0)
        & (x <= radius + 56.0)
        & (np.abs(y) <= 75.0)
        & (np.abs(z) <= 30.0)
    )
    liver, bright = (90.0, 190.0) if modality == "CT" else (450.0, 800.0)
    volume = paint_volume(modality, liver, [(ball, bright), (slab, bright)])
    reason = refusal(volume, (0.0, 0.0, 0.0))
    assert (
        reason
        == "the region at this point is larger than 130 mm across, not a focal lesion"
    )
