"""Generate the synthetic sample study of ``sample_dicom/`` (no patient data).

Three subjects of trial NCT06779461, each with a BASELINE, FU1 (day 30) and FU2 (day 60)
contrast CT of the abdomen, HCC-like lesions whose viable (arterially enhancing) part
changes over time, one MR arterial series, and ``truth.json`` with every lesion's true
viable diameter and the expected mRECIST responses (profile ``nct06779461``).

The output is deterministic: fixed seeds, UIDs derived from names (``2.25.<hash>``), fixed
dates and times and a fixed file meta header, so running it again gives identical bytes.

Usage: ``python sample_dicom/generate.py [--out DIR]`` (default: this script's folder).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
)
from scipy import ndimage

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1"
HERE = Path(__file__).resolve().parent
FArr = npt.NDArray[np.float64]
BArr = npt.NDArray[np.bool_]

# ----------------------------------------------------------------------------- tissues

AIR, FAT, SKIN, MUSCLE, LIVER, SPLEEN, CORTEX, MEDULLA, SINUS = range(9)
AORTA, IVC, PORTAL, HEPVEIN, SPLVEIN, CORT_BONE, CANC_BONE, CSF, DISC = range(9, 18)
STOM_WALL, STOM_FLUID, GAS, BOWEL_WALL, BOWEL_CONTENT, GALLBL, PANCREAS = range(18, 25)
LUNG, TABLE, N_TISSUES = 25, 26, 27

# Tissue values per contrast phase: CT in HU, MR in arbitrary signal units (T1 FS).
_TISSUE_VALUES: dict[int, tuple[float, float, float]] = {
    # tissue: (CT arterial ~35 s, CT portal venous ~70 s, MR T1 FS arterial)
    AIR: (-1000, -1000, 0),
    FAT: (-105, -105, 55),
    SKIN: (35, 40, 260),
    MUSCLE: (52, 58, 230),
    LIVER: (92, 120, 390),
    SPLEEN: (118, 125, 430),
    CORTEX: (215, 180, 760),
    MEDULLA: (70, 150, 300),
    SINUS: (-60, -60, 70),
    AORTA: (330, 175, 950),
    IVC: (68, 150, 260),  # unopacified infrarenal return in the arterial phase
    PORTAL: (135, 190, 520),
    HEPVEIN: (62, 165, 210),
    SPLVEIN: (150, 185, 540),
    CORT_BONE: (780, 785, 25),
    CANC_BONE: (200, 205, 170),
    CSF: (8, 8, 70),
    DISC: (85, 88, 160),
    STOM_WALL: (95, 85, 360),
    STOM_FLUID: (10, 10, 60),
    GAS: (-1000, -1000, 0),
    BOWEL_WALL: (85, 92, 350),
    BOWEL_CONTENT: (22, 24, 120),
    GALLBL: (6, 6, 45),
    PANCREAS: (125, 100, 470),
    LUNG: (-860, -860, 12),
    TABLE: (120, 120, 0),
}
PHASES = ("arterial", "portal_venous", "mr_arterial")
LUT = {
    phase: np.array([_TISSUE_VALUES[t][i] for t in range(N_TISSUES)], dtype=np.float64)
    for i, phase in enumerate(PHASES)
}

# Lesion component values: (CT arterial, CT portal venous, MR arterial).
NECROSIS_VALUES = (22.0, 26.0, 110.0)
HYPOVASCULAR_VALUES = (55.0, 82.0, 235.0)
WASHOUT_HU = 24.0  # viable tumour below liver in the portal venous phase
MR_ENHANCEMENT_FACTOR = 2.9  # MR signal gained per HU of CT arterial enhancement

# ----------------------------------------------------------------------------- UIDs


def uid_for(*parts: str) -> str:
    """Return a fixed UID ``2.25.<integer>`` derived from ``parts`` by SHA-256.

    Parameters
    ----------
    *parts
        Names that identify the object, e.g. ``("series", "S01", "BASELINE", "ART")``.

    Returns
    -------
    str
        A UID of at most 44 characters, the same for the same names.

    """
    digest = hashlib.sha256("/".join(("mrecist_reader-sample", *parts)).encode())
    return "2.25." + str(int.from_bytes(digest.digest()[:16], "big") >> 1)


IMPLEMENTATION_CLASS_UID = uid_for("implementation", GENERATOR_VERSION)


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class LesionState:
    """Shape and behaviour of one lesion at one timepoint (lengths in mm).

    The lesion is an ellipsoid-like body: in-plane its outline is the ellipse with
    semi-axes ``a`` (along ``angle_deg`` from +x) and ``b``, gently made irregular by
    ``wobble``; along z it tapers like an ellipsoid of semi-axis ``c``. Everything beyond
    the line ``p = cut`` (``p``: coordinate along the major axis) is necrotic;
    ``core`` is the radius of a central necrotic sphere. ``kind`` is ``hcc`` (arterial
    hyperenhancement and washout), ``necrotic`` (no enhancement left) or
    ``hypovascular`` (never enhances).
    """

    a: float
    b: float
    c: float
    kind: str = "hcc"
    cut: float | None = None
    core: float = 0.0
    enhancement_hu: float = 110.0
    status: str = "measured"


@dataclass(frozen=True)
class Lesion:
    """A lesion of a subject: identity, place and state per timepoint (``None``: none)."""

    lesion_id: str
    lesion_type: str  # target, non_target, new
    segment: str
    centre_mm: tuple[float, float, float]
    angle_deg: float
    wobble: tuple[float, float, float, float]  # amplitudes k=3,4 and phases (rad)
    states: tuple[LesionState | None, ...]
    description: str = ""


@dataclass(frozen=True)
class SeriesPlan:
    """One series to write."""

    key: str  # folder name, e.g. ART
    phase: str  # arterial, portal_venous, mr_arterial
    description: str
    number: int
    transfer_syntax: str
    exercises: str


@dataclass(frozen=True)
class TimepointPlan:
    """One imaging timepoint of a subject."""

    label: str  # BASELINE, FU1, FU2
    day: int
    series: tuple[SeriesPlan, ...]
    z_top_mm: float
    n_slices: int
    mr: SeriesPlan | None = None


@dataclass(frozen=True)
class SubjectPlan:
    """A synthetic subject with its timepoints and lesions."""

    subject_id: str
    site_id: str
    baseline_date: date
    birth_date: str
    sex: str
    lesions: tuple[Lesion, ...]
    timepoints: tuple[TimepointPlan, ...]
    expected: dict[str, Any] = field(default_factory=dict)


def _ct(
    key: str, phase: str, description: str, syntax: str, exercises: str
) -> SeriesPlan:
    return SeriesPlan(
        key, phase, description, 3 if phase == "arterial" else 4, syntax, exercises
    )


MR_SERIES = SeriesPlan(
    "MR_ART",
    "mr_arterial",
    "T1 VIBE FS ART",
    1101,
    JPEG2000Lossless,
    "MR arterial phase (signal intensities, no HU) of the baseline, 4 mm slices",
)


def _timepoints(
    series: Sequence[Sequence[SeriesPlan]],
    z_top: float,
    n: int,
    mr_at: int | None = None,
) -> tuple[TimepointPlan, ...]:
    labels = ("BASELINE", "FU1", "FU2")
    return tuple(
        TimepointPlan(
            labels[i], 30 * i, tuple(s), z_top, n, MR_SERIES if mr_at == i else None
        )
        for i, s in enumerate(series)
    )


def _state(a: float, b: float, c: float, **kw: Any) -> LesionState:
    return LesionState(a, b, c, **kw)


def _subjects() -> tuple[SubjectPlan, ...]:
    gone = {"kind": "necrotic", "status": "absent"}
    s01 = SubjectPlan(
        "S01",
        "SITE07",
        date(2025, 4, 7),
        "19581103",
        "M",
        lesions=(
            Lesion(
                "T1",
                "target",
                "VIII",
                (-56.0, -27.0, -70.0),
                20.0,
                (0.035, 0.02, 0.7, 1.9),
                (
                    _state(29.5, 23.0, 22.0, enhancement_hu=115.0),
                    _state(21.0, 16.5, 16.0, cut=2.0, enhancement_hu=105.0),
                    _state(18.0, 14.5, 14.0, **gone),
                ),
                "hypervascular HCC; partial necrosis after TACE 1; fully necrotic "
                "after TACE 2",
            ),
            Lesion(
                "T2",
                "target",
                "VI",
                (-78.0, -2.0, -132.0),
                -30.0,
                (0.03, 0.02, 2.1, 0.4),
                (
                    _state(20.0, 16.0, 15.0, cut=13.0, enhancement_hu=100.0),
                    _state(16.0, 13.0, 12.0, cut=2.0, enhancement_hu=95.0),
                    _state(14.0, 11.0, 10.0, **gone),
                ),
                "HCC with a necrotic lateral part at baseline",
            ),
            Lesion(
                "NT1",
                "non_target",
                "III",
                (24.0, -56.0, -95.0),
                35.0,
                (0.02, 0.015, 0.3, 1.1),
                (
                    _state(
                        8.5, 7.0, 7.0, core=3.0, enhancement_hu=95.0, status="present"
                    ),
                    _state(
                        7.0, 6.0, 6.0, core=2.5, enhancement_hu=90.0, status="present"
                    ),
                    _state(6.0, 5.0, 5.0, kind="necrotic", status="absent"),
                ),
                "small enhancing HCC (below the 30 mm target minimum) with a "
                "necrotic core",
            ),
        ),
        timepoints=_timepoints(
            [
                [
                    _ct(
                        "ART",
                        "arterial",
                        "LIVER 3PH ARTERIAL",
                        JPEG2000Lossless,
                        "two targets, one partly necrotic; a small cored non-target",
                    ),
                    _ct(
                        "PV",
                        "portal_venous",
                        "PORTAL VENOUS 70s",
                        JPEG2000Lossless,
                        "washout of the targets",
                    ),
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "LIVER ART 35s",
                        JPEG2000Lossless,
                        "PR after TACE: necrotic parts not measured",
                    )
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "LIVER ART 35s",
                        JPEG2000Lossless,
                        "CR: non-enhancing remnants only",
                    )
                ],
            ],
            z_top=-40.0,
            n=25,
        ),
    )
    s02 = SubjectPlan(
        "S02",
        "SITE07",
        date(2025, 4, 14),
        "19620527",
        "F",
        lesions=(
            Lesion(
                "T1",
                "target",
                "VII",
                (-72.0, 16.0, -75.0),
                55.0,
                (0.03, 0.025, 1.3, 0.2),
                (
                    _state(24.0, 20.0, 19.0, enhancement_hu=120.0),
                    _state(22.5, 19.0, 18.0, enhancement_hu=115.0),
                    _state(23.5, 19.5, 18.5, enhancement_hu=118.0),
                ),
                "hypervascular HCC, stable",
            ),
            Lesion(
                "T2",
                "target",
                "V",
                (-68.0, -28.0, -125.0),
                10.0,
                (0.03, 0.02, 0.9, 2.6),
                (
                    _state(17.0, 14.0, 13.0, enhancement_hu=95.0),
                    _state(15.5, 13.0, 12.0, enhancement_hu=90.0),
                    _state(16.0, 13.5, 12.5, enhancement_hu=92.0),
                ),
                "HCC just above the 30 mm target minimum",
            ),
            Lesion(
                "NT1",
                "non_target",
                "IVa",
                (4.0, -50.0, -62.0),
                -15.0,
                (0.03, 0.02, 0.5, 1.5),
                (
                    _state(17.0, 14.0, 13.0, kind="hypovascular", status="present"),
                    _state(17.0, 14.0, 13.0, kind="hypovascular", status="present"),
                    _state(17.5, 14.5, 13.0, kind="hypovascular", status="present"),
                ),
                "hypovascular (non-enhancing) nodule: not a target despite its size",
            ),
            Lesion(
                "N1",
                "new",
                "VI",
                (-96.0, -14.0, -145.0),
                0.0,
                (0.0, 0.0, 0.0, 0.0),
                (
                    None,
                    _state(3.5, 3.5, 3.5, enhancement_hu=100.0, status="equivocal"),
                    _state(8.0, 7.0, 7.0, enhancement_hu=115.0, status="present"),
                ),
                "new nodule: 7 mm at FU1 (equivocal), 15 mm with arterial "
                "hyperenhancement and washout at FU2 (present)",
            ),
        ),
        timepoints=_timepoints(
            [
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ABD LIVER ARTERIAL PHASE",
                        JPEG2000Lossless,
                        "a large non-enhancing nodule (non-target); MR of the same day",
                    ),
                    _ct(
                        "PV",
                        "portal_venous",
                        "ABD PORTAL VENOUS 70s",
                        JPEG2000Lossless,
                        "washout of the targets",
                    ),
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ABD LIVER ARTERIAL PHASE",
                        RLELossless,
                        "RLE lossless; SD with an equivocal 7 mm new nodule",
                    )
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ABD LIVER ARTERIAL PHASE",
                        JPEG2000Lossless,
                        "new nodule confirmed: PD backdated to FU1",
                    ),
                    _ct(
                        "PV",
                        "portal_venous",
                        "ABD PORTAL VENOUS 70s",
                        JPEG2000Lossless,
                        "washout of the new nodule",
                    ),
                ],
            ],
            z_top=-40.0,
            n=25,
            mr_at=0,
        ),
    )
    s03 = SubjectPlan(
        "S03",
        "SITE12",
        date(2025, 5, 5),
        "19550219",
        "M",
        lesions=(
            Lesion(
                "T1",
                "target",
                "IVa",
                (-22.0, -42.0, -80.0),
                0.0,
                (0.03, 0.02, 1.7, 0.9),
                (
                    _state(21.5, 17.0, 16.0, enhancement_hu=105.0),
                    _state(17.0, 13.5, 13.0, cut=0.0, enhancement_hu=100.0),
                    _state(19.5, 15.5, 15.0, cut=11.0, enhancement_hu=110.0),
                ),
                "single target: PR, then regrowth of the viable part (PD over "
                "the nadir while still below baseline)",
            ),
        ),
        timepoints=_timepoints(
            [
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ART 35s 5mm",
                        ExplicitVRLittleEndian,
                        "uncompressed (explicit VR little endian); one target, no "
                        "non-target lesions",
                    ),
                    _ct(
                        "PV",
                        "portal_venous",
                        "PV 70s 5mm",
                        JPEG2000Lossless,
                        "washout of the target",
                    ),
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ART 35s 5mm",
                        JPEG2000Lossless,
                        "PR at day 30",
                    )
                ],
                [
                    _ct(
                        "ART",
                        "arterial",
                        "ART 35s 5mm",
                        JPEG2000Lossless,
                        "PD: at least 20 % over the nadir, still below baseline",
                    )
                ],
            ],
            z_top=-50.0,
            n=17,
        ),
    )
    return (s01, s02, s03)


# ----------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class Grid:
    """The in-plane pixel grid of a series (axial, ImageOrientationPatient 1,0,0,0,1,0)."""

    rows: int
    columns: int
    spacing_mm: float
    origin_mm: tuple[float, float]  # (x, y) of the centre of pixel (0, 0)

    def coordinates(self, factor: int = 1) -> tuple[FArr, FArr]:
        """Return (x, y) mm of the pixel centres, or of ``factor``² sub-pixels each."""
        step = self.spacing_mm / factor
        offset = -self.spacing_mm / 2 + step / 2
        xs = self.origin_mm[0] + offset + step * np.arange(self.columns * factor)
        ys = self.origin_mm[1] + offset + step * np.arange(self.rows * factor)
        x, y = np.meshgrid(xs, ys)
        return x, y


CT_GRID = Grid(320, 320, 0.9, (-143.55, -138.55))
MR_GRID = Grid(288, 288, 1.0, (-143.5, -138.5))
CT_SLICE_MM = 5.0
MR_SLICE_MM = 4.0
MR_Z_TOP, MR_SLICES = -50.0, 26


def _downsample(values: FArr, factor: int) -> FArr:
    rows, cols = values.shape[0] // factor, values.shape[1] // factor
    return values.reshape(rows, factor, cols, factor).mean(axis=(1, 3))


# ----------------------------------------------------------------------------- anatomy


def _ellipse(
    x: FArr,
    y: FArr,
    centre: tuple[float, float],
    semi: tuple[float, float],
    angle_deg: float = 0.0,
) -> BArr:
    """Return where the points lie inside an ellipse (fast path for meshgrids)."""
    mask = np.zeros(x.shape, dtype=bool)
    window = _bounding_window(x, y, centre, max(semi))
    if window is None:
        return mask
    xs, ys = x[window], y[window]
    t = np.deg2rad(angle_deg)
    dx, dy = xs - centre[0], ys - centre[1]
    u = dx * np.cos(t) + dy * np.sin(t)
    v = -dx * np.sin(t) + dy * np.cos(t)
    mask[window] = (u / semi[0]) ** 2 + (v / semi[1]) ** 2 <= 1.0
    return mask


def _bounding_window(
    x: FArr, y: FArr, centre: tuple[float, float], reach: float
) -> tuple[slice, slice] | None:
    """Return the index window of a meshgrid holding a disc (all of other arrays)."""
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        return (slice(None), slice(None))
    c0, c1 = np.searchsorted(x[0, :], [centre[0] - reach, centre[0] + reach])
    r0, r1 = np.searchsorted(y[:, 0], [centre[1] - reach, centre[1] + reach])
    if c0 >= c1 or r0 >= r1:
        return None
    return (slice(int(r0), int(r1)), slice(int(c0), int(c1)))


def _profile(z: float, centre: float, half: float, power: float = 3.0) -> float:
    """Return the size factor (0..1) of an organ at level z (superellipse in z)."""
    u = abs(z - centre) / half
    return float((1.0 - u**power) ** (1.0 / power)) if u < 1.0 else 0.0


def _paint_body(lab: npt.NDArray[np.uint8], x: FArr, y: FArr) -> None:
    lab[_ellipse(x, y, (0, 101), (150, 4)) & (y > 100)] = TABLE
    lab[_ellipse(x, y, (0, 0), (130, 98))] = SKIN
    lab[_ellipse(x, y, (0, 0), (128, 96))] = FAT
    lab[_ellipse(x, y, (0, -2), (117, 84))] = MUSCLE
    lab[_ellipse(x, y, (0, -2), (109, 76))] = FAT


def _paint_spine(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    for side in (-1, 1):
        lab[_ellipse(x, y, (side * 30, 76), (22, 15), side * 12)] = MUSCLE
    lab[_ellipse(x, y, (0, 64), (13, 11))] = CORT_BONE
    lab[(np.abs(x) < 3.5) & (y > 66) & (y < 88)] = CORT_BONE
    lab[_ellipse(x, y, (0, 63), (9, 7.5))] = CSF
    is_disc = (z % 32.0) < 7.0
    lab[_ellipse(x, y, (0, 38), (21, 17))] = DISC if is_disc else CORT_BONE
    if not is_disc:
        lab[_ellipse(x, y, (0, 38), (18.5, 14.5))] = CANC_BONE
    psoas = _profile(z, -185, 80, 2.0)
    if psoas > 0:
        for side in (-1, 1):
            centre = (side * (28 + 8 * psoas), 42.0)
            lab[_ellipse(x, y, centre, (6 + 12 * psoas, 9 + 6 * psoas))] = MUSCLE


def _paint_ribs(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    if z < -150:
        return
    for k in range(7):
        for side in (-1, 1):
            theta = np.deg2rad(200 + 28 * k - 0.35 * (z + 40) * (k % 2 + 1) / 2)
            if np.sin(theta) < -0.2 and z < -110:  # lower ribs end laterally
                continue
            cx, cy = side * 112 * np.cos(theta), 80 * np.sin(theta) - 2
            if abs(cx) < 25 and cy > 0:
                continue
            lab[_ellipse(x, y, (cx, cy), (5.5, 4.0), float(np.rad2deg(theta)) + 90)] = (
                CORT_BONE
            )
            lab[_ellipse(x, y, (cx, cy), (3.5, 2.2), float(np.rad2deg(theta)) + 90)] = (
                CANC_BONE
            )


def liver_mask(x: FArr, y: FArr, z: float) -> BArr:
    """Return where the liver is at level z (before vessels are cut out of it).

    Parameters
    ----------
    x, y
        Patient coordinates (mm) of the sample points.
    z
        Patient z (mm) of the axial plane.

    Returns
    -------
    numpy.ndarray
        Boolean mask, the shape of ``x``.

    """
    right = _profile(z, -100.0, 82.0)
    left = _profile(z, -78.0, 48.0)
    inside = _ellipse(x, y, (0, -2), (108, 75))
    mask = _ellipse(x, y, (-52, 2), (68 * right, 78 * right), -8) if right else x < -1e9
    if left:
        mask |= _ellipse(x, y, (2, -44), (50 * left, 30 * left), -10)
    return np.asarray(mask & inside)


def _paint_abdomen(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    lung = _profile(z, -20, 40, 2.0)
    if lung:
        for side in (-1, 1):
            lab[_ellipse(x, y, (side * 72, 45), (34 * lung, 28 * lung))] = LUNG
    spleen = _profile(z, -78, 42, 2.5)
    if spleen:
        lab[_ellipse(x, y, (82, 38), (24 * spleen, 44 * spleen), 35)] = SPLEEN
    stomach = _profile(z, -68, 38, 2.5)
    if stomach:
        body = _ellipse(x, y, (52, -32), (36 * stomach, 28 * stomach), -25)
        lab[body] = STOM_WALL
        lumen = _ellipse(x, y, (52, -32), (31 * stomach, 23 * stomach), -25)
        lab[lumen] = STOM_FLUID
        lab[lumen & (y < -38)] = GAS  # air-fluid level: the patient lies supine
    _paint_bowel(lab, x, y, z)
    lab[liver_mask(x, y, z)] = LIVER
    _paint_kidneys(lab, x, y, z)  # the right kidney indents the liver's lower surface
    _paint_vessels(lab, x, y, z)


def _paint_kidneys(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    for side, centre in ((-1, -148.0), (1, -135.0)):
        s = _profile(z, centre, 38, 2.0)
        if not s:
            continue
        c = (side * 68.0, 50.0)
        lab[_ellipse(x, y, c, (24 * s, 34 * s), side * 28)] = CORTEX
        lab[_ellipse(x, y, c, (17 * s, 26 * s), side * 28)] = MEDULLA
        hilum = (c[0] - side * 12 * s, c[1] - 4)
        lab[_ellipse(x, y, hilum, (8 * s, 12 * s), side * 28)] = SINUS


def _paint_bowel(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    if z > -105:
        return
    loops = (
        (-20, -55, 13),
        (15, -62, 12),
        (45, -45, 14),
        (62, -10, 12),
        (28, -22, 10),
        (-5, -30, 9),
    )
    for k, (cx, cy, r) in enumerate(loops):
        shift = 8 * np.sin(z / 13.0 + k)
        centre = (cx + shift, cy)
        lab[_ellipse(x, y, centre, (r, r * 0.85))] = BOWEL_WALL
        lab[_ellipse(x, y, centre, (r - 2.5, r * 0.85 - 2.5))] = BOWEL_CONTENT
        if k % 2 == 0:
            lab[_ellipse(x, y, (centre[0], cy - r * 0.45), (r * 0.5, r * 0.3))] = GAS


def _paint_vessels(lab: npt.NDArray[np.uint8], x: FArr, y: FArr, z: float) -> None:
    lab[_ellipse(x, y, (17, 10), (11, 11))] = AORTA
    lab[_ellipse(x, y, (-24, 8), (12, 9), 20)] = IVC
    if z > -75:  # hepatic veins converging on the IVC near the dome
        for angle in (200.0, 235.0, 285.0):
            spread = 1.0 + (-40.0 - z) / 25.0
            t = np.deg2rad(angle)
            for step in (18.0, 34.0):
                centre = (
                    -24 + step * spread * np.cos(t),
                    8 + step * spread * np.sin(t),
                )
                lab[_ellipse(x, y, centre, (4.0, 4.0)) & (lab == LIVER)] = HEPVEIN
    if -118 < z < -85:  # portal vein at the hilum and its right branch
        lab[_ellipse(x, y, (-20, 2), (9, 8))] = PORTAL
        lab[_ellipse(x, y, (-42, 0), (16, 5), -10) & (lab == LIVER)] = PORTAL
    if -108 < z < -98:
        lab[_ellipse(x, y, (40, 12), (40, 4.5), 12)] = SPLVEIN
    if -125 < z < -95:
        lab[_ellipse(x, y, (32, 2), (42, 9), 12) & (lab == FAT)] = PANCREAS
    if -140 < z < -100:
        lab[_ellipse(x, y, (-36, -56), (13, 20), 30) & (lab == LIVER)] = GALLBL


def anatomy_labels(x: FArr, y: FArr, z: float) -> npt.NDArray[np.uint8]:
    """Return the tissue label of every sample point of the axial plane at z.

    Parameters
    ----------
    x, y
        Patient coordinates (mm) of the sample points.
    z
        Patient z (mm) of the plane.

    Returns
    -------
    numpy.ndarray
        ``uint8`` labels (module constants ``AIR`` ... ``TABLE``).

    """
    lab = np.zeros(x.shape, dtype=np.uint8)
    _paint_body(lab, x, y)
    _paint_abdomen(lab, x, y, z)
    _paint_spine(lab, x, y, z)
    _paint_ribs(lab, x, y, z)
    return lab


# ----------------------------------------------------------------------------- lesions


def _lesion_frame(lesion: Lesion, x: FArr, y: FArr) -> tuple[FArr, FArr]:
    """Return lesion-frame coordinates (p along the major axis, q across it)."""
    t = np.deg2rad(lesion.angle_deg)
    dx, dy = x - lesion.centre_mm[0], y - lesion.centre_mm[1]
    return dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)


def outline_radius(lesion: Lesion, state: LesionState, theta: FArr) -> FArr:
    """Return the in-plane outline radius (mm) at the equator for angles ``theta``.

    Parameters
    ----------
    lesion
        The lesion (its ``wobble`` makes the ellipse gently irregular).
    state
        Its state at one timepoint (semi-axes ``a``, ``b``).
    theta
        Angles (radians) in the lesion frame, 0 along the major axis.

    Returns
    -------
    numpy.ndarray
        Radius in mm for each angle.

    """
    a, b = state.a, state.b
    ellipse = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
    w3, w4, f3, f4 = lesion.wobble
    return np.asarray(
        ellipse * (1 + w3 * np.cos(3 * theta + f3) + w4 * np.cos(4 * theta + f4))
    )


def _taper(state: LesionState, dz: float) -> float:
    u = dz / state.c
    return float(np.sqrt(1.0 - u * u)) if abs(u) < 1.0 else 0.0


def lesion_fractions(
    lesion: Lesion, state: LesionState, x: FArr, y: FArr, z: float
) -> tuple[FArr, FArr]:
    """Return the viable and the non-viable share (0..1) of each sample point.

    Parameters
    ----------
    lesion, state
        The lesion and its state at the timepoint.
    x, y
        Patient coordinates (mm) of the sample points.
    z
        Patient z (mm) of the plane.

    Returns
    -------
    tuple of numpy.ndarray
        ``(viable, necrotic)`` as 0/1 floats, the shape of ``x``.

    """
    dz = z - lesion.centre_mm[2]
    scale = _taper(state, dz)
    p, q = _lesion_frame(lesion, x, y)
    inside = np.hypot(p, q) <= scale * outline_radius(lesion, state, np.arctan2(q, p))
    necrotic = np.zeros_like(inside)
    if state.kind != "hcc":
        necrotic = inside.copy()
    else:
        if state.cut is not None:
            necrotic |= inside & (p > state.cut)
        if state.core:
            necrotic |= inside & (p**2 + q**2 + dz**2 <= state.core**2)
    return (inside & ~necrotic).astype(np.float64), necrotic.astype(np.float64)


def viable_outline(lesion: Lesion, state: LesionState, z: float) -> FArr:
    """Return the viable region's outline at level z as patient (x, y) points, mm.

    The region is the lesion's cross-section minus the necrotic side of the cut (a convex
    polygon, 1440 vertices); empty when nothing viable is cut by the plane. Lesions with
    a necrotic core have no single viable outline and return their whole cross-section.
    """
    scale = _taper(state, z - lesion.centre_mm[2])
    if scale == 0.0 or state.kind != "hcc":
        return np.zeros((0, 2))
    theta = np.linspace(0.0, 2 * np.pi, 1440, endpoint=False)
    r = scale * outline_radius(lesion, state, theta)
    pts = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    if state.cut is not None:
        pts = _clip_half_plane(pts, state.cut)
    t = np.deg2rad(lesion.angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return np.asarray(pts @ rot.T + np.array(lesion.centre_mm[:2]))


def _clip_half_plane(pts: FArr, cut: float) -> FArr:
    """Keep the part of a closed polygon with p <= cut (Sutherland-Hodgman, one edge)."""
    out: list[FArr] = []
    n = len(pts)
    for i in range(n):
        cur, nxt = pts[i], pts[(i + 1) % n]
        cur_in, nxt_in = cur[0] <= cut, nxt[0] <= cut
        if cur_in:
            out.append(cur)
        if cur_in != nxt_in:
            f = (cut - cur[0]) / (nxt[0] - cur[0])
            out.append(cur + f * (nxt - cur))
    return np.array(out) if out else np.zeros((0, 2))


def longest_chord(points: FArr) -> tuple[float, FArr, FArr]:
    """Return the largest distance between two points and the two points.

    Parameters
    ----------
    points
        ``(n, 2)`` outline of a convex region, mm.

    Returns
    -------
    tuple
        ``(length_mm, p1, p2)``; ``(0.0, nan, nan)`` for an empty outline.

    """
    if len(points) < 2:
        nan = np.full(2, np.nan)
        return 0.0, nan, nan
    best, i_best, j_best = -1.0, 0, 0
    for start in range(0, len(points), 512):
        block = points[start : start + 512]
        d2 = ((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        k = int(np.argmax(d2))
        i, j = divmod(k, len(points))
        if d2[i, j] > best:
            best, i_best, j_best = float(d2[i, j]), start + i, j
    return float(np.sqrt(best)), points[i_best], points[j_best]


def _round_tenth(value: float) -> float:
    """Round to 0.1 mm, half away from zero (the spec's rule)."""
    tenths = Fraction(value).limit_denominator(10**9) * 10
    whole = int(abs(tenths) + Fraction(1, 2))
    return float((whole if value >= 0 else -whole) / 10)


# ----------------------------------------------------------------------------- images


def _slice_positions(z_top: float, n: int, spacing: float) -> list[float]:
    return [round(z_top - spacing * k, 3) for k in range(n)]


def _render_slice(
    labels: npt.NDArray[np.uint8],
    phase_index: int,
    lesions: Sequence[tuple[Lesion, LesionState]],
    *,
    grid: Grid,
    z: float,
) -> FArr:
    """Return the noiseless image of one plane (CT: HU, MR: signal) on ``grid``."""
    phase = PHASES[phase_index]
    fine = LUT[phase][labels]
    xf, yf = grid.coordinates(2)
    if phase == "arterial":  # arciform enhancement of the spleen in the arterial phase
        fine = fine + np.where(
            labels == SPLEEN, 28 * np.sin(xf / 5.0) * np.cos(yf / 7.0), 0
        )
    if phase == "mr_arterial":
        fine = fine + np.where(
            labels == SPLEEN, 90 * np.sin(xf / 5.0) * np.cos(yf / 7.0), 0
        )
    image = _downsample(fine, 2)
    liver_value = LUT[phase][LIVER]
    for lesion, state in lesions:
        _blend_lesion(
            image,
            lesion,
            state,
            grid=grid,
            z=z,
            phase_index=phase_index,
            liver_value=liver_value,
        )
    return image


def _lesion_values(
    state: LesionState, phase_index: int, liver: float
) -> tuple[float, float]:
    """Return the (viable, non-viable) values of a lesion in one phase."""
    if state.kind == "hypovascular":
        return HYPOVASCULAR_VALUES[phase_index], HYPOVASCULAR_VALUES[phase_index]
    necrotic = NECROSIS_VALUES[phase_index]
    if phase_index == 0:
        return liver + state.enhancement_hu, necrotic
    if phase_index == 1:
        return liver - WASHOUT_HU, necrotic
    return liver + MR_ENHANCEMENT_FACTOR * state.enhancement_hu, necrotic


def _blend_lesion(
    image: FArr,
    lesion: Lesion,
    state: LesionState,
    *,
    grid: Grid,
    z: float,
    phase_index: int,
    liver_value: float,
) -> None:
    """Blend a lesion into ``image`` with exact-area partial volume (8x8 sub-pixels)."""
    scale = _taper(state, z - lesion.centre_mm[2])
    if scale == 0.0:
        return
    reach = scale * max(state.a, state.b) * 1.2 + 2 * grid.spacing_mm
    cx, cy = lesion.centre_mm[:2]
    c0 = max(int((cx - reach - grid.origin_mm[0]) / grid.spacing_mm), 0)
    c1 = min(int((cx + reach - grid.origin_mm[0]) / grid.spacing_mm) + 1, grid.columns)
    r0 = max(int((cy - reach - grid.origin_mm[1]) / grid.spacing_mm), 0)
    r1 = min(int((cy + reach - grid.origin_mm[1]) / grid.spacing_mm) + 1, grid.rows)
    box = Grid(
        r1 - r0,
        c1 - c0,
        grid.spacing_mm,
        (
            grid.origin_mm[0] + c0 * grid.spacing_mm,
            grid.origin_mm[1] + r0 * grid.spacing_mm,
        ),
    )
    xs, ys = box.coordinates(8)
    viable, necrotic = (
        _downsample(f, 8) for f in lesion_fractions(lesion, state, xs, ys, z)
    )
    v_value, n_value = _lesion_values(state, phase_index, liver_value)
    patch = image[r0:r1, c0:c1]
    patch *= 1.0 - viable - necrotic
    patch += viable * v_value + necrotic * n_value


def _noise(shape: tuple[int, int], rng: np.random.Generator, sigma: float) -> FArr:
    """Return CT-like correlated noise of standard deviation ``sigma``."""
    white = rng.standard_normal(shape)
    smooth = ndimage.gaussian_filter(white, 0.7, mode="reflect")
    return np.asarray(smooth * (sigma * 2.0 * np.sqrt(np.pi) * 0.7))


def ct_pixels(
    clean: FArr, rng: np.random.Generator, fov: BArr
) -> npt.NDArray[np.uint16]:
    """Return stored CT values (HU + 1024, 12 bits) of a noiseless HU image.

    Noise has sigma 10 HU in the patient and 4 HU in the air around; pixels outside the
    reconstruction circle ``fov`` hold the padding value 0 (-1024 HU), as on scanners.
    """
    blurred = ndimage.gaussian_filter(clean, 0.6, mode="nearest")
    in_body = ndimage.gaussian_filter((clean > -900).astype(np.float64), 3.0)
    hu = blurred + _noise(clean.shape, rng, 1.0) * (4.0 + 6.0 * in_body)
    stored = np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)
    stored[~fov] = 0
    return stored


