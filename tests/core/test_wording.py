"""The words readers see for the model's tokens: one mapping, no token on screen."""

import pytest

from mrecist_reader.core import wording
from mrecist_reader.core.model import (
    LesionType,
    NewLesionStatus,
    NonTargetResponse,
    NonTargetStatus,
    Organ,
    Response,
    TargetStatus,
)
from mrecist_reader.core.wording import capitalised, count_text, word


def test_ir_sd_reads_non_cr_non_pd() -> None:
    assert word(NonTargetResponse.IR_SD) == "Non-CR/Non-PD"


def test_lesion_types_and_organs_read_as_words() -> None:
    assert word(LesionType.NON_TARGET) == "non-target"
    assert capitalised(word(LesionType.NON_TARGET)) == "Non-target"
    assert word(Organ.LYMPH_NODE) == "lymph node"
    assert word(Organ.PORTAL_VEIN) == "portal vein"


def test_equal_tokens_of_different_enums_keep_their_own_words() -> None:
    # "present" is the same string in both enums, but a new lesion that is present
    # is an unequivocal one (progression)
    assert str(NewLesionStatus.PRESENT) == str(NonTargetStatus.PRESENT)
    assert word(NonTargetStatus.PRESENT) == "present"
    assert word(NewLesionStatus.PRESENT) == "unequivocal"


def test_no_word_is_a_raw_token() -> None:
    for enum in wording.known_enums():
        for member in enum:
            text = word(member)
            assert text, member
            assert "_" not in text, (member, text)


def test_every_member_of_every_known_enum_has_words() -> None:
    for enum in wording.known_enums():
        assert set(enum) == set(wording._WORDS[enum]), enum


def test_none_reads_as_a_dash() -> None:
    assert word(None) == "—"
    assert word(None, none="not assessed") == "not assessed"
    assert word(Response.PD) == "PD"
    assert word(TargetStatus.NOT_EVALUABLE) == "not evaluable"


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 files"), (1, "1 file"), (2, "2 files")]
)
def test_counts_agree_with_their_noun(count: int, expected: str) -> None:
    assert count_text(count, "file") == expected


def test_irregular_plural() -> None:
    assert count_text(3, "series", "series") == "3 series"
    assert count_text(1, "series", "series") == "1 series"


def test_reasons_are_put_in_words_token_by_token() -> None:
    reason = "target SD, non-target IR_SD, new lesions no; NT2 not_evaluable"
    assert wording.readable(reason) == (
        "target SD, non-target Non-CR/Non-PD, new lesions no; NT2 not evaluable"
    )
    assert wording.readable("semi_automatic_edited") == "semi-auto, edited"
    assert wording.readable("IR_SDX stays") == "IR_SDX stays"  # whole tokens only
