"""classify_phase(): realistic CT and MR series descriptions and header timing."""

import pytest

from mrecist_reader.imaging.phase import classify_phase
from mrecist_reader.imaging.volume import Phase

A, PV, D, PRE, U = (
    Phase.ARTERIAL,
    Phase.PORTAL_VENOUS,
    Phase.DELAYED,
    Phase.PRE_CONTRAST,
    Phase.UNKNOWN,
)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("LIVER 3PH ARTERIAL", A),
        ("AP 35s", A),
        ("LATE ART", A),
        ("Late Arterial 2.5mm", A),
        ("Arterial Phase 1.25mm", A),
        ("T1 VIBE FS ART", A),
        ("T1 FL3D TRA ART", A),
        ("LAVA MULTIPHASE 2", A),
        ("Ax LAVA Multi-Phase", A),
        ("HAP 3mm", A),
        ("PORTAL VENOUS 70s", PV),
        ("PV", PV),
        ("VEN", PV),
        ("Portal-Venous 5.0 B30f", PV),
        ("t1_vibe_fs_tra_pv", PV),
        ("DELAYED 3MIN", D),
        ("EQUILIBRIUM", D),
        ("WASHOUT 3 MIN", D),
        ("HBP 20MIN", D),
        ("Hepatobiliary 20 min", D),
        ("Delay 5 min", D),
        ("NON CONTRAST", PRE),
        ("Non-Contrast 5mm", PRE),
        ("PRE", PRE),
        ("T1 VIBE PRE", PRE),
        ("NATIVE", PRE),
        ("Abdomen W/O", PRE),
        ("UNENHANCED", PRE),
        ("Liver 40 sec", A),
        ("Abdomen 90s", PV),
        ("ABDOMEN 5.0 B30f", U),
        ("Topogram 0.6 T20f", U),
        ("", U),
        ("ART PV", U),
    ],
)
def test_description_decides_the_phase(description: str, expected: Phase) -> None:
    assert classify_phase(description) is expected


def test_protocol_name_is_used_when_the_description_says_nothing() -> None:
    assert classify_phase("5.0 B30f", protocol_name="Liver arterial") is A


def test_localizer_is_unknown_whatever_the_text() -> None:
    assert classify_phase("ARTERIAL", is_localizer=True) is U


@pytest.mark.parametrize(
    ("delay_s", "expected"),
    [(-60.0, PRE), (30.0, A), (75.0, PV), (200.0, D)],
)
def test_bolus_start_time_gives_the_delay_after_injection(
    delay_s: float, expected: Phase
) -> None:
    bolus = 36000.0
    phase = classify_phase(
        "ABDOMEN 5.0",
        contrast_agent="OMNIPAQUE",
        bolus_start_seconds=bolus,
        acquisition_seconds=bolus + delay_s,
    )
    assert phase is expected


def test_study_timing_earliest_contrast_series_is_arterial_the_others_later() -> None:
    contrast_times = (36035.0, 36075.0, 36215.0)

    def phase_at(seconds: float, agent: str = "GADOVIST") -> Phase:
        return classify_phase(
            "t1_vibe_fs_tra",
            contrast_agent=agent,
            acquisition_seconds=seconds,
            study_contrast_seconds=contrast_times,
        )

    assert phase_at(36035.0) is A
    assert phase_at(36075.0) is PV
    assert phase_at(36215.0) is D
    assert phase_at(35900.0, agent="") is PRE


def test_a_single_contrast_series_without_times_is_unknown() -> None:
    phase = classify_phase(
        "t1",
        contrast_agent="GADOVIST",
        acquisition_seconds=1.0,
        study_contrast_seconds=(1.0,),
    )
    assert phase is U
