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


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Lap chole", U),
        ("CT ABD POST LAP CHOLE", U),
        ("Laparoscopy planning", U),
        ("LAP", A),
        ("LAP 30s", A),
        ("Late artefact", D),  # LATE alone is a delayed word; no ART phrase
        ("EARLY ARTIFACT", U),
        ("Multiarticular", U),
        ("Topogram AP", U),
        ("AP Scout", U),
        ("CT CAP", U),
        ("TAP 5mm", U),
        ("Appendix", U),
        ("PVC", U),
        ("Arthro", U),
        ("PRESS", U),
        ("Pre-op liver", U),
        ("PRE TACE ART", A),
        ("Post-op PV", PV),
        ("HBP20", D),
        ("ART2", A),
        ("LATEART2", A),
        ("PV1", PV),
        ("Ax LAVA Pre", PRE),
        ("Ax LAVA Art", A),
        ("Portalvenös", PV),
    ],
)
def test_phase_words_match_whole_words_only(description: str, expected: Phase) -> None:
    assert classify_phase(description) is expected


GE_LOCALIZER, GE_PRE, GE_ART, GE_PV, GE_DELAY = (
    35400.0,
    36000.0,
    36070.0,
    36110.0,
    36250.0,
)


def _ge_phase(seconds: float, times: tuple[float, ...]) -> Phase:
    """Phase of a GE series: every series names the agent, no bolus time, no words."""
    return classify_phase(
        "Ax LAVA",
        contrast_agent="MULTIHANCE",
        acquisition_seconds=seconds,
        study_contrast_seconds=times,
    )


@pytest.mark.parametrize(
    "times",
    [
        (GE_PRE, GE_ART, GE_PV, GE_DELAY),
        (GE_LOCALIZER, GE_PRE, GE_ART, GE_PV, GE_DELAY),
        (GE_PRE, GE_PRE, GE_ART, GE_PV, GE_DELAY),  # a reformat shares the time
    ],
)
def test_agent_on_every_series_leaves_the_pre_contrast_series_pre_contrast(
    times: tuple[float, ...],
) -> None:
    assert [_ge_phase(t, times) for t in (GE_PRE, GE_ART, GE_PV, GE_DELAY)] == [
        PRE,
        A,
        PV,
        D,
    ]


def test_without_a_pause_before_it_the_earliest_contrast_series_stays_arterial() -> (
    None
):
    times = (36000.0, 36040.0, 36180.0)  # arterial, portal venous, delayed
    assert [_ge_phase(t, times) for t in times] == [A, PV, D]
    assert [_ge_phase(t, (36000.0, 36150.0)) for t in (36000.0, 36150.0)] == [A, D]


def test_bolus_start_on_every_series_puts_the_pre_contrast_series_first() -> None:
    times = (GE_PRE, GE_ART, GE_PV, GE_DELAY)
    bolus = GE_PRE + 20.0  # injected 20 s after the pre-contrast series
    phases = [
        classify_phase(
            "Ax LAVA",
            contrast_agent="MULTIHANCE",
            bolus_start_seconds=bolus,
            acquisition_seconds=t,
            study_contrast_seconds=times,
        )
        for t in (GE_PRE, GE_PRE + 45.0, GE_PRE + 90.0, GE_DELAY)
    ]
    assert phases == [PRE, A, PV, D]
