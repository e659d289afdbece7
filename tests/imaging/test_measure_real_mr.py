"""The real Siemens gadolinium liver MR with a marked lesion (issue 16, item 2).

``../shared/dicom_samples/pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm``: one axial
slice of a T1 VIBE fat-saturated breath-hold dynamic series (``t1_vibe_fs_tra_bh_dyn``,
11 ml Omniscan), 484 x 484 pixels of 0.723 mm. Its overlay (group 6000) circles the
marked lesion: a round enhancing nodule at the lateral edge of the right lobe, around
pixel (row 258, column 60).

**Manual caliper (mine), 10.3 mm.** Method: the raw pixel values printed around the
nodule; its enhancing tissue is 488-499 (median-90th percentile within 3.5 mm of the
centre), the liver 8-15 mm around it (fat and the abdominal wall, below 300, left out)
407 (IQR 396-421). Half-way, 451: the vertical profile through column 60 crosses it at
rows 251.9 and 265.5 (13.6 pixels, 9.8 mm); the horizontal one through row 258 at
columns 54.0 and 65.1 (8.0 mm; the nodule reaches the liver's surface on the left). The
thresholded nodule (connected, 117 pixels) is 10.4-10.8 mm across its longest chord
through the pixels' squares (thresholds 448-454), which overstates it by up to a pixel.
I take 10.3 mm (9.8 to 10.8). The overlay's circle itself is about 25 mm across: it is
drawn around the nodule, not on its edge.

**The larger mass (issue 16: "a lesion of about 4 cm").** The same slice holds a larger
(about 35-45 mm) hypo-enhancing mass with a bright crescent on its anterior side. Its
enhancing (viable) part is that crescent. **Manual caliper of the crescent (mine),
23 mm.** Method: the liver of the lobe west of the mass (rows 190-279, columns 70-104)
is 401 (IQR 382-418, 99th percentile 468); the crescent is the tissue clearly above
it, connected to (row 209, column 128): at raw thresholds 490-500 its longest chord
between pixel centres is 21.9-22.9 mm (rows 202-222, columns 116-142); at 480 (just
above the liver's 99th percentile) 29.2 mm, as it runs on into the faint lateral rim
(480-500). I take 23 mm (22-29). The mass's dark core is refused (not brighter than
its surroundings): mRECIST does not measure it. The core is not outlined as necrosis:
at the necrosis threshold it runs on, medially, into tissue outside the liver, so
``whole_diameter_mm`` stays the crescent's (a limit). The mass sits inside an
anterior right lobe that enhances more than the posterior part. A click on the
crescent proposes the crescent (22.5 mm). Clicks on the bright lobe proposed the lobe
(85-95 mm) until round 7: they are now refused, because the lobe holds the nodule and
the crescent, focal areas clearly brighter than itself (it is the liver they enhance
against), or, for the unevenly enhancing liver around the mass and in the lateral
lobe, because its outline is ragged (``imaging/measure/border.py``). The code before
issue 16 gave the same 10.1 mm on the marked nodule from these clicks: the issue's
94.4 mm came from clicks on that lobe.
"""

from pathlib import Path

import numpy as np
import pytest

from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.measure import NoEnhancingLesion, longest_viable_diameter
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import Volume

pytestmark = pytest.mark.shared

MANUAL_MM = 10.3  # my caliper, see the module docstring
CRESCENT_MM = 23.0  # my caliper of the larger mass's enhancing crescent (docstring)
CRESCENT = (210, 128)  # (row, column) near the crescent's middle
# Clicks on the crescent (raw value >= 540) and on the mass's dark core (<= 250).
CRESCENT_CLICKS = [(209, 128), (213, 124), (205, 132)]
CORE_CLICKS = [(233, 140), (225, 150), (237, 136)]
NODULE = (258, 60)  # (row, column) of the marked nodule's centre
# Clicks on the nodule's enhancing tissue (raw value >= 475), 0-3 mm from its centre.
NODULE_CLICKS = [(258, 60), (254, 60), (258, 57), (261, 61), (259, 63), (256, 59)]


