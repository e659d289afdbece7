"""The kit's Read builder: its options say what they do, and its scenarios are valid."""

from datetime import UTC, datetime

import pytest

from mrecist_reader.core.model import (
    Caliper,
    Method,
    Read,
    ReadStatus,
    ReadType,
    TargetStatus,
)
from mrecist_reader.core.validate import validate_read
from tests.central_review.reads import primary_read
from tests.gui.reads import five_target_read, two_target_read
from tests.kit.reads import NCT, Detail, build_read
from tests.storage.samples import sample_read
from tests.transfer.reads import example_read


def test_the_first_timepoints_are_signed_and_the_rest_are_drafts() -> None:
    at = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    read = build_read({"T1": [40.0, 30.0, 20.0]}, signed=2, signed_at=at)
    assert [(t.read_status, t.signed_at) for t in read.timepoints] == [
        (ReadStatus.SIGNED, at),
        (ReadStatus.SIGNED, at),
        (ReadStatus.DRAFT, None),
    ]


def test_a_lesions_method_goes_on_its_measurements_and_a_detail_wins() -> None:
    caliper = Caliper((0.0, 0.0, 0.0), (40.0, 0.0, 0.0))
    read = build_read(
        {"T1": [40.0, "too_small"]},
        methods={"T1": Method.MANUAL},
        details={("T1", 0): Detail(caliper, "1.2", "1.2.3", comment="edge")},
    )
    baseline, follow_up = read.observations
    assert (baseline.method, baseline.caliper, baseline.comment) == (
        Method.MANUAL,
        caliper,
        "edge",
    )
    assert (baseline.series_instance_uid, baseline.sop_instance_uid) == ("1.2", "1.2.3")
    assert follow_up.status is TargetStatus.TOO_SMALL
    assert follow_up.method is None  # nothing was measured


def test_lesion_order_moves_lesions_not_observations() -> None:
    read = build_read(
        {"T1": [40.0], "T2": [30.0]},
        non_targets={"NT1": ["present"]},
        lesion_order=["NT1", "T2", "T1"],
    )
    assert [lesion.lesion_id for lesion in read.lesions] == ["NT1", "T2", "T1"]
    assert [o.lesion_id for o in read.observations] == ["T1", "T2", "NT1"]


def test_the_key_and_site_are_options() -> None:
    read = build_read(
        {"T1": [40.0]}, subject_id="S9", reader_id="R7", read_type=ReadType.LOCAL
    )
    assert (read.key.subject_id, read.key.reader_id, read.key.read_type) == (
        "S9",
        "R7",
        ReadType.LOCAL,
    )
    assert build_read({"T1": [40.0]}, site_id="SITE9").site_id == "SITE9"


@pytest.mark.parametrize(
    "read",
    [
        two_target_read(),
        sample_read(),
        sample_read(read_type=ReadType.CENTRAL),
        example_read(),
        primary_read("S01", "R01", [50.0, 30.0], signed=1),
    ],
    ids=["two_target", "local", "central", "transfer", "primary"],
)
def test_every_named_scenario_is_a_valid_read(read: Read) -> None:
    assert validate_read(read, NCT) == ()


def test_the_five_target_read_breaks_only_the_rules_it_shows_on_purpose() -> None:
    # a lymph-node target (longest organ name) and a fifth target under 30 mm
    problems = validate_read(five_target_read(t1_fu2_comment="rim"), NCT)
    assert [(p.lesion_id, p.timepoint_index) for p in problems] == [
        ("T3", 0),
        ("T5", 0),
    ]
    assert "lymph-node targets are not allowed" in problems[0].message
    assert "outside the allowed range" in problems[1].message
