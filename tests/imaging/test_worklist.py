"""build_worklist(): subjects -> timepoints (baseline first) -> series (arterial first)."""

import dataclasses
from datetime import date
from pathlib import Path

from mrecist_reader.imaging.volume import PatientIdentity, Phase, SeriesInfo
from mrecist_reader.imaging.worklist import (
    SubjectEntry,
    TimepointEntry,
    build_worklist,
    set_aside,
)


def _series(
    subject: str,
    label: str,
    study_date: date | None,
    *,
    phase: Phase = Phase.UNKNOWN,
    stack_label: str = "",
    description: str = "",
    study_uid: str = "",
) -> SeriesInfo:
    return SeriesInfo(
        series_instance_uid=f"{subject}.{label}.{description}.{stack_label}",
        study_instance_uid=study_uid or f"study.{subject}.{label}",
        modality="CT",
        series_description=description,
        phase=phase,
        rows=32,
        columns=32,
        pixel_spacing_mm=(1.0, 1.0),
        slice_spacing_mm=2.5,
        image_orientation=(1, 0, 0, 0, 1, 0),
        first_position_mm=(0, 0, 0),
        transfer_syntaxes=("1.2.840.10008.1.2.1",),
        files=(Path("a.dcm"),),
        frames=(0,),
        sop_instance_uids=("1.2.3",),
        stack_label=stack_label,
        subject_id=subject,
        timepoint_label=label,
        trial_protocol_id="NCT06779461",
        trial_site_id="SITE1",
        identity=PatientIdentity(patient_id="secret", study_date=study_date),
    )


def test_timepoints_baseline_first_then_follow_ups_with_study_days() -> None:
    series = [
        _series("S02", "FU2", date(2025, 3, 2)),
        _series("S01", "FU1", date(2025, 1, 31)),
        _series("S01", "BASELINE", date(2025, 1, 1)),
        _series("S01", "FU2", date(2025, 3, 2)),
        _series("S01", "FU10", date(2025, 12, 2)),
    ]
    subjects = build_worklist(series)
    assert [s.subject_id for s in subjects] == ["S01", "S02"]
    first = subjects[0]
    assert (first.study_id, first.site_id) == ("NCT06779461", "SITE1")
    assert [(t.index, t.label, t.study_day) for t in first.timepoints] == [
        (0, "BASELINE", 0),
        (1, "FU1", 30),
        (2, "FU2", 60),
        (3, "FU10", 335),
    ]
    assert first.timepoints[0].is_baseline
    assert first.timepoints[1].scan_date == "2025-01-31"


def test_without_labels_the_earliest_study_is_the_baseline() -> None:
    series = [
        _series("S01", "", date(2025, 2, 10), study_uid="late"),
        _series("S01", "", date(2025, 1, 1), study_uid="early"),
    ]
    (subject,) = build_worklist(series)
    assert [
        (t.label, t.study_instance_uids, t.study_day) for t in subject.timepoints
    ] == [
        ("BASELINE", ("early",), 0),
        ("TP1", ("late",), 40),
    ]


def test_follow_up_labels_order_timepoints_without_dates() -> None:
    series = [_series("S01", label, None) for label in ("FU2", "BASELINE", "FU1")]
    (subject,) = build_worklist(series)
    assert [t.label for t in subject.timepoints] == ["BASELINE", "FU1", "FU2"]
    assert all(t.study_day is None and t.scan_date == "" for t in subject.timepoints)


def test_arterial_series_first_localizers_set_aside() -> None:
    day = date(2025, 1, 1)
    series = [
        _series(
            "S01", "BASELINE", day, phase=Phase.UNKNOWN, stack_label="localizer axial"
        ),
        _series("S01", "BASELINE", day, phase=Phase.PORTAL_VENOUS, description="PV"),
        _series("S01", "BASELINE", day, phase=Phase.PRE_CONTRAST, description="PRE"),
        _series("S01", "BASELINE", day, phase=Phase.ARTERIAL, description="ART"),
        _series("S01", "BASELINE", day, phase=Phase.UNKNOWN, description="DWI"),
    ]
    (timepoint,) = build_worklist(series)[0].timepoints
    assert [s.series_description for s in timepoint.series] == [
        "ART",
        "PV",
        "PRE",
        "DWI",
    ]
    assert [s.stack_label for s in timepoint.localizers] == ["localizer axial"]
    assert [s.series_description for s in timepoint.arterial_series] == ["ART"]
    assert set_aside(series) == ()


def test_a_three_plane_survey_opens_no_row_and_a_survey_only_study_no_timepoint() -> (
    None
):
    day = date(2025, 1, 1)
    survey = [
        _series("S01", "FU1", day, description="SURVEY", stack_label=f"localizer {p}")
        for p in ("axial", "coronal", "sagittal")
    ]
    baseline = _series("S01", "BASELINE", None, phase=Phase.ARTERIAL, description="A")
    (subject,) = build_worklist([baseline, *survey])
    assert [t.label for t in subject.timepoints] == ["BASELINE"]
    assert set_aside([baseline, *survey]) == tuple(survey)
    assert build_worklist(survey) == ()


def test_only_scan_date_carries_a_date() -> None:
    date_fields = {
        f.name
        for cls in (SubjectEntry, TimepointEntry)
        for f in dataclasses.fields(cls)
        if "date" in f.name
    }
    assert date_fields == {"scan_date"}
