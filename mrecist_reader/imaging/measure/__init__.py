"""Semi-automatic longest viable diameter: one click inside a lesion proposes the caliper.

mRECIST measures the longest diameter of the *viable* tumour, the part that enhances in the
arterial phase, on the arterial-phase series (``shared/spec/mrecist-rules.md``, "Lesions at
baseline"). :func:`longest_viable_diameter` takes a point in patient millimetres on such a
volume and returns the proposed caliper; the reader accepts or adjusts it.

Method, and why each step
-------------------------
1. **Denoise each slice in its plane** with a median filter about 1.4 mm wide (3 x 3 pixels
   at 0.6-1.0 mm spacing). A median keeps an edge where it is, whatever the grey levels on
   either side, so the viable/fat and viable/necrosis borders are not pulled inwards the
   way a Gaussian pulls them; it cuts the noise to about 0.4 sigma. Slices are never
   filtered across, because slices 5 mm thick sample different anatomy.
2. **Estimate the statistics locally, never from HU**, so CT and MR work alike. The noise
   is the median absolute difference of filtered pixels further apart than the filter.
   The lesion level is the median of the region grown from the click (pixels within 3
   noise sigmas of the click's value). The background (liver) level is the 75th
   percentile of the darker pixels in a ring 2.5-7 mm outside the region: the ring mixes
   liver with fat, necrosis or vessels, and the liver is the brightest tissue darker than
   the lesion, so an upper percentile of the darker pixels finds it even when half of the
   ring is necrosis or fat; bright pixels (vessels) are left out of the ring.
3. **Threshold midway.** Viable tissue is ``lower <= value <= upper`` with ``lower``
   midway between liver and lesion and ``upper`` the lesion level plus
   ``model.UPPER_FRACTION`` (three quarters) of the contrast (a vessel less bright is
   left out by its shape, whole, rather than cut into fragments by the threshold);
   pixels above ``upper`` (arteries) and the pixel ring around them (their partial-volume
   fringe) are excluded, so a vessel that touches the lesion is not measured with it.
   Steps 2-3 repeat until the levels settle (usually 2-3 rounds): the first region is
   too small and its ring too close, the next ones are right.
4. **Follow the lesion slice by slice** from the clicked slice up and down, keeping the
   viable components that overlap the previous slice's, in a window around the previous
   bounding box that grows if the lesion reaches its border. This is a 3-D connected
   region bounded by the lesion itself, so its cost follows the lesion's size, not the
   volume's, and it never crosses into the next structure through an empty slice.
5. **Measure on the slice where the viable diameter is longest.** The longest diameter is
   the maximum Feret diameter of the viable region: the largest distance between two
   vertices of its convex hull, in millimetres (``row * row_spacing``,
   ``column * column_spacing``), so anisotropic pixels are exact. It is computed first on
   pixel centres for every slice, then, on the best few slices, on the sub-pixel iso-line
   of the filtered image at the thresholds (marching squares), which removes the
   half-pixel bias of pixel centres at both ends. End points go through
   :func:`mrecist_reader.imaging.geometry.index_to_patient`.

Necrosis
--------
The viable region excludes every non-enhancing pixel, so necrosis is never counted as
viable tumour. The caliper is the Feret diameter of the viable region: for a lesion with a
necrotic half it runs along the viable half (which does not cross the necrosis); for a rim
around a necrotic core it is the rim's outer diameter, which does cross the core. The
length of the caliper over non-viable tissue is returned as
``ViableMeasurement.non_viable_crossed_mm`` so the reader (and the UI) can see when the
proposal crosses major necrosis and adjust it, as the spec asks.

A click on necrosis (darker than the liver) inside or beside an enhancing lesion finds the
dark region around the click, takes the nearest bright pixel on its border as a new seed,
and measures the enhancing tissue that encloses or borders it.

Is it a lesion?
---------------
A number is proposed only for a *focal region clearly brighter than the liver around
it*; anything else raises :class:`NoEnhancingLesion` with the reason. Every threshold is
in :class:`MeasureOptions` or a module constant; ``docs/accuracy.md`` gives the margins
measured on phantoms and on ``sample_dicom/``.

* **Brighter than its surroundings** (any modality, relative contrast only): the region
  must exceed the background by ``min_contrast_sigmas`` noise sigmas; at least
  ``min_darker_ring`` (50 %) of the ring 2.5-7 mm outside it must be darker than the
  threshold (marrow inside a bone cortex, or a piece of a brighter structure, fails);
  at least ``min_uniform_ring`` (25 %) of that ring must lie in one background tissue
  (a lesion sits in the liver; a whole organ is bordered by several tissues); and,
  unless a vessel was cut off it, at most ``max_similar_ring`` (20 %) of that ring may
  have the region's own signal *and be joined to the region* (a region cut out of liver
  of similar signal; a vessel of that signal beside the lesion, apart from it, bounds
  nothing). The vessels cut off the region are left out of the ring that gives its
  background level.
* **Focal, not a vessel or an organ** (any modality): at most ``max_diameter_mm`` across
  and along the slices; not reaching the image edge; not cut by the first or last slice
  at more than half its size; not ``max_elongation`` (2) times longer along the slices
  than across; not thinner than ``min_width_ratio`` (0.15) of its length in the slice
  plane (a vessel in the plane); and, over ``tube_min_slices`` (4) slices or more, not
  keeping ``tube_end_area`` (85 %) of its largest cross-section at both ends (a vessel
  cut square, or one running through the whole series). A lesion tapers at both ends.
* **Liver, not a lesion** (any modality, ``border``): a region at least 40 mm across
  that holds a focal area clearly brighter than itself (by ``min_contrast_sigmas``,
  20 mm² or more, surrounded by it) is the liver those lesions enhance against (a lobe
  enhancing more than the rest: the real Siemens MR's bright lobe); a region at least
  30 mm across whose outline is ragged (convex hull perimeter under 0.8 of its own) is
  liver enhancing unevenly, not a well-delineated lesion. Both are re-explained like a
  size refusal: a click no brighter than its surroundings is said not to enhance.
* **CT only, in Hounsfield units** (``volume.series.modality == "CT"``), after the median
  filter: a click at ``CT_DENSE_HU`` (500 HU) or more is bone, calcification or lipiodol,
  below ``CT_FAT_HU`` (-100 HU) fat, lung or air: never viable tumour. The viable region's
  median must lie within ``CT_VIABLE_HU`` (50-450 HU): arterial-phase HCC is brighter
  than the liver (unenhanced liver is about 55-65 HU, arterial-phase liver 60-110 HU,
  up to ~150 HU with a strong bolus) and is supported up to 200 HU above it, so up to
  about 350 HU; the ceiling keeps a margin over that and only excludes dense contrast
  pools and bone. The opacified aorta (300 HU and more: its enhancement alone is 300-336
  HU at the hepatic arterial phase, Kim et al., AJR "MDCT of the liver and hypervascular
  HCC: optimizing scan delays for bolus-tracking") overlaps that range, so vessels are
  refused by their shape (above), not by their value. The background must be liver
  parenchyma, ``CT_BACKGROUND_HU`` (-30 to 200 HU: steatotic to enhanced), and at least
  ``min_soft_ring_ct`` (40 %) of the ring (vessels left out) soft tissue darker than
  the threshold, -50 HU or more (not fat, lung or air).

* **Not a kidney** (CT only, tested before the shape tests so that the reason says
  "kidney"): the renal cortex enhances like HCC in the arterial phase, but it is a thin
  rim around a less enhancing medulla *and the fat of the renal sinus*. The region is a
  kidney when its level is a plausible cortex (``KIDNEY_CORTEX_MIN_HU``, 120 HU, to
  450 HU) and, on one slice, the convex hull of its part above the threshold (cut at
  least midway to 0 HU, so that a medulla beside perirenal fat is not counted as
  cortex) holds at least ``KIDNEY_MEDULLA_MM2`` (50 mm²) of less enhancing soft tissue
  and at least ``KIDNEY_SINUS_FAT_MM2`` (10 mm²) of fat (below ``KIDNEY_FAT_HU``,
  -30 HU, after a 1-pixel Gaussian and a 3 x 3 opening) whose mean lies at least
  ``KIDNEY_FAT_GAP_HU`` (60 HU) below the soft tissue's median (a second, darker tissue,
  not the noise tail of a dark necrosis). A ring around necrosis alone is not a kidney:
  necrosis is not fat. A click on a pole, where the cortex is a cap, also looks at the
  slice beyond each end of the region: the enhancing components there within
  ``KIDNEY_CAP_REACH_MM`` (8 mm) whose hull covers 80 % of the end's footprint (a
  larger cortex ring around the cap) are tested too. When a click is refused for
  another reason (a click on the medulla or the sinus is darker than its
  surroundings; a cortex among fat fails the ring tests), the cortex is sought from
  the click (the refused region, or the brightest pixel around the bounded dark
  region at the click) and the reason becomes "kidney" if it is one.

* **Not enhancing** (any modality, said instead of a size refusal): a click on plain
  liver, or on necrosis whose neighbour is the liver, grows into a region larger than
  ``max_diameter_mm``. When a click is refused for its size and, on its slice, it is
  not clearly brighter (by ``min_contrast_sigmas`` noise sigmas) than the upper
  quartile of the tissue ``SURROUNDINGS_MM`` (5-25 mm) around it, the reason says
  that it does not enhance more than its surroundings ("darker" 3 sigmas or more
  below that level), with both levels (HU on CT, a ratio on MR). A click that is not
  darker keeps the size reason when it is clearly brighter than the most common
  tissue within ``DOMINANT_MM`` (65 mm), fat and air left out (the liver; an
  enhancing lesion merged with a larger structure is brighter than it), or, on CT,
  above ``CT_LIVER_MAX_HU`` (150 HU). See :func:`_not_enhancing_reason`.

The MR path uses no intensity value: MR units are arbitrary, so only relative contrast
and shape decide.

Vessels touching the lesion
---------------------------
A vessel brighter than the lesion is left out in step 3. One about as bright is left
out by its shape (``vessels``): a straight band in the slice plane that runs on beyond
the lesion is cut off along its axis, and a small cross-section that stays the same
through the slices beyond the lesion's ends (a head-to-foot track) is dropped and
removed from the lesion's slices where a line through it puts it (fitted on the
track's planes that lie on it: a plane next to the lesion holding a sliver of its cap is
left out). A band that runs straight past the lesion (on both sides of it) is cut off
even when the lesion is only a little wider than it (a trunk's branches leave it at an
angle, and still need a clearly wider body), and a band cut off the clicked slice is cut
off the followed slices too, as far as a round vessel that wide reaches. The result then
carries the warning "touches a vessel: check the outline"; a lesion touching the
liver's edge (clearly darker tissue that runs on beyond the lesion) carries "touches
the liver edge: check the outline". The result also carries the
outlines of the viable and necrotic parts, the whole-lesion diameter, the viable
perpendicular and the warnings (``outline``).

Limits: a vessel wider than the lesion it touches is not separated (refused, or
measured with it). The kidney test needs Hounsfield units: on MR a kidney is
not recognised as such (the sample's MR kidney clicks are refused by the other tests,
not guaranteed). A CT lesion whose enhancing tissue encloses, on one slice, both
fat (below -30 HU, 10 mm² or more) and non-enhancing tissue (a fat-containing HCC
with necrosis) is refused as a kidney. On MR, a bright organ smaller than
``max_diameter_mm`` wholly surrounded by one darker tissue (a spleen in fat-suppressed
fat) looks like a lesion to relative contrast alone; on CT its fat ring refuses it. A
lesion of a very steatotic liver below 50 HU, a viable HCC above 300 HU, or a lesion
mostly outside the liver (exophytic, in fat) is refused on CT. A click deep inside
enhancing tissue that fills most of the 65 mm around it and merges into a region larger
than ``max_diameter_mm`` cannot be told from plain liver by relative contrast: on MR, or
on CT at 150 HU or less, it is refused as "not brighter than the tissue around it".

Modules
-------
``model`` (options, result, refusals), ``windows`` (step 1: denoised windows, noise),
``region`` (steps 2-4: region growing and following), ``checks`` (is it a lesion?),
``kidney`` (the kidney refusal), ``border`` (liver, not a lesion), ``vessels`` (a
touching vessel separated), ``feret``
(step 5: the diameter and the caliper), ``outline`` (what the proposal shows besides
it); this package's :func:`longest_viable_diameter` runs them in that order.
"""

