"""mrecist-rules.md §Non-target response and §New lesions."""

import pytest

from mrecist_reader.core.assess import assess
from mrecist_reader.core.model import (
    NewLesions,
    NewLesionStatus,
    NonTargetResponse,
    NonTargetStatus,
    Response,
)
from mrecist_reader.core.rules import new_lesions, non_target_response
from tests.kit.reads import NCT, build_read

P, A, PROG, NE = (
    NonTargetStatus.PRESENT,
    NonTargetStatus.ABSENT,
    NonTargetStatus.PROGRESSION,
    NonTargetStatus.NOT_EVALUABLE,
)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({}, NonTargetResponse.NA),
        ({"NT1": PROG, "NT2": NE}, NonTargetResponse.PD),
        ({"NT1": NE, "NT2": A}, NonTargetResponse.NE),
        ({"NT1": A, "NT2": A}, NonTargetResponse.CR),
        ({"NT1": A, "NT2": P}, NonTargetResponse.IR_SD),
    ],
    ids=[
        "none at baseline: NA",
        "progression: PD",
        "not evaluable: NE",
        "all absent: CR",
        "enhancement persists: IR_SD",
    ],
)
def test_non_target_response(
    statuses: dict[str, NonTargetStatus], expected: NonTargetResponse
) -> None:
    assert non_target_response(statuses)[0] is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({}, NewLesions.NO),
        ({"N1": NewLesionStatus.EQUIVOCAL}, NewLesions.EQUIVOCAL),
        (
            {"N1": NewLesionStatus.EQUIVOCAL, "N2": NewLesionStatus.PRESENT},
            NewLesions.YES,
        ),
    ],
)
def test_new_lesions_summary(
    statuses: dict[str, NewLesionStatus], expected: NewLesions
) -> None:
    assert new_lesions(statuses)[0] is expected


def test_progression_reason_names_the_lesion() -> None:
    assert non_target_response({"NT1": P, "NT2": PROG})[1] == (
        "unequivocal progression of NT2: PD"
    )


def test_a_baseline_non_target_without_a_status_counts_as_not_evaluable() -> None:
    read = build_read({"T1": [40.0, 30.0]}, non_targets={"NT1": ["present", None]})
    assert assess(read, NCT).timepoints[1].non_target_response is NonTargetResponse.NE


def test_an_equivocal_new_lesion_alone_does_not_make_pd() -> None:
    read = build_read({"T1": [40.0, 25.0]}, new={"N1": [None, "equivocal"]})
    row = assess(read, NCT).timepoints[1]
    assert (row.new_lesions, row.overall_response) == (
        NewLesions.EQUIVOCAL,
        Response.PR,
    )


def test_an_unequivocal_new_lesion_makes_pd_whatever_the_targets() -> None:
    read = build_read({"T1": [40.0, "absent"]}, new={"N1": [None, "present"]})
    row = assess(read, NCT).timepoints[1]
    assert (row.target_response, row.overall_response) == (Response.CR, Response.PD)
