"""The committed synthetic sample study: reproducible, decodable, and its truth is right.

``sample_dicom/truth.json`` is what the end-to-end and measurement tests take as the
answer, so these tests check it against the images and against the mRECIST rules of
profile nct06779461 (``shared/spec/mrecist-rules.md``), recomputed here independently.
"""

import hashlib
import json
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from tests.sample_generator import load_sample_generator

SAMPLE = Path(__file__).resolve().parent.parent / "sample_dicom"
TRUTH: dict[str, Any] = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
SUBJECTS = TRUTH["subjects"]
ALL_SERIES = [(s["subject_id"], series) for s in SUBJECTS for series in s["series"]]
TARGET_MIN, TARGET_MAX = Fraction(300), Fraction(1000)  # tenths of a millimetre


def _series_id(item: tuple[str, dict[str, Any]]) -> str:
    return str(item[1]["folder"])


def _generated_files(root: Path) -> dict[str, str]:
    files = sorted([*root.glob("S*/**/*.dcm"), root / "truth.json"])
    return {
        f.relative_to(root).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
    }


def _tenths(mm: float) -> int:
    return round(mm * 10)


def _lesions(subject: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [x for x in subject["lesions"] if x["type"] == kind]


def _pixel_at(ds: pydicom.Dataset, point_mm: list[float], half: int = 1) -> float:
    """Mean modality value of the (2*half+1)^2 pixels around a patient point."""
    origin = [float(v) for v in ds.ImagePositionPatient]
    spacing = [float(v) for v in ds.PixelSpacing]
    assert abs(origin[2] - point_mm[2]) < 1e-6
    row = round((point_mm[1] - origin[1]) / spacing[0])
    col = round((point_mm[0] - origin[0]) / spacing[1])
    patch = ds.pixel_array[row - half : row + half + 1, col - half : col + half + 1]
    slope = float(getattr(ds, "RescaleSlope", 1))
    intercept = float(getattr(ds, "RescaleIntercept", 0))
    return float(patch.mean()) * slope + intercept


# --------------------------------------------------------------------------- files


@pytest.mark.slow
def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    load_sample_generator().generate(tmp_path)
    committed, regenerated = _generated_files(SAMPLE), _generated_files(tmp_path)
    assert sorted(regenerated) == sorted(committed)
    differing = [name for name in committed if committed[name] != regenerated[name]]
    assert differing == [], f"regenerated files differ (library versions?): {differing}"


def test_sample_study_is_under_25_mb() -> None:
    total = sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file())
    assert total < 25 * 1024 * 1024


def test_sample_has_an_uncompressed_series_and_compressed_follow_ups() -> None:
    syntaxes = {series["transfer_syntax_uid"] for _, series in ALL_SERIES}
    follow_ups = {
        s["transfer_syntax_uid"] for _, s in ALL_SERIES if s["timepoint"] != "BASELINE"
    }
    assert pydicom.uid.ExplicitVRLittleEndian in syntaxes
    assert all(pydicom.uid.UID(uid).is_compressed for uid in follow_ups)
    assert {pydicom.uid.RLELossless, pydicom.uid.JPEG2000Lossless} <= syntaxes


