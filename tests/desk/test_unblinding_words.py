"""Issue 21 item 8: a SeriesDescription naming the arm is not shown in a blinded read.

The profile lists the trial's unblinding words (NCT06779461: "Mg", "magnesium",
"microsphere", "arm"). In a central (blinded) read a description holding one is shown
as the series' phase wherever the desk names series for the screen; a local read
shows it as the scanner wrote it.
"""

import dataclasses

import pytest

from mrecist_reader.core.model import ReadType
from mrecist_reader.core.protocol import unblinding_word_in
from mrecist_reader.desk.blinding import HIDDEN_WORD, blinded_description
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.imaging.volume import Phase
from mrecist_reader.imaging.worklist import SubjectEntry, build_worklist
from mrecist_reader.resources import load_profile
from tests.desk.worklists import desk_over, worklist_texts
from tests.gui.conftest import make_series

PLANTED = "ARTERIAL TACE+Mg ARM B"
WORDS = ("Mg", "magnesium", "microsphere", "arm")


def planted_worklist() -> tuple[SubjectEntry, ...]:
    series = [
        dataclasses.replace(
            make_series(
                uid=f"5.5.{index}",
                subject_id="S01",
                timepoint_label=label,
                description=PLANTED,
                phase=phase,
            ),
            warnings=(f"series {PLANTED!r}: slices unevenly spaced",),
        )
        for index, (label, phase) in enumerate(
            (("BASELINE", Phase.ARTERIAL), ("FU1", Phase.PORTAL_VENOUS))
        )
    ]
    plain = make_series(uid="5.5.9", subject_id="S02", description="Arterial 1.25mm")
    return build_worklist([*series, plain])


def descriptions(desk: ReadingDesk) -> list[str]:
    return [
        series.series_description
        for subject in desk.worklist.subjects
        for timepoint in subject.timepoints
        for series in timepoint.series
    ]


def test_a_central_read_shows_the_phase_instead_of_the_arms_description() -> None:
    desk = desk_over(ReadType.CENTRAL, planted_worklist())
    try:
        texts = worklist_texts(desk)
        assert not [t for t in texts if PLANTED in t]
        assert not [t for t in texts if unblinding_word_in(t, WORDS)]
        assert descriptions(desk) == ["arterial", "portal venous", "Arterial 1.25mm"]
        (baseline, _) = desk.worklist.subject("S01").timepoints
        assert baseline.series[0].warnings == (
            "series 'arterial': slices unevenly spaced",
        )
    finally:
        desk.close()


def test_a_local_read_shows_the_description_as_written() -> None:
    desk = desk_over(ReadType.LOCAL, planted_worklist())
    try:
        assert descriptions(desk) == [PLANTED, PLANTED, "Arterial 1.25mm"]
        assert sum(PLANTED in text for text in worklist_texts(desk)) == 4
    finally:
        desk.close()


def test_a_word_in_a_warning_is_hidden_even_when_the_description_is_clean() -> None:
    profile = load_profile("nct06779461")
    series = dataclasses.replace(
        make_series(description="Arterial"),
        warnings=("protocol name 'HCC magnesium study' differs",),
    )
    shown = blinded_description(series, profile, blinded=True)
    assert shown.series_description == "Arterial"
    assert shown.warnings == (f"protocol name 'HCC {HIDDEN_WORD} study' differs",)
    assert blinded_description(series, profile, blinded=False) is series


@pytest.mark.parametrize(
    ("description", "found"),
    [
        (PLANTED, "Mg"),
        ("art_mg", "Mg"),
        ("Magnesium microsphere", "magnesium"),
        ("Arm-A late", "arm"),
        ("ARTERIAL 1.25", None),
        ("Mgr", None),
        ("ARMS UP", None),
        ("Pharmacy", None),
        ("", None),
    ],
)
def test_unblinding_words_match_whole_words_ignoring_case(
    description: str, found: str | None
) -> None:
    assert unblinding_word_in(description, WORDS) == found


def test_a_profile_without_unblinding_words_changes_nothing() -> None:
    series = make_series(description=PLANTED)
    generic = load_profile("mrecist")
    assert generic.unblinding_words == ()
    assert blinded_description(series, generic, blinded=True) is series
