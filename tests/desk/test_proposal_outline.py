"""Issue 16 item 3: a proposal keeps what was segmented until accepted or rejected."""

from dataclasses import replace

import pytest

from mrecist_reader.core.model import Caliper, Method
from mrecist_reader.desk.desk import Proposal, ReadingDesk
from mrecist_reader.imaging.measure.model import ViableMeasurement
from tests.desk.conftest import caliper_at

VESSEL = "touches a vessel: check the outline"
VIABLE = (
    ((-10.0, -10.0, 0.0), (10.0, -10.0, 0.0), (10.0, 10.0, 0.0), (-10.0, 10.0, 0.0)),
)
NECROTIC = (((-3.0, -3.0, 0.0), (3.0, -3.0, 0.0), (0.0, 3.0, 0.0)),)


def measured() -> ViableMeasurement:
    return ViableMeasurement(
        p1_mm=(-10.0, 0.0, 0.0),
        p2_mm=(10.0, 0.0, 0.0),
        diameter_mm=20.0,
        slice_index=3,
        sop_instance_uid="1.2.3",
        viable_area_mm2=400.0,
        viable_outline_mm=VIABLE,
        necrotic_outline_mm=NECROTIC,
        whole_diameter_mm=24.5,
        viable_perpendicular_mm=19.0,
        warnings=(VESSEL,),
    )


@pytest.fixture
def proposed(desk: ReadingDesk) -> ReadingDesk:
    drawn = caliper_at(desk, (0.0, 0.0, 0.0), 20.0, method=Method.SEMI_AUTOMATIC)
    desk.propose(Proposal.from_measurement(drawn, measured()))
    return desk


def test_a_proposal_from_a_measurement_keeps_its_outlines_and_warnings(
    proposed: ReadingDesk,
) -> None:
    seen: list[object] = []
    proposed.proposal_changed.connect(seen.append)
    proposal = proposed.proposal
    assert proposal is not None
    assert proposal.viable_outline_mm == VIABLE
    assert proposal.necrotic_outline_mm == NECROTIC
    assert proposal.warnings == (VESSEL,)
    assert (
        proposal.diameter_mm,
        proposal.whole_diameter_mm,
        proposal.viable_perpendicular_mm,
    ) == (20.0, 24.5, 19.0)
    # the reader moves the ends: the segmented region and its warnings stay
    proposed.edit_proposal(Caliper((-9.0, 0.0, 0.0), (11.0, 0.0, 0.0)))
    edited = proposed.proposal
    assert edited is not None
    assert edited.edited
    assert edited.viable_outline_mm == VIABLE
    assert edited.necrotic_outline_mm == NECROTIC
    assert edited.warnings == (VESSEL,)
    assert seen == [edited]


def test_taking_the_proposal_clears_it_and_its_outlines(proposed: ReadingDesk) -> None:
    seen: list[object] = []
    proposed.proposal_changed.connect(seen.append)
    drawn = proposed.take_proposal()
    assert drawn is not None
    assert drawn.method is Method.SEMI_AUTOMATIC
    assert proposed.proposal is None
    assert seen == [None]


def test_rejecting_the_proposal_clears_it_and_its_outlines(
    proposed: ReadingDesk,
) -> None:
    seen: list[object] = []
    proposed.proposal_changed.connect(seen.append)
    assert proposed.reject_proposal()
    assert proposed.proposal is None
    assert seen == [None]
    assert not proposed.reject_proposal()


def test_another_proposal_replaces_the_outlines(proposed: ReadingDesk) -> None:
    assert proposed.proposal is not None
    drawn = replace(
        proposed.proposal.drawn, caliper=Caliper((0.0, 0.0, 0.0), (5.0, 0.0, 0.0))
    )
    proposed.propose(drawn)  # a proposal without a measurement: nothing segmented
    assert proposed.proposal is not None
    assert proposed.proposal.viable_outline_mm == ()
    assert proposed.proposal.warnings == ()