def mr_pixels(clean: FArr, rng: np.random.Generator, y: FArr) -> npt.NDArray[np.uint16]:
    """Return MR magnitude values: coil shading, blur and Rician noise (sigma 12)."""
    shaded = ndimage.gaussian_filter(clean, 0.7, mode="nearest") * (
        1.0 + 0.25 * (y / 110.0) ** 2
    )
    real = shaded + rng.standard_normal(clean.shape) * 12.0
    imag = rng.standard_normal(clean.shape) * 12.0
    return np.clip(np.rint(np.hypot(real, imag)), 0, 4095).astype(np.uint16)


# ----------------------------------------------------------------------------- DICOM


@dataclass(frozen=True)
class SeriesContext:
    """Everything the header of one series needs."""

    subject: SubjectPlan
    timepoint: TimepointPlan
    plan: SeriesPlan

    @property
    def is_mr(self) -> bool:
        """Return whether this is the MR series."""
        return self.plan.phase == "mr_arterial"

    @property
    def study_date(self) -> date:
        """Return the scan date."""
        return self.subject.baseline_date + timedelta(days=self.timepoint.day)

    @property
    def study_uid(self) -> str:
        """Return the study's UID (the MR is its own study)."""
        kind = "MR" if self.is_mr else "CT"
        return uid_for("study", self.subject.subject_id, self.timepoint.label, kind)

    @property
    def series_uid(self) -> str:
        """Return the series' UID."""
        return uid_for(
            "series", self.subject.subject_id, self.timepoint.label, self.plan.key
        )

    @property
    def folder(self) -> str:
        """Return the series folder relative to the output, e.g. ``S01/FU1/ART``."""
        return f"{self.subject.subject_id}/{self.timepoint.label}/{self.plan.key}"


