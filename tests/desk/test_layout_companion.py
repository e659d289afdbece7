"""The 2×2 layout's lower row: the same timepoint's other phase (issue 15 item 2)."""

from mrecist_reader.desk.layout import companion_series
from mrecist_reader.imaging.volume import Phase
from tests.gui.conftest import make_series

ARTERIAL = make_series(uid="1", phase=Phase.ARTERIAL)
PORTAL = make_series(uid="2", phase=Phase.PORTAL_VENOUS, description="Portal venous")
DELAYED = make_series(uid="3", phase=Phase.DELAYED, description="Delayed")


def test_under_the_arterial_series_is_the_portal_venous_one() -> None:
    assert companion_series([DELAYED, ARTERIAL, PORTAL], ARTERIAL) is PORTAL


def test_under_any_other_series_is_the_arterial_one() -> None:
    assert companion_series([ARTERIAL, PORTAL, DELAYED], PORTAL) is ARTERIAL
    assert companion_series([ARTERIAL, PORTAL, DELAYED], DELAYED) is ARTERIAL


def test_a_timepoint_with_one_phase_has_no_companion() -> None:
    assert companion_series([ARTERIAL], ARTERIAL) is None
    assert companion_series([ARTERIAL, PORTAL], None) is None
