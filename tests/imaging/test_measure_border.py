"""A large region that holds a lesion brighter than itself is liver, not a lesion.

The synthetic counterpart of the real Siemens liver MR's bright lobe
(``test_measure_real_mr.py``): on MR, a 90 mm lobe enhancing more than the liver
around it, holding a 12 mm nodule brighter than the lobe. The lobe alone is, to
relative contrast, a large lesion; what says it is the nodule's liver is the nodule
inside it (``imaging/measure/border.py``).
"""

import numpy as np
import pytest

from mrecist_reader.imaging.measure import NoEnhancingLesion, longest_viable_diameter
from mrecist_reader.imaging.volume import Volume
from tests.imaging.test_measure import tolerance
from tests.imaging.test_measure_phantom import anatomy_grid, paint_volume

LIVER, LOBE, NODULE = 250.0, 410.0, 490.0
NODULE_CENTRE = (-40.0, 10.0, 0.0)  # x, y, z (mm)
NODULE_RADIUS = 6.0


def _lobe(with_nodule: bool) -> Volume:
    z, y, x = anatomy_grid()
    lobe = ((x + 20.0) / 45.0) ** 2 + (y / 35.0) ** 2 + (z / 40.0) ** 2 <= 1.0
    shapes = [(lobe, LOBE)]
    if with_nodule:
        cx, cy, cz = NODULE_CENTRE
        nodule = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= NODULE_RADIUS**2
        shapes.append((nodule, NODULE))
    return paint_volume("MR", LIVER, shapes, noise=12.0, seed=23)


def test_a_click_on_a_bright_lobe_holding_a_brighter_nodule_is_refused() -> None:
    # Refused as the nodule's liver (or, where the click is no brighter than the
    # tissue around it, said not to enhance more than its surroundings).
    reasons = "brighter than itself: it is the liver|does not enhance more than"
    with pytest.raises(NoEnhancingLesion, match=reasons):
        longest_viable_diameter(_lobe(with_nodule=True), (0.0, -10.0, 0.0))


def test_the_nodule_in_that_lobe_is_measured() -> None:
    result = longest_viable_diameter(_lobe(with_nodule=True), NODULE_CENTRE)
    truth = 2.0 * NODULE_RADIUS
    assert result.diameter_mm == pytest.approx(truth, abs=tolerance(truth))


def test_the_same_lobe_without_the_nodule_is_not_refused_by_that_rule() -> None:
    # Without a brighter focus inside it, relative contrast alone sees a 90 mm lesion:
    # the rule refuses only a region that holds one (a limit, docs/accuracy.md).
    result = longest_viable_diameter(_lobe(with_nodule=False), (0.0, -10.0, 0.0))
    assert result.diameter_mm == pytest.approx(90.0, abs=3.0)
    assert not np.isnan(result.whole_diameter_mm)