def _times(ctx: SeriesContext) -> dict[str, str]:
    base = 9 * 3600 + 12 * 60 + 7 * int(ctx.subject.subject_id[1:]) * 60
    bolus = base + 240
    delay = {"arterial": 35, "portal_venous": 70, "mr_arterial": 20}[ctx.plan.phase]
    if ctx.is_mr:
        base, bolus = base + 5400, base + 5400 + 600

    def fmt(seconds: int) -> str:
        return f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"

    return {"study": fmt(base), "bolus": fmt(bolus), "acq": fmt(bolus + delay)}


def _patient_module(ds: Dataset, ctx: SeriesContext) -> None:
    sid = ctx.subject.subject_id
    ds.PatientName = f"SAMPLE^{sid}"
    ds.PatientID = f"MRN{_seed('mrn', sid) % 10**7:07d}"
    ds.PatientBirthDate = ctx.subject.birth_date
    ds.PatientSex = ctx.subject.sex
    age = ctx.study_date.year - int(ctx.subject.birth_date[:4])
    ds.PatientAge = f"{age:03d}Y"
    ds.ClinicalTrialSponsorName = "Synthetic Sponsor"
    ds.ClinicalTrialProtocolID = "NCT06779461"
    ds.ClinicalTrialProtocolName = "TACE for unresectable HCC (synthetic sample)"
    ds.ClinicalTrialSiteID = ctx.subject.site_id
    ds.ClinicalTrialSiteName = f"Site {ctx.subject.site_id[4:]}"
    ds.ClinicalTrialSubjectID = sid
    ds.ClinicalTrialTimePointID = ctx.timepoint.label
    ds.ClinicalTrialTimePointDescription = (
        "Baseline" if ctx.timepoint.day == 0 else f"Follow-up day {ctx.timepoint.day}"
    )