@pytest.mark.parametrize("item", ALL_SERIES, ids=_series_id)
def test_every_series_decodes_with_its_trial_tags(
    item: tuple[str, dict[str, Any]],
) -> None:
    subject_id, series = item
    files = sorted((SAMPLE / series["folder"]).glob("*.dcm"))
    assert len(files) == series["n_images"]
    for path in (files[0], files[len(files) // 2], files[-1]):
        ds = pydicom.dcmread(path)
        assert ds.pixel_array.shape == (ds.Rows, ds.Columns)
        assert ds.file_meta.TransferSyntaxUID == series["transfer_syntax_uid"]
        assert ds.ClinicalTrialProtocolID == "NCT06779461"
        assert ds.ClinicalTrialSubjectID == subject_id
        assert ds.ClinicalTrialTimePointID == series["timepoint"]
        assert ds.SeriesInstanceUID == series["series_instance_uid"]
        assert ds.Modality == series["modality"]
        assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]


def test_ct_images_store_hounsfield_units_with_intercept_minus_1024() -> None:
    ds = pydicom.dcmread(next((SAMPLE / "S01" / "BASELINE" / "ART").glob("*.dcm")))
    assert (ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType) == (-1024, 1, "HU")
    assert 0.7 <= float(ds.PixelSpacing[0]) <= 1.0


def test_follow_ups_are_30_days_apart() -> None:
    for subject in SUBJECTS:
        dates = sorted({date.fromisoformat(s["study_date"]) for s in subject["series"]})
        assert [(d - dates[0]).days for d in dates] == [0, 30, 60]


# --------------------------------------------------------------------------- truth vs images


def _measured_lesions() -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for subject in SUBJECTS:
        for lesion in subject["lesions"]:
            for tp in lesion["timepoints"]:
                if tp.get("status") in ("measured", "equivocal", "present") and tp.get(
                    "viable_diameter_mm"
                ):
                    found.append(
                        (
                            subject["subject_id"],
                            lesion["lesion_id"],
                            tp["timepoint"],
                            tp,
                        )
                    )
    return found


MEASURED = _measured_lesions()


@pytest.mark.parametrize("item", MEASURED, ids=lambda x: f"{x[0]}-{x[1]}-{x[2]}")
def test_truth_caliper_spans_the_enhancing_part_in_the_arterial_images(
    item: tuple[str, str, str, dict[str, Any]],
) -> None:
    for m in item[3]["measurements"]:
        ds = pydicom.dcmread(SAMPLE / m["series_folder"] / m["file"])
        assert ds.SOPInstanceUID == m["sop_instance_uid"]
        liver = _pixel_at(ds, m["liver_reference_mm"], half=2)
        p1, p2 = np.array(m["p1_mm"]), np.array(m["p2_mm"])
        unit = (p2 - p1) / np.linalg.norm(p2 - p1)
        inside = [p1 + f * (p2 - p1) for f in (0.25, 0.5, 0.75)]
        outside = [p1 - 2.5 * unit, p2 + 2.5 * unit]
        contrast = 50.0 if m["modality"] == "CT" else 150.0
        assert all(_pixel_at(ds, list(p), half=0) > liver + contrast for p in inside)
        assert all(_pixel_at(ds, list(p), half=0) < liver + contrast for p in outside)


def _washout_cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    with_pv = {
        (s["subject_id"], x["timepoint"])
        for s in SUBJECTS
        for x in s["series"]
        if x["phase"] == "portal_venous"
    }
    return [m for m in MEASURED if (m[0], m[2]) in with_pv]


@pytest.mark.parametrize(
    "item", _washout_cases(), ids=lambda x: f"{x[0]}-{x[1]}-{x[2]}"
)
def test_viable_tumour_is_brighter_than_liver_arterially_and_washes_out(
    item: tuple[str, str, str, dict[str, Any]],
) -> None:
    ct = item[3]["measurements"][0]
    portal_folder = ct["series_folder"].rsplit("/", 1)[0] + "/PV"
    values = {}
    for folder in (ct["series_folder"], portal_folder):
        ds = pydicom.dcmread(SAMPLE / folder / ct["file"])
        values[folder] = (
            _pixel_at(ds, ct["viable_seed_mm"], half=1),
            _pixel_at(ds, ct["liver_reference_mm"], half=2),
        )
    lesion_art, liver_art = values[ct["series_folder"]]
    lesion_pv, liver_pv = values[portal_folder]
    assert lesion_art > liver_art + 60
    assert lesion_pv < liver_pv


def test_non_enhancing_lesions_are_not_brighter_than_liver() -> None:
    checked = 0
    for subject in SUBJECTS:
        for lesion in subject["lesions"]:
            for tp in lesion["timepoints"]:
                if not tp.get("enhancement", "").startswith("none"):
                    continue
                for m in tp["measurements"]:
                    ds = pydicom.dcmread(SAMPLE / m["series_folder"] / m["file"])
                    centre = [*tp["centre_mm"][:2], m["slice_z_mm"]]
                    liver = _pixel_at(ds, m["liver_reference_mm"], half=2)
                    assert _pixel_at(ds, centre, half=1) < liver
                    checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------- truth vs rules


def _sum(subject: dict[str, Any], index: int) -> int:
    return sum(
        _tenths(t["timepoints"][index]["viable_diameter_mm"])
        for t in _lesions(subject, "target")
    )


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s["subject_id"])
def test_targets_are_30_to_100_mm_at_baseline_and_at_most_two_in_the_liver(
    subject: dict[str, Any],
) -> None:
    targets = _lesions(subject, "target")
    assert 1 <= len(targets) <= 2
    for target in targets:
        assert (
            TARGET_MIN
            <= _tenths(target["timepoints"][0]["viable_diameter_mm"])
            <= TARGET_MAX
        )


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s["subject_id"])
def test_recorded_diameters_are_the_exact_ones_rounded_half_away_from_zero(
    subject: dict[str, Any],
) -> None:
    for lesion in subject["lesions"]:
        for tp in lesion["timepoints"]:
            for m in tp.get("measurements", []):
                exact = Fraction(str(m["viable_diameter_exact_mm"])) * 10
                assert _tenths(m["viable_diameter_mm"]) == int(exact + Fraction(1, 2))


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s["subject_id"])
def test_expected_sums_and_changes_follow_from_the_lesion_truth(
    subject: dict[str, Any],
) -> None:
    rows = subject["expected"]["timepoints"]
    sums = [_sum(subject, i) for i in range(len(rows))]
    for i, row in enumerate(rows):
        assert _tenths(row["target_sum_mm"]) == sums[i]
        if i == 0:
            continue
        nadir = min(sums[:i])
        assert _tenths(row["nadir_sum_mm"]) == nadir
        change = Fraction(sums[i] - sums[0], sums[0]) * 100
        assert row["change_from_baseline_pct"] == pytest.approx(float(change), abs=0.05)


