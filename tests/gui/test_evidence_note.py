"""Issue 16 item 4: the status bar says what is kept with an accepted click's caliper."""

from mrecist_reader.core.model import MeasurementEvidence
from mrecist_reader.ui.measure_flow import evidence_note


def test_the_status_bar_says_what_is_kept_with_the_caliper() -> None:
    kept = MeasurementEvidence(455, 310, ("touches a vessel: check the outline",))
    assert evidence_note(None) == ""
    assert evidence_note(kept) == (
        "; kept: whole lesion 45.5 mm, perpendicular 31.0 mm, 1 check"
    )
    assert evidence_note(MeasurementEvidence(checks=("a", "b"))) == "; kept: 2 checks"