def _study_series_module(ds: Dataset, ctx: SeriesContext) -> None:
    times = _times(ctx)
    day = ctx.study_date.strftime("%Y%m%d")
    ds.StudyInstanceUID = ctx.study_uid
    ds.SeriesInstanceUID = ctx.series_uid
    ds.FrameOfReferenceUID = uid_for("frame", ctx.study_uid)
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = day
    ds.StudyTime = times["study"]
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = times["acq"]
    ds.AccessionNumber = f"A{day[2:]}{int(ctx.subject.subject_id[1:]):03d}"
    ds.StudyID = f"{'MR' if ctx.is_mr else 'CT'}{day[2:]}"
    ds.StudyDescription = (
        "MR LIVER DYNAMIC" if ctx.is_mr else "CT ABDOMEN LIVER 3 PHASE"
    )
    ds.SeriesDescription = ctx.plan.description
    ds.SeriesNumber = ctx.plan.number
    ds.Modality = "MR" if ctx.is_mr else "CT"
    ds.InstitutionName = "Synthetic General Hospital"
    ds.InstitutionAddress = "1 Example Road, Sample Town"
    ds.ReferringPhysicianName = "REFERRER^SAMPLE"
    ds.StationName = "SYNTH01"
    ds.Manufacturer = "SYNTHETIC"
    ds.ManufacturerModelName = "mrecist_reader sample generator"
    ds.SoftwareVersions = f"generate.py {GENERATOR_VERSION}"
    ds.BodyPartExamined = "ABDOMEN"
    ds.PatientPosition = "FFS" if not ctx.is_mr else "HFS"
    ds.PositionReferenceIndicator = ""
    ds.ContrastBolusStartTime = times["bolus"]
    ds.ContrastBolusRoute = "IV"
    if ctx.is_mr:
        ds.ContrastBolusAgent = "Gadobutrol 1.0 mmol/mL"
        ds.ContrastBolusVolume = "7.5"
        ds.ContrastFlowRate = "2"
    else:
        ds.ContrastBolusAgent = "Iohexol 350 mgI/mL"
        ds.ContrastBolusVolume = "100"
        ds.ContrastFlowRate = "4"
    ds.ContrastBolusIngredient = "GADOLINIUM" if ctx.is_mr else "IODINE"


