"""Issue 16 items 4 and 5: the click's whole diameter, perpendicular and checks are kept.

From the accepted proposal through the desk and the session into the database (same
transaction, audited), the content hash, measurements.csv and back by import. A caliper
the reader drew or moved keeps none; mRECIST responses use the viable diameter only.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from mrecist_reader.core.assess import assess
from mrecist_reader.core.integrity import canonical_observation, content_hashes
from mrecist_reader.core.model import (
    Caliper,
    MeasurementEvidence,
    Method,
    Organ,
    Read,
)
from mrecist_reader.desk.desk import Proposal, ReadingDesk
from mrecist_reader.imaging.measure.model import ViableMeasurement
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.csv_in import read_measurements
from mrecist_reader.transfer.csv_out import rows_for_measurements, write_measurements
from tests.desk.conftest import caliper_at
from tests.desk.test_proposal_outline import VESSEL, measured

KEPT = MeasurementEvidence(whole_diameter=455, perpendicular=310, checks=(VESSEL,))


def found() -> ViableMeasurement:
    """Return a click's 40 mm viable diameter in a 45.5 mm lesion, 31 mm across."""
    return replace(
        measured(),
        p1_mm=(-20.0, 0.0, 0.0),
        p2_mm=(20.0, 0.0, 0.0),
        diameter_mm=40.0,
        whole_diameter_mm=45.5,
        viable_perpendicular_mm=31.04,
    )


def propose(desk: ReadingDesk, index: int = 0) -> None:
    drawn = caliper_at(
        desk, (0.0, 0.0, 0.0), 40.0, index=index, method=Method.SEMI_AUTOMATIC
    )
    desk.propose(Proposal.from_measurement(drawn, found()))


def accept_as_target(desk: ReadingDesk) -> Read:
    """Designate T1 at baseline from the accepted proposal; return the stored read."""
    propose(desk)
    drawn = desk.take_proposal()
    assert drawn is not None
    assert desk.designate(drawn, Organ.LIVER, "segment 7") == "T1"
    return stored(desk)


def stored(desk: ReadingDesk) -> Read:
    (read,) = desk.repository().all_reads()
    return read


def test_an_accepted_proposal_keeps_its_evidence_in_the_database(
    desk: ReadingDesk,
) -> None:
    read = accept_as_target(desk)
    obs = read.observation("T1", 0)
    assert obs is not None
    assert obs.diameter == 400  # the viable diameter is the caliper's
    assert obs.method is Method.SEMI_AUTOMATIC
    assert obs.evidence == KEPT
    assert desk.repository().integrity_problems() == ()


def test_the_evidence_is_in_the_audit_entry_of_the_measurement(
    desk: ReadingDesk,
) -> None:
    accept_as_target(desk)
    session = desk.session
    assert session is not None
    entry = session.audit_trail()[-1]
    assert entry.action == "designate_target"
    assert "whole 45.5 mm" in entry.new_value
    assert "perpendicular 31.0 mm" in entry.new_value
    assert VESSEL in entry.new_value


def test_a_moved_proposal_keeps_no_evidence(desk: ReadingDesk) -> None:
    propose(desk)
    desk.edit_proposal(Caliper((-19.0, 0.0, 0.0), (22.0, 0.0, 0.0)))
    drawn = desk.take_proposal()
    assert drawn is not None
    assert drawn.method is Method.SEMI_AUTOMATIC_EDITED
    assert drawn.evidence is None
    desk.designate(drawn, Organ.LIVER, "")
    obs = stored(desk).observation("T1", 0)
    assert obs is not None
    assert obs.evidence is None


def test_a_manual_caliper_over_a_click_drops_the_stale_evidence(
    desk: ReadingDesk,
) -> None:
    accept_as_target(desk)
    manual = caliper_at(desk, (0.0, 0.0, 0.0), 42.0)
    assert desk.measure("T1", manual) == 420
    obs = stored(desk).observation("T1", 0)
    assert obs is not None
    assert (obs.diameter, obs.method, obs.evidence) == (420, Method.MANUAL, None)
    assert desk.repository().integrity_problems() == ()


def test_a_follow_up_click_keeps_its_evidence(desk: ReadingDesk) -> None:
    accept_as_target(desk)
    desk.go_to_timepoint(1)
    propose(desk, index=1)
    drawn = desk.take_proposal()
    assert drawn is not None
    desk.measure("T1", drawn)
    obs = stored(desk).observation("T1", 1)
    assert obs is not None
    assert obs.evidence == KEPT


def test_the_content_hash_includes_evidence_only_when_present(
    desk: ReadingDesk,
) -> None:
    read = accept_as_target(desk)
    obs = read.observation("T1", 0)
    assert obs is not None
    plain = replace(obs, evidence=None)
    assert "evidence" not in canonical_observation(plain)  # older hashes unchanged
    without = replace(read, observations=(plain,))
    assert content_hashes(without) != content_hashes(read)
    other = replace(obs, evidence=replace(KEPT, perpendicular=311))
    assert content_hashes(replace(read, observations=(other,))) != content_hashes(read)


def test_mrecist_responses_use_the_viable_diameter_only(desk: ReadingDesk) -> None:
    read = accept_as_target(desk)
    desk.go_to_timepoint(1)
    desk.measure("T1", caliper_at(desk, (0.0, 0.0, 0.0), 12.0, index=1))
    read = stored(desk)
    bare = replace(
        read,
        observations=tuple(replace(o, evidence=None) for o in read.observations),
    )
    whole = replace(
        read,
        observations=tuple(
            replace(o, evidence=MeasurementEvidence(whole_diameter=900))
            for o in read.observations
        ),
    )
    profile = load_profile("nct06779461")
    assert assess(read, profile) == assess(bare, profile) == assess(whole, profile)


def test_measurements_csv_writes_and_imports_the_evidence(
    desk: ReadingDesk, tmp_path: Path
) -> None:
    read = accept_as_target(desk)
    (row,) = rows_for_measurements([read])
    assert (row["whole_diameter_mm"], row["viable_perpendicular_mm"]) == (
        "45.5",
        "31.0",
    )
    path = tmp_path / "measurements.csv"
    write_measurements(path, [read])
    (back,) = read_measurements(path, profile_for=lambda _: load_profile("nct06779461"))
    obs = back.observation("T1", 0)
    assert obs is not None
    # the checks have no column: they stay in the read and its audit trail
    assert obs.evidence == MeasurementEvidence(455, 310, ())


@pytest.mark.parametrize("method", [Method.MANUAL, Method.SEMI_AUTOMATIC_EDITED])
def test_measurements_without_evidence_write_empty_columns(
    desk: ReadingDesk, method: Method
) -> None:
    desk.designate(
        caliper_at(desk, (0.0, 0.0, 0.0), 40.0, method=method), Organ.LIVER, ""
    )
    (row,) = rows_for_measurements([stored(desk)])
    assert (row["whole_diameter_mm"], row["viable_perpendicular_mm"]) == ("", "")