@pytest.fixture(scope="module")
def volume(shared_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Volume:
    source = shared_samples / "pydicom-data" / "MR-SIEMENS-DICOM-WithOverlays.dcm"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    folder = tmp_path_factory.mktemp("siemens_liver_mr")
    (folder / source.name).write_bytes(source.read_bytes())
    return load_volume(scan(folder).series[0])


def _mm(volume: Volume, row: int, column: int) -> tuple[float, float, float]:
    x, y, z = index_to_patient(volume.affine, np.array([0.0, row, column]))
    return (float(x), float(y), float(z))


@pytest.mark.parametrize("click", NODULE_CLICKS)
def test_the_marked_nodule_is_proposed_within_5_mm_of_the_manual_caliper(
    volume: Volume, click: tuple[int, int]
) -> None:
    result = longest_viable_diameter(volume, _mm(volume, *click))
    assert abs(result.diameter_mm - MANUAL_MM) <= 5.0
    # The outline drawn for the reader is the nodule's, around its centre.
    outline = np.vstack([np.asarray(c) for c in result.viable_outline_mm])
    centre = np.asarray(_mm(volume, *NODULE))
    assert np.linalg.norm(outline - centre, axis=1).max() <= 10.0


@pytest.mark.parametrize("click", CRESCENT_CLICKS)
def test_the_larger_mass_is_proposed_as_its_enhancing_crescent_with_a_warning(
    volume: Volume, click: tuple[int, int]
) -> None:
    result = longest_viable_diameter(volume, _mm(volume, *click))
    assert abs(result.diameter_mm - CRESCENT_MM) <= 5.0
    # The outline is the crescent's, never the lobe around it (85-95 mm).
    outline = np.vstack([np.asarray(c) for c in result.viable_outline_mm])
    centre = np.asarray(_mm(volume, *CRESCENT))
    assert np.linalg.norm(outline - centre, axis=1).max() <= 20.0
    assert result.warnings  # low contrast to the liver, and the liver edge


@pytest.mark.parametrize("click", CORE_CLICKS)
def test_a_click_on_the_larger_mass_s_dark_core_is_refused(
    volume: Volume, click: tuple[int, int]
) -> None:
    with pytest.raises(NoEnhancingLesion, match="no enhancing lesion at this point"):
        longest_viable_diameter(volume, _mm(volume, *click))


# Clicks on the bright anterior lobe away from the nodule and the mass (raw 330-440),
# and on the unevenly enhancing liver around the mass.
LOBE_CLICKS = [
    (240, 90),
    (200, 100),
    (220, 80),
    (272, 96),
    (288, 80),
    (232, 112),
    (240, 128),
    (216, 160),
    (280, 72),
]


@pytest.mark.parametrize("click", LOBE_CLICKS)
def test_a_click_on_the_bright_lobe_is_refused_with_the_reason(
    volume: Volume, click: tuple[int, int]
) -> None:
    # Refused as liver: for the brighter lesions it holds or its ragged outline, or,
    # where the click is no brighter than the tissue around it, as not enhancing.
    reasons = "brighter than itself|ragged outline|does not enhance more than"
    with pytest.raises(NoEnhancingLesion, match=reasons):
        longest_viable_diameter(volume, _mm(volume, *click))


@pytest.mark.slow
def test_no_click_on_the_liver_of_this_slice_proposes_an_organ_sized_region(
    volume: Volume,
) -> None:
    """Every 8th pixel of the box rows 160-291, columns 40-200 with signal 300 or more.

    135 clicks, mostly liver. Before issue 16, 68 of them proposed more than 60 mm
    (76-118 mm; most 91-105 mm, the issue's 94.4 mm among them): regions leaking
    through the bright anterior right lobe, cut at random places. After round 6, 56
    did: 51 the lobe whole (84-86 mm) and 5 regions medial to the liver. Now none does:
    the lobe is refused for the brighter lesions it holds, the ragged regions of the
    unevenly enhancing liver around the mass for their outline. Eight clicks still
    propose something, none over 31 mm: the crescent (22.5 mm, 3 clicks), the
    nodule (10.1 mm), two pieces of the mass's enhancing wall (16 and 24 mm), a vessel
    medial to the liver (9 mm) and a 30 mm band of the posterior liver above the
    kidney (2 clicks).
    """
    organ_sized = 0
    proposed = 0
    clicks = 0
    for row in range(160, 331, 8):
        for column in range(40, 201, 8):
            if volume.array[0, row, column] < 300 or row >= 292:
                continue
            clicks += 1
            try:
                result = longest_viable_diameter(volume, _mm(volume, row, column))
            except NoEnhancingLesion:
                continue
            organ_sized += result.diameter_mm > 60.0
            proposed += 1
    assert clicks == 135
    assert organ_sized == 0
    assert proposed <= 8