def _modality_module(ds: Dataset, ctx: SeriesContext) -> None:
    if ctx.is_mr:
        ds.ScanningSequence = "GR"
        ds.SequenceVariant = ["SP", "OSP"]
        ds.ScanOptions = "FS"
        ds.MRAcquisitionType = "3D"
        ds.SequenceName = "*fl3d1"
        ds.RepetitionTime = "4.1"
        ds.EchoTime = "1.9"
        ds.FlipAngle = "10"
        ds.MagneticFieldStrength = "1.5"
        ds.ImagingFrequency = "63.68"
        ds.ImagedNucleus = "1H"
        ds.SpacingBetweenSlices = f"{MR_SLICE_MM:.1f}"
        ds.SliceThickness = f"{MR_SLICE_MM:.1f}"
        ds.WindowCenter, ds.WindowWidth = "450", "1000"
        return
    ds.KVP = "100"
    ds.XRayTubeCurrent = 220
    ds.ConvolutionKernel = "SOFT"
    ds.SliceThickness = f"{CT_SLICE_MM:.1f}"
    ds.SpacingBetweenSlices = f"{CT_SLICE_MM:.1f}"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = "40", "400"


def _image_module(ds: Dataset, grid: Grid) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.PixelSpacing = [f"{grid.spacing_mm:g}", f"{grid.spacing_mm:g}"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = grid.rows, grid.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0


def _file_meta(ds: Dataset, syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    # Fixed, so that files do not depend on the installed pydicom version.
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = f"MRECIST_SAMPLE{GENERATOR_VERSION}"
    meta.SourceApplicationEntityTitle = "SAMPLEGEN"
    return meta


def write_image(
    path: Path,
    ctx: SeriesContext,
    pixels: npt.NDArray[np.uint16],
    *,
    grid: Grid,
    z: float,
    instance: int,
) -> str:
    """Write one slice to ``path`` and return its SOP Instance UID.

    Parameters
    ----------
    path
        The file to write.
    ctx
        The series the slice belongs to.
    pixels
        Stored values, ``(rows, columns)``.
    grid, z
        In-plane grid and the plane's patient z (mm).
    instance
        InstanceNumber (1 = most cranial slice).

    Returns
    -------
    str
        The SOP Instance UID written.

    """
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = MRImageStorage if ctx.is_mr else CTImageStorage
    ds.SOPInstanceUID = uid_for("image", ctx.series_uid, str(instance))
    ds.InstanceCreationDate = ctx.study_date.strftime("%Y%m%d")
    _patient_module(ds, ctx)
    _study_series_module(ds, ctx)
    _modality_module(ds, ctx)
    _image_module(ds, grid)
    ds.InstanceNumber = instance
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [
        f"{grid.origin_mm[0]:g}",
        f"{grid.origin_mm[1]:g}",
        f"{z:g}",
    ]
    ds.SliceLocation = f"{z:g}"
    ds.file_meta = _file_meta(ds, ctx.plan.transfer_syntax)
    ds.PixelData = pixels.tobytes()
    if ctx.plan.transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(
            ctx.plan.transfer_syntax,
            pixels,
            encoding_plugin="pylibjpeg",
            generate_instance_uid=False,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return str(ds.SOPInstanceUID)


# ----------------------------------------------------------------------------- series


@functools.lru_cache(maxsize=128)
def _labels_cached(grid: Grid, z: float) -> npt.NDArray[np.uint8]:
    """Return the anatomy labels of a plane at 2x2 sub-pixels (shared by all series)."""
    xf, yf = grid.coordinates(2)
    labels = anatomy_labels(xf, yf, z)
    labels.setflags(write=False)
    return labels


def _states_at(subject: SubjectPlan, index: int) -> list[tuple[Lesion, LesionState]]:
    found = [(lesion, lesion.states[index]) for lesion in subject.lesions]
    return [(lesion, state) for lesion, state in found if state is not None]


def write_series(out: Path, ctx: SeriesContext, index: int) -> dict[str, Any]:
    """Render and write one series; return its description and slice table.

    Parameters
    ----------
    out
        Output root folder.
    ctx
        The series.
    index
        Timepoint index (0 = baseline) selecting the lesions' states.

    Returns
    -------
    dict
        ``folder``, UIDs, ``z_mm`` and ``sop_instance_uids`` of the slices in file order.

    """
    grid = MR_GRID if ctx.is_mr else CT_GRID
    if ctx.is_mr:
        zs = _slice_positions(MR_Z_TOP, MR_SLICES, MR_SLICE_MM)
    else:
        zs = _slice_positions(
            ctx.timepoint.z_top_mm, ctx.timepoint.n_slices, CT_SLICE_MM
        )
    rng = np.random.default_rng(_seed("noise", ctx.series_uid))
    lesions = _states_at(ctx.subject, index)
    phase_index = PHASES.index(ctx.plan.phase)
    x, y = grid.coordinates(1)
    fov = np.hypot(x - x.mean(), y - y.mean()) <= grid.columns * grid.spacing_mm / 2
    uids = []
    for k, z in enumerate(zs, start=1):
        clean = _render_slice(
            _labels_cached(grid, z), phase_index, lesions, grid=grid, z=z
        )
        pixels = mr_pixels(clean, rng, y) if ctx.is_mr else ct_pixels(clean, rng, fov)
        path = out / ctx.folder / f"IM{k:04d}.dcm"
        uids.append(write_image(path, ctx, pixels, grid=grid, z=z, instance=k))
    return {"folder": ctx.folder, "z_mm": zs, "sop_instance_uids": uids}


# ----------------------------------------------------------------------------- truth


def lesion_truth_on(
    lesion: Lesion, state: LesionState, zs: Sequence[float]
) -> dict[str, Any]:
    """Return the longest viable diameter of a lesion over the planes ``zs``.

    The value is computed analytically from the lesion's shape (outline polygon of 1440
    vertices, error below 0.001 mm) on each plane; the answer is the largest, with its
    plane and end points.
    """
    best: dict[str, Any] = {"viable_diameter_mm": 0.0}
    reach = 2.0 * max(state.a, state.b) * (1.0 + sum(lesion.wobble[:2]))
    order = sorted(range(len(zs)), key=lambda k: abs(zs[k] - lesion.centre_mm[2]))
    for k in order:
        z = zs[k]
        if reach * _taper(state, z - lesion.centre_mm[2]) <= best["viable_diameter_mm"]:
            continue  # this plane cannot hold a longer diameter
        outline = viable_outline(lesion, state, z)
        length, p1, p2 = longest_chord(outline)
        if length > best["viable_diameter_mm"] + 1e-9:
            centroid = outline.mean(axis=0)
            best = {
                "viable_diameter_mm": length,
                "file_index": k,
                "z_mm": z,
                "p1_mm": [round(float(p1[0]), 2), round(float(p1[1]), 2), z],
                "p2_mm": [round(float(p2[0]), 2), round(float(p2[1]), 2), z],
                "viable_seed_mm": [
                    round(float(centroid[0]), 2),
                    round(float(centroid[1]), 2),
                    z,
                ],
            }
    return best


def _whole_diameter(lesion: Lesion, state: LesionState, zs: Sequence[float]) -> float:
    whole = replace(state, kind="hcc", cut=None, core=0.0)
    return float(lesion_truth_on(lesion, whole, zs)["viable_diameter_mm"])


def liver_reference(
    lesions: Sequence[tuple[Lesion, LesionState]], centre: tuple[float, float], z: float
) -> list[float]:
    """Return a point of plain liver near ``centre`` on plane z, clear of every lesion.

    The point is at least 6 mm inside liver parenchyma (no vessel, gallbladder or edge)
    and 8 mm beyond each lesion's outer radius, so that sampling it gives the liver's
    value in that phase.
    """
    offsets = np.arange(-90.0, 90.0 + 1e-9, 2.0)
    x, y = np.meshgrid(centre[0] + offsets, centre[1] + offsets)
    ok = ndimage.binary_erosion(anatomy_labels(x, y, z) == LIVER, iterations=3)
    for lesion, state in lesions:
        reach = max(state.a, state.b) * (1.0 + sum(lesion.wobble[:2])) + 8.0
        ok &= np.hypot(x - lesion.centre_mm[0], y - lesion.centre_mm[1]) > reach
    distance = np.where(ok, np.hypot(x - centre[0], y - centre[1]), np.inf)
    k = int(np.argmin(distance))
    if not np.isfinite(distance.flat[k]):
        msg = f"no plain liver near {centre} at z={z}"
        raise ValueError(msg)
    return [float(x.flat[k]), float(y.flat[k]), z]


def _measurement(
    lesion: Lesion,
    state: LesionState,
    series: dict[str, Any],
    others: Sequence[tuple[Lesion, LesionState]],
) -> dict[str, Any]:
    zs = series["z_mm"]
    truth = lesion_truth_on(lesion, state, zs)
    entry: dict[str, Any] = {
        "series_instance_uid": series["series_instance_uid"],
        "series_folder": series["folder"],
        "modality": series["modality"],
        "viable_diameter_exact_mm": round(truth["viable_diameter_mm"], 4),
        "viable_diameter_mm": _round_tenth(truth["viable_diameter_mm"]),
    }
    if "file_index" in truth:
        k = truth.pop("file_index")
        entry["p1_mm"], entry["p2_mm"] = truth["p1_mm"], truth["p2_mm"]
        entry["viable_seed_mm"] = truth["viable_seed_mm"]
    else:  # nothing viable: name the plane nearest the centre
        k = int(np.argmin([abs(z - lesion.centre_mm[2]) for z in zs]))
    entry.update(
        {
            "slice_z_mm": zs[k],
            "file": f"IM{k + 1:04d}.dcm",
            "instance_number": k + 1,
            "slice_index": len(zs)
            - 1
            - k,  # files run head to feet, volumes feet to head
            "sop_instance_uid": series["sop_instance_uids"][k],
            "liver_reference_mm": liver_reference(others, lesion.centre_mm[:2], zs[k]),
        }
    )
    return entry


def _recorded(lesion: Lesion, state: LesionState, measured: float) -> float | None:
    """Return the viable diameter a reader records (targets, new lesions' size)."""
    if lesion.lesion_type == "non_target":
        return None
    return measured if state.kind == "hcc" else 0.0


def _lesion_record(
    lesion: Lesion, subject: SubjectPlan, series: dict[str, Any]
) -> dict[str, Any]:
    timepoints = []
    for index, tp in enumerate(subject.timepoints):
        state = lesion.states[index]
        if state is None:
            timepoints.append({"timepoint": tp.label, "status": "not_present"})
            continue
        arterial = [
            s for s in series[tp.label] if s["phase"] in ("arterial", "mr_arterial")
        ]
        others = _states_at(subject, index)
        measurements = [_measurement(lesion, state, s, others) for s in arterial]
        ct = measurements[0]
        record = {
            "timepoint": tp.label,
            "status": state.status,
            "enhancement": {
                "hcc": "arterial hyperenhancement, washout",
                "necrotic": "none (necrotic)",
                "hypovascular": "none (hypovascular)",
            }[state.kind],
            "centre_mm": list(lesion.centre_mm),
            "whole_lesion_diameter_mm": _round_tenth(
                _whole_diameter(lesion, state, arterial[0]["z_mm"])
            ),
            "viable_diameter_mm": _recorded(lesion, state, ct["viable_diameter_mm"]),
            "measurements": measurements,
        }
        if state.core:
            record["note"] = "necrotic core: the viable part is a rim, not a target"
        timepoints.append(record)
    return {
        "lesion_id": lesion.lesion_id,
        "type": lesion.lesion_type,
        "organ": "liver",
        "segment": lesion.segment,
        "description": lesion.description,
        "timepoints": timepoints,
    }


# ----------------------------------------------------------------------------- responses


def _pct(value: Fraction) -> float:
    return float(round(value * 100, 1))


def target_response(total: int, baseline: int, nadir: int) -> str:
    """Return the mRECIST target response of a sum (tenths of mm), spec section 'Target'.

    PD when the sum is at least 20 % over the nadir, CR at zero, PR at least 30 % below
    baseline, SD otherwise (profile nct06779461: no absolute PD minimum).
    """
    if (nadir == 0 and total > 0) or (
        nadir > 0 and Fraction(total, nadir) >= Fraction(6, 5)
    ):
        return "PD"
    if total == 0:
        return "CR"
    if Fraction(total, baseline) <= Fraction(7, 10):
        return "PR"
    return "SD"


def _non_target_response(statuses: Sequence[str], has_baseline: bool) -> str:
    if not has_baseline:
        return "NA"
    if "progression" in statuses:
        return "PD"
    return "CR" if all(s == "absent" for s in statuses) else "IR_SD"


def _overall(target: str, non_target: str, new: str) -> str:
    if "PD" in (target, non_target) or new == "yes":
        return "PD"
    if target == "CR":
        return "CR" if non_target in ("CR", "NA") else "PR"
    return target


def expected_responses(
    lesions: Sequence[dict[str, Any]], labels: Sequence[str]
) -> dict[str, Any]:
    """Return the expected sums and responses per timepoint and the best response.

    Parameters
    ----------
    lesions
        Lesion records as written to ``truth.json``.
    labels
        Timepoint labels, baseline first (30 days apart).

    Returns
    -------
    dict
        ``timepoints`` (one entry per label) and ``best_overall_response``.

    """
    targets = [x for x in lesions if x["type"] == "target"]
    sums = [
        sum(round(t["timepoints"][i]["viable_diameter_mm"] * 10) for t in targets)
        for i in range(len(labels))
    ]
    rows: list[dict[str, Any]] = [
        {"timepoint": labels[0], "study_day": 0, "target_sum_mm": sums[0] / 10}
    ]
    first_seen: dict[str, str] = {}
    progression: int | None = None
    for i in range(1, len(labels)):
        row, prog = _follow_up_row(lesions, labels, sums, i, first_seen)
        rows.append(row)
        if prog is not None and progression is None:
            progression = prog
    return {
        "timepoints": rows,
        "best_overall_response": _best(rows, progression),
        "progression_timepoint": labels[progression]
        if progression is not None
        else None,
    }


def _follow_up_row(
    lesions: Sequence[dict[str, Any]],
    labels: Sequence[str],
    sums: Sequence[int],
    i: int,
    first_seen: dict[str, str],
) -> tuple[dict[str, Any], int | None]:
    nadir = min(sums[:i])
    target = target_response(sums[i], sums[0], nadir)
    non_targets = [x for x in lesions if x["type"] == "non_target"]
    statuses = [x["timepoints"][i]["status"] for x in non_targets]
    non_target = _non_target_response(statuses, bool(non_targets))
    new_statuses = {
        x["lesion_id"]: x["timepoints"][i]["status"]
        for x in lesions
        if x["type"] == "new" and x["timepoints"][i]["status"] != "not_present"
    }
    for lesion_id in new_statuses:
        first_seen.setdefault(lesion_id, labels[i])
    present = [k for k, v in new_statuses.items() if v == "present"]
    new = "yes" if present else ("equivocal" if new_statuses else "no")
    backdated = min(
        (first_seen[k] for k in present if first_seen[k] != labels[i]),
        key=labels.index,
        default=None,
    )
    overall = _overall(target, non_target, new)
    row = {
        "timepoint": labels[i],
        "study_day": 30 * i,
        "target_sum_mm": sums[i] / 10,
        "baseline_sum_mm": sums[0] / 10,
        "nadir_sum_mm": nadir / 10,
        "change_from_baseline_pct": _pct(Fraction(sums[i] - sums[0], sums[0])),
        "change_from_nadir_pct": _pct(Fraction(sums[i] - nadir, nadir))
        if nadir
        else None,
        "target_response": target,
        "non_target_response": non_target,
        "new_lesions": new,
        "overall_response": overall,
        "progression_backdated_to": backdated,
    }
    prog = labels.index(backdated) if backdated else (i if overall == "PD" else None)
    return row, prog


def _best(rows: Sequence[dict[str, Any]], progression: int | None) -> str:
    end = progression if progression is not None else len(rows)
    found = [
        rows[i]["overall_response"]
        for i in range(1, end)
        if rows[i]["overall_response"] != "SD" or rows[i]["study_day"] >= 28
    ]
    for response in ("CR", "PR", "SD"):
        if response in found:
            return response
    return "PD" if progression is not None else "NE"


# ----------------------------------------------------------------------------- main


def _check_inside_liver(subject: SubjectPlan) -> None:
    """Fail when a lesion pokes out of the liver (a phantom design error)."""
    for lesion in subject.lesions:
        for state in lesion.states:
            if state is None:
                continue
            for dz in np.linspace(-state.c * 0.95, state.c * 0.95, 9):
                z = lesion.centre_mm[2] + dz
                theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
                r = _taper(state, dz) * outline_radius(lesion, state, theta) + 2.0
                t = theta + np.deg2rad(lesion.angle_deg)
                x = lesion.centre_mm[0] + r * np.cos(t)
                y = lesion.centre_mm[1] + r * np.sin(t)
                labels = anatomy_labels(x[None, :], y[None, :], float(z))
                outside = float(np.mean(~np.isin(labels, (LIVER, HEPVEIN, PORTAL))))
                if outside > 0.12:
                    msg = (
                        f"{subject.subject_id} {lesion.lesion_id} at z={z:.0f}: "
                        f"{outside:.0%} of its rim is not liver"
                    )
                    raise ValueError(msg)


def generate_subject(out: Path, subject: SubjectPlan) -> dict[str, Any]:
    """Write every series of a subject and return its ``truth.json`` entry."""
    _check_inside_liver(subject)
    series: dict[str, list[dict[str, Any]]] = {}
    listing = []
    for index, tp in enumerate(subject.timepoints):
        plans = list(tp.series) + ([tp.mr] if tp.mr else [])
        series[tp.label] = []
        for plan in plans:
            ctx = SeriesContext(subject, tp, plan)
            written = write_series(out, ctx, index)
            info = {
                "timepoint": tp.label,
                "study_date": ctx.study_date.isoformat(),
                "phase": plan.phase.replace("mr_", ""),
                "modality": "MR" if ctx.is_mr else "CT",
                "series_description": plan.description,
                "series_number": plan.number,
                "series_instance_uid": ctx.series_uid,
                "study_instance_uid": ctx.study_uid,
                "transfer_syntax": plan.transfer_syntax.name,
                "transfer_syntax_uid": str(plan.transfer_syntax),
                "n_images": len(written["z_mm"]),
                "exercises": plan.exercises,
                **written,
            }
            series[tp.label].append(info)
            listing.append(info)
            logger.info("wrote %s", ctx.folder)
    lesions = [_lesion_record(lesion, subject, series) for lesion in subject.lesions]
    labels = [tp.label for tp in subject.timepoints]
    return {
        "subject_id": subject.subject_id,
        "site_id": subject.site_id,
        "series": [
            {k: v for k, v in s.items() if k not in ("z_mm", "sop_instance_uids")}
            | {"first_z_mm": s["z_mm"][0], "last_z_mm": s["z_mm"][-1]}
            for s in listing
        ],
        "lesions": lesions,
        "expected": expected_responses(lesions, labels),
    }


TRUTH_NOTES = {
    "generator": f"sample_dicom/generate.py version {GENERATOR_VERSION}",
    "profile": "nct06779461 (targets 30.0-100.0 mm viable diameter at baseline; PR <= -30 % "
    "from baseline; PD >= +20 % over the nadir; SD counts from day 28)",
    "diameter": "viable_diameter_exact_mm is computed analytically from the phantom's lesion "
    "shape on each image plane of the arterial series (a perfect reader's answer); "
    "viable_diameter_mm is it rounded to 0.1 mm half away from zero, the value recorded; "
    "0.0 when nothing enhances (absent). Images sample the phantom on each plane (no "
    "slice-profile averaging) with exact-area in-plane partial volume.",
    "coordinates": "DICOM patient coordinates (LPS) in mm; file IM0001 is the most cranial "
    "slice; slice_index counts from the most caudal slice (a volume sorted along the slice "
    "normal, +z)",
}


def generate(out: Path) -> dict[str, Any]:
    """Write the whole sample study under ``out`` and return the truth written.

    Parameters
    ----------
    out
        Output folder; its ``S01``... folders and ``truth.json`` are replaced.

    Returns
    -------
    dict
        The content of ``truth.json``.

    """
    out.mkdir(parents=True, exist_ok=True)
    subjects = _subjects()
    for subject in subjects:
        shutil.rmtree(out / subject.subject_id, ignore_errors=True)
    truth = {
        "notes": TRUTH_NOTES,
        "subjects": [generate_subject(out, s) for s in subjects],
    }
    text = json.dumps(truth, indent=2, sort_keys=False) + "\n"
    (out / "truth.json").write_text(text, encoding="utf-8")
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger.setLevel(logging.INFO)
    generate(args.out)
    print(f"sample study written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