def _target_response(total: int, baseline: int, nadir: int) -> str:
    if total >= Fraction(6, 5) * nadir and total > 0:
        return "PD"
    if total == 0:
        return "CR"
    return "PR" if total <= Fraction(7, 10) * baseline else "SD"


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s["subject_id"])
def test_expected_target_responses_follow_the_profile(subject: dict[str, Any]) -> None:
    rows = subject["expected"]["timepoints"]
    sums = [_sum(subject, i) for i in range(len(rows))]
    got = [row["target_response"] for row in rows[1:]]
    want = [
        _target_response(sums[i], sums[0], min(sums[:i])) for i in range(1, len(rows))
    ]
    assert got == want


def test_follow_ups_cover_cr_pr_sd_and_pd() -> None:
    overall = {
        row["overall_response"]
        for s in SUBJECTS
        for row in s["expected"]["timepoints"][1:]
    }
    assert overall == {"CR", "PR", "SD", "PD"}


def test_s01_responds_partially_then_completely() -> None:
    expected = SUBJECTS[0]["expected"]
    assert [r["overall_response"] for r in expected["timepoints"][1:]] == ["PR", "CR"]
    assert expected["best_overall_response"] == "CR"


def test_s02_new_lesion_equivocal_then_confirmed_backdates_progression() -> None:
    expected = SUBJECTS[1]["expected"]
    rows = expected["timepoints"]
    assert [r["new_lesions"] for r in rows[1:]] == ["equivocal", "yes"]
    assert [r["overall_response"] for r in rows[1:]] == ["SD", "PD"]
    assert rows[2]["progression_backdated_to"] == "FU1"
    assert expected["best_overall_response"] == "PD"
    new = _lesions(SUBJECTS[1], "new")[0]["timepoints"]
    assert new[1]["viable_diameter_mm"] < 10.0 <= new[2]["viable_diameter_mm"]


def test_s03_progresses_over_the_nadir_while_below_baseline() -> None:
    rows = SUBJECTS[2]["expected"]["timepoints"]
    assert rows[2]["change_from_baseline_pct"] < 0
    assert rows[2]["change_from_nadir_pct"] >= 20.0
    assert [r["overall_response"] for r in rows[1:]] == ["PR", "PD"]
    assert SUBJECTS[2]["expected"]["best_overall_response"] == "PR"
