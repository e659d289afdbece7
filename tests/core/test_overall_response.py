"""mrecist-rules.md §Overall response: one case per row of the table (and its 'any')."""

import itertools

import pytest

from mrecist_reader.core.model import NewLesions, NonTargetResponse, Response
from mrecist_reader.core.rules import overall_response

R, NT, NEW = Response, NonTargetResponse, NewLesions
NOT_PD = (NT.CR, NT.IR_SD, NT.NE, NT.NA)
NO_OR_EQUIVOCAL = (NEW.NO, NEW.EQUIVOCAL)

TABLE = [
    # target, non-target choices, new-lesion choices, overall
    ("PD | any | any", (R.PD,), tuple(NT), tuple(NEW), R.PD),
    ("any | PD | any", tuple(R), (NT.PD,), tuple(NEW), R.PD),
    ("any | any | yes", tuple(R), tuple(NT), (NEW.YES,), R.PD),
    ("CR | CR or NA | no/equivocal", (R.CR,), (NT.CR, NT.NA), NO_OR_EQUIVOCAL, R.CR),
    (
        "CR | IR_SD or NE | no/equivocal",
        (R.CR,),
        (NT.IR_SD, NT.NE),
        NO_OR_EQUIVOCAL,
        R.PR,
    ),
    ("PR | not PD | no/equivocal", (R.PR,), NOT_PD, NO_OR_EQUIVOCAL, R.PR),
    ("SD | not PD | no/equivocal", (R.SD,), NOT_PD, NO_OR_EQUIVOCAL, R.SD),
    ("NE | not PD | no/equivocal", (R.NE,), NOT_PD, NO_OR_EQUIVOCAL, R.NE),
]


@pytest.mark.parametrize(
    ("targets", "non_targets", "new", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_overall_response_table_row(
    targets: tuple[Response, ...],
    non_targets: tuple[NonTargetResponse, ...],
    new: tuple[NewLesions, ...],
    expected: Response,
) -> None:
    for combination in itertools.product(targets, non_targets, new):
        decision, reason = overall_response(*combination)
        assert decision is expected, combination
        assert reason.endswith(f": overall {expected}")


def test_the_table_covers_every_combination_exactly_once() -> None:
    covered = set()
    for _, targets, non_targets, new, _expected in TABLE[3:]:
        covered |= set(itertools.product(targets, non_targets, new))
    targets_not_pd = (R.CR, R.PR, R.SD, R.NE)
    not_pd = set(itertools.product(targets_not_pd, NOT_PD, NO_OR_EQUIVOCAL))
    assert covered == not_pd