import logging

from mrecist_reader.imaging.measure.border import check_not_liver
from mrecist_reader.imaging.measure.checks import (
    _check_focal,
    _check_shape,
    _not_enhancing_reason,
)
from mrecist_reader.imaging.measure.feret import (
    _measure,
)
from mrecist_reader.imaging.measure.kidney import (
    _check_kidney,
    _refuse_kidney_from,
    _refuse_kidney_near,
)
from mrecist_reader.imaging.measure.model import (
    MeasureOptions,
    NoEnhancingLesion,
    NotEnhancing,
    ViableMeasurement,
    _TooLarge,
)
from mrecist_reader.imaging.measure.region import (
    _analyse_seed_slice,
    _follow_lesion,
)
from mrecist_reader.imaging.measure.vessels import drop_strands
from mrecist_reader.imaging.measure.windows import (
    _seed_index,
    median_3x3,
)
from mrecist_reader.imaging.volume import Volume

logger = logging.getLogger(__name__)

__all__ = [
    "MeasureOptions",
    "NoEnhancingLesion",
    "NotEnhancing",
    "ViableMeasurement",
    "longest_viable_diameter",
    "median_3x3",
]


def longest_viable_diameter(
    volume: Volume,
    seed_mm: tuple[float, float, float],
    *,
    options: MeasureOptions | None = None,
) -> ViableMeasurement:
    """Propose the caliper across the longest viable diameter of the lesion at a point.

    Parameters
    ----------
    volume
        Arterial-phase volume (any modality; no Hounsfield assumptions).
    seed_mm
        The clicked point in DICOM patient coordinates (mm); it is snapped to the nearest
        voxel.
    options
        Tuning; the defaults suit CT and MR of the liver.

    Returns
    -------
    ViableMeasurement
        The end points in patient mm on the slice where the viable diameter is longest.

    Raises
    ------
    NoEnhancingLesion
        The point lies outside the volume, or on no focal region clearly brighter than
        the liver around it: plain liver, necrosis, another organ, a vessel, bone, fat
        or air (on CT also by its Hounsfield units). ``reason`` says which test refused
        it; a click refused for its size that is not brighter than the tissue around it
        is said not to enhance more than its surroundings.

    """
    opts = options or MeasureOptions()
    seed = _seed_index(volume, seed_mm)
    try:
        return _propose(volume, seed, opts)
    except _TooLarge as refusal:
        reason = _not_enhancing_reason(volume, seed, opts)
        if reason is None:
            raise
        raise NotEnhancing(reason) from refusal


def _propose(
    volume: Volume, seed: tuple[int, int, int], opts: MeasureOptions
) -> ViableMeasurement:
    """Measure the lesion at ``seed`` (steps 1-5), or raise why there is none."""
    try:
        levels, seed_plane = _analyse_seed_slice(volume, seed, opts)
    except NoEnhancingLesion:
        _refuse_kidney_near(volume, seed, opts)
        raise
    try:
        _check_focal(volume, seed_plane, levels, opts)
        check_not_liver(seed_plane, levels, volume.pixel_spacing_mm, opts)
        planes = _follow_lesion(volume, seed_plane, levels, opts)
    except NoEnhancingLesion:
        _refuse_kidney_from(volume, seed_plane, levels, opts)
        raise
    _check_kidney(volume, planes, levels, opts)
    _check_shape(volume, planes, opts)
    planes = drop_strands(planes, volume.pixel_spacing_mm)
    measurement = _measure(volume, planes, levels, opts)
    logger.info(
        "viable diameter %.1f mm on slice %d (lesion %.0f, background %.0f, noise %.1f)",
        measurement.diameter_mm,
        measurement.slice_index,
        levels.lesion,
        levels.background,
        levels.noise,
    )
    return measurement
