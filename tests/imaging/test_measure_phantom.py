"""Liver-lesion phantoms with a known viable diameter, and the tests of the builder itself.

A phantom is a stack of axial slices of liver with one ellipsoidal lesion whose viable
(enhancing) part may lose a necrotic core or a necrotic half, optionally touching a bright
vessel or the liver edge (fat outside), with CT-like (HU) or MR-like (arbitrary unit)
intensities. Geometry lives in "plane millimetres" ``(u, v, w) = (row * row_spacing,
column * column_spacing, slice * slice_spacing)``; the volume's affine maps indices to
patient millimetres.

Truth is the viable diameter of the *continuous* shape: on every slice plane the lesion's
cross-section is an ellipse; the viable region is that ellipse minus the necrosis, and its
longest diameter is the Feret diameter of a dense sampling of its boundary (720 points on
each curve, error < 0.001 mm). The truth is the maximum over the slice planes. Each slice is
rendered at its centre plane (no slab averaging) with 3 x 3 in-plane supersampling (by default)
(partial volume) and a Gaussian point-spread function, then Gaussian noise.

The module is also imported by ``benchmarks/measure_accuracy.py`` and
``benchmarks/measure_click.py``; its file name keeps it with the measurement tests.
"""

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage
from scipy.spatial import ConvexHull

from mrecist_reader.imaging.geometry import build_affine, index_to_patient
from mrecist_reader.imaging.volume import Phase, SeriesInfo, Volume

Necrosis = Literal["none", "core", "half"]
VesselKind = Literal["none", "along_z", "in_plane"]
FloatArray = npt.NDArray[np.float64]

_BOUNDARY_POINTS = 720
MR_SCALE = 3.0


@dataclass(frozen=True)
class PhantomSpec:
    """Everything that defines one phantom (lengths in mm, angles in radians)."""

    semi_axes_mm: tuple[float, float, float] = (15.0, 10.0, 12.0)
    angle: float = 0.0
    necrosis: Necrosis = "none"
    necrosis_fraction: float = 0.5
    half_angle: float = 0.0
    half_offset: float = 0.0
    vessel: VesselKind = "none"
    vessel_radius_mm: float = 3.0
    vessel_angle: float = 0.0
    vessel_gap_mm: float = 0.0
    vessel_tilt: float = 0.0
    liver_edge: bool = False
    edge_angle: float = 0.0
    edge_fraction: float = 0.9
    pixel_spacing_mm: tuple[float, float] = (0.7, 0.7)
    slice_spacing_mm: float = 2.5
    centre_offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    liver: float = 90.0
    contrast: float = 100.0
    necrosis_drop: float = 60.0
    vessel_ratio: float = 2.5
    noise: float = 12.0
    psf_mm: float = 0.5
    modality: Literal["CT", "MR"] = "CT"
    margin_mm: float = 35.0
    slab_margin_mm: float = 8.0
    seed: int = 0
    supersample: int = 3
    shape: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Phantom:
    """A rendered phantom and its truth."""

    spec: PhantomSpec
    volume: Volume
    truth_mm: float
    truth_slices: tuple[int, ...]
    centre_index: tuple[float, float, float]

    def patient(self, index: tuple[float, float, float]) -> tuple[float, float, float]:
        """Return patient mm of a fractional ``(slice, row, column)`` index."""
        x, y, z = index_to_patient(self.volume.affine, np.asarray(index))
        return (float(x), float(y), float(z))

    def plane_to_index(
        self, u: float, v: float, w: float
    ) -> tuple[float, float, float]:
        """Return the fractional index of a point in plane millimetres."""
        sr, sc = self.spec.pixel_spacing_mm
        return (w / self.spec.slice_spacing_mm, u / sr, v / sc)

    @property
    def centre_mm(self) -> tuple[float, float, float]:
        """Return the lesion centre in patient mm."""
        return self.patient(self.centre_index)

    def lesion_point_mm(
        self, along_major: float, along_minor: float
    ) -> tuple[float, float, float]:
        """Return patient mm of a point on the lesion's central plane.

        ``along_major``/``along_minor`` are fractions of the in-plane semi-axes.
        """
        a, b, _ = self.spec.semi_axes_mm
        u0, v0, w0 = self._centre_plane()
        du = along_major * a * math.cos(self.spec.angle) - along_minor * b * math.sin(
            self.spec.angle
        )
        dv = along_major * a * math.sin(self.spec.angle) + along_minor * b * math.cos(
            self.spec.angle
        )
        return self.patient(self.plane_to_index(u0 + du, v0 + dv, w0))

    def _centre_plane(self) -> tuple[float, float, float]:
        k, r, c = self.centre_index
        sr, sc = self.spec.pixel_spacing_mm
        return (r * sr, c * sc, k * self.spec.slice_spacing_mm)


def _intensities(spec: PhantomSpec) -> dict[str, float]:
    lesion = spec.liver + spec.contrast
    values = {
        "liver": spec.liver,
        "lesion": lesion,
        "necrosis": spec.liver - spec.necrosis_drop,
        "vessel": spec.liver + spec.vessel_ratio * spec.contrast,
        "fat": -100.0,
        "air": -1000.0,
    }
    if spec.modality == "MR":
        # T1 fat-saturated arterial phase: fat and air dark, arbitrary units around 500.
        values["fat"] = spec.liver - 80.0
        values = {k: (v - spec.liver) * MR_SCALE + 450.0 for k, v in values.items()}
        values["air"] = 5.0
    return values


@dataclass(frozen=True)
class _Frame:
    """Geometry of the phantom in plane millimetres."""

    centre: tuple[float, float, float]
    axes: tuple[float, float, float]
    major: tuple[float, float]
    minor: tuple[float, float]


def _frame(spec: PhantomSpec, shape: tuple[int, int, int]) -> _Frame:
    sr, sc = spec.pixel_spacing_mm
    du, dv, dw = spec.centre_offset_mm
    u0 = (shape[1] - 1) * sr / 2 + du + 0.23
    v0 = (shape[2] - 1) * sc / 2 + dv + 0.41
    w0 = (shape[0] - 1) * spec.slice_spacing_mm / 2 + dw + 0.37
    major = (math.cos(spec.angle), math.sin(spec.angle))
    minor = (-math.sin(spec.angle), math.cos(spec.angle))
    return _Frame((u0, v0, w0), spec.semi_axes_mm, major, minor)


def _shape(spec: PhantomSpec) -> tuple[int, int, int]:
    if spec.shape is not None:
        return spec.shape
    a, _, c = spec.semi_axes_mm
    extent = 2 * a + 2 * spec.margin_mm + 20.0
    sr, sc = spec.pixel_spacing_mm
    n_slices = math.ceil((2 * c + 2 * spec.slab_margin_mm) / spec.slice_spacing_mm) + 1
    return (n_slices, math.ceil(extent / sr), math.ceil(extent / sc))


def _in_lesion_coords(
    frame: _Frame, u: FloatArray, v: FloatArray, w: float
) -> tuple[FloatArray, FloatArray, float]:
    du, dv = u - frame.centre[0], v - frame.centre[1]
    x = du * frame.major[0] + dv * frame.major[1]
    y = du * frame.minor[0] + dv * frame.minor[1]
    return x, y, w - frame.centre[2]


def _half_normal(spec: PhantomSpec) -> tuple[float, float]:
    return (math.cos(spec.half_angle), math.sin(spec.half_angle))


def _labels(
    spec: PhantomSpec, frame: _Frame, u: FloatArray, v: FloatArray, w: float
) -> dict[str, npt.NDArray[np.bool_]]:
    """Return each tissue's membership at the points ``(u, v)`` of plane ``w``."""
    a, b, c = frame.axes
    x, y, z = _in_lesion_coords(frame, u, v, w)
    lesion = (x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2 <= 1.0
    necrosis = np.zeros_like(lesion)
    if spec.necrosis == "core":
        f = spec.necrosis_fraction
        necrosis = lesion & (
            (x / (f * a)) ** 2 + (y / (f * b)) ** 2 + (z / (f * c)) ** 2 <= 1
        )
    elif spec.necrosis == "half":
        n = _half_normal(spec)
        necrosis = lesion & (x * n[0] + y * n[1] < spec.half_offset * b)
    vessel = _vessel(spec, frame, x, y, z)
    body = u >= 15.0
    fat = (u < 25.0) | _outside_edge(spec, frame, x, y)
    return {
        "lesion": lesion,
        "necrosis": necrosis,
        "vessel": vessel,
        "body": body,
        "fat": fat,
    }


def _support(frame: _Frame, nx: float, ny: float) -> float:
    a, b, _ = frame.axes
    return math.hypot(a * nx, b * ny)


def _vessel(
    spec: PhantomSpec, frame: _Frame, x: FloatArray, y: FloatArray, z: float
) -> npt.NDArray[np.bool_]:
    if spec.vessel == "none":
        return np.zeros(x.shape, dtype=bool)
    nx, ny = math.cos(spec.vessel_angle), math.sin(spec.vessel_angle)
    radius = spec.vessel_radius_mm
    distance = _support(frame, nx, ny) + radius + spec.vessel_gap_mm
    along = x * nx + y * ny - distance
    if spec.vessel == "along_z":
        # The axis touches the lesion at its centre plane and leans by ``vessel_tilt``
        # along the tangent: distance to the axis = |q|^2 - (q . direction)^2.
        across = -x * ny + y * nx
        tilt = spec.vessel_tilt
        lean = across * math.sin(tilt) + z * math.cos(tilt)
        return np.asarray(along**2 + across**2 + z**2 - lean**2 <= radius**2)
    return np.asarray(along**2 + z**2 <= radius**2)


def _outside_edge(
    spec: PhantomSpec, frame: _Frame, x: FloatArray, y: FloatArray
) -> npt.NDArray[np.bool_]:
    if not spec.liver_edge:
        return np.zeros(x.shape, dtype=bool)
    nx, ny = math.cos(spec.edge_angle), math.sin(spec.edge_angle)
    return np.asarray(x * nx + y * ny > spec.edge_fraction * _support(frame, nx, ny))


def _render_points(
    spec: PhantomSpec, frame: _Frame, u: FloatArray, v: FloatArray, w: float
) -> FloatArray:
    values = _intensities(spec)
    tissue = _labels(spec, frame, u, v, w)
    image = np.full(u.shape, values["air"])
    image[tissue["body"]] = values["fat"]
    image[tissue["body"] & ~tissue["fat"]] = values["liver"]
    image[tissue["vessel"] & tissue["body"]] = values["vessel"]
    image[tissue["lesion"]] = values["lesion"]
    image[tissue["necrosis"]] = values["necrosis"]
    return image


def _render_slice(
    spec: PhantomSpec, frame: _Frame, shape: tuple[int, int], w: float
) -> FloatArray:
    sr, sc = spec.pixel_spacing_mm
    n = spec.supersample
    offsets = (np.arange(n) - (n - 1) / 2) / n
    rows = (np.arange(shape[0])[:, None] + offsets[None, :]).ravel() * sr
    cols = (np.arange(shape[1])[:, None] + offsets[None, :]).ravel() * sc
    u, v = np.meshgrid(rows, cols, indexing="ij")
    fine = _render_points(spec, frame, u, v, w)
    return np.asarray(fine.reshape(shape[0], n, shape[1], n).mean(axis=(1, 3)))


def _ellipse_points(a: float, b: float) -> FloatArray:
    t = np.linspace(0.0, 2 * math.pi, _BOUNDARY_POINTS, endpoint=False)
    return np.column_stack([a * np.cos(t), b * np.sin(t)])


def _feret(points: FloatArray) -> float:
    if len(points) < 3:
        return 0.0
    hull = points[ConvexHull(points).vertices]
    gaps = hull[:, None, :] - hull[None, :, :]
    return float(np.sqrt((gaps**2).sum(axis=-1)).max())


def viable_feret_on_plane(spec: PhantomSpec, dz: float) -> float:
    """Return the exact viable diameter (mm) of the lesion's cross-section at ``dz``.

    ``dz`` is the plane's distance from the lesion centre along the slice normal.
    """
    a, b, c = spec.semi_axes_mm
    if abs(dz) >= c:
        return 0.0
    scale = math.sqrt(1.0 - (dz / c) ** 2)
    if spec.necrosis != "half":
        # A concentric necrotic core leaves the outer ellipse as the viable region's hull.
        return 2.0 * max(a, b) * scale
    outer = _ellipse_points(a * scale, b * scale)
    n = np.asarray(_half_normal(spec))
    offset = spec.half_offset * b
    kept = outer[outer @ n >= offset]
    tangent = np.array([-n[1], n[0]])
    along = np.linspace(-a, a, _BOUNDARY_POINTS)
    chord = offset * n[None, :] + along[:, None] * tangent[None, :]
    inside = (chord[:, 0] / (a * scale)) ** 2 + (chord[:, 1] / (b * scale)) ** 2 <= 1.0
    return _feret(np.vstack([kept, chord[inside]]))


def _series_info(spec: PhantomSpec, shape: tuple[int, int, int]) -> SeriesInfo:
    uids = tuple(
        f"1.2.826.0.1.3680043.10.999.{spec.seed}.{k + 1}" for k in range(shape[0])
    )
    return SeriesInfo(
        series_instance_uid=f"1.2.826.0.1.3680043.10.999.{spec.seed}",
        study_instance_uid="1.2.826.0.1.3680043.10.998",
        modality=spec.modality,
        series_description="phantom arterial",
        phase=Phase.ARTERIAL,
        rows=shape[1],
        columns=shape[2],
        pixel_spacing_mm=spec.pixel_spacing_mm,
        slice_spacing_mm=spec.slice_spacing_mm,
        image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        first_position_mm=(-150.0, -120.0, -40.0),
        transfer_syntaxes=("1.2.840.10008.1.2.1",),
        files=(),
        frames=(),
        sop_instance_uids=uids,
    )


def _affine(
    spec: PhantomSpec, orientation: tuple[float, float, float, float, float, float]
) -> FloatArray:
    normal = np.cross(orientation[:3], orientation[3:])
    return build_affine(
        orientation,
        (-150.0, -120.0, -40.0),
        spec.pixel_spacing_mm,
        tuple(normal * spec.slice_spacing_mm),
    )


def build_phantom(
    spec: PhantomSpec,
    orientation: tuple[float, float, float, float, float, float] = (1, 0, 0, 0, 1, 0),
) -> Phantom:
    """Render ``spec`` into a :class:`Volume` and compute its exact viable diameter."""
    shape = _shape(spec)
    frame = _frame(spec, shape)
    rng = np.random.default_rng(spec.seed)
    sr, sc = spec.pixel_spacing_mm
    planes = []
    truths = []
    for k in range(shape[0]):
        w = k * spec.slice_spacing_mm
        image = _render_slice(spec, frame, shape[1:], w)
        sigma = (spec.psf_mm / sr, spec.psf_mm / sc)
        planes.append(ndimage.gaussian_filter(image, sigma, mode="nearest"))
        truths.append(viable_feret_on_plane(spec, w - frame.centre[2]))
    noise = spec.noise * (MR_SCALE if spec.modality == "MR" else 1.0)
    array = np.stack(planes) + rng.normal(0.0, noise, size=shape)
    if spec.modality == "MR":
        array = np.abs(array)
    pixels = np.round(array).astype(np.int16 if spec.modality == "CT" else np.uint16)
    truth = max(truths)
    best = tuple(k for k, t in enumerate(truths) if t >= truth - 1e-6)
    info = _series_info(spec, shape)
    volume = Volume(pixels, _affine(spec, orientation), info.sop_instance_uids, info)
    centre = (
        frame.centre[2] / spec.slice_spacing_mm,
        frame.centre[0] / sr,
        frame.centre[1] / sc,
    )
    return Phantom(spec, volume, truth, best, centre)


# Brightest viable lesion drawn on CT: liver (60-110 HU) + the largest contrast
# (200 HU) is 310 HU, well inside measure.CT_VIABLE_HU; the cap only guards the draw.
CT_MAX_LESION_HU = 400.0


def random_spec(rng: np.random.Generator, seed: int) -> PhantomSpec:
    """Draw a phantom over the whole supported range (sizes, noise, necrosis, neighbours).

    On CT the lesion is at most ``CT_MAX_LESION_HU`` (liver + contrast); the draws are
    made in a fixed order so that a study seed always gives the same phantoms.
    """
    diameter = rng.uniform(10.0, 100.0)
    a = diameter / 2
    b = a * rng.uniform(0.55, 1.0)
    c = a * rng.uniform(0.6, 1.0)
    necrosis: Necrosis = rng.choice(np.array(["none", "none", "core", "half"])).item()
    vessel: VesselKind = rng.choice(
        np.array(["none", "none", "along_z", "in_plane"])
    ).item()
    spacing = rng.uniform(0.6, 1.0)
    anisotropy = rng.uniform(1.0, 1.3) if rng.random() < 0.3 else 1.0
    angle = rng.uniform(0, math.pi)
    necrosis_fraction = rng.uniform(0.3, 0.6)
    half_angle = rng.uniform(0, 2 * math.pi)
    half_offset = rng.uniform(-0.2, 0.2)
    vessel_radius = rng.uniform(2.0, 4.0)
    vessel_angle = rng.uniform(0, 2 * math.pi)
    liver_edge = bool(rng.random() < 0.25)
    edge_angle = rng.uniform(0, 2 * math.pi)
    edge_fraction = rng.uniform(0.8, 1.0)
    slice_spacing = rng.uniform(1.0, 5.0)
    liver = rng.uniform(60.0, 110.0)
    contrast = rng.uniform(70.0, 200.0)
    necrosis_drop = rng.uniform(40.0, 80.0)
    vessel_ratio = rng.uniform(2.0, 3.0)
    noise = rng.uniform(8.0, 25.0)
    modality: Literal["CT", "MR"] = "MR" if rng.random() < 0.25 else "CT"
    if modality == "CT":
        contrast = min(contrast, CT_MAX_LESION_HU - liver)
    return PhantomSpec(
        semi_axes_mm=(a, b, c),
        angle=angle,
        necrosis=necrosis,
        necrosis_fraction=necrosis_fraction,
        half_angle=half_angle,
        half_offset=half_offset,
        vessel=vessel,
        vessel_radius_mm=vessel_radius,
        vessel_angle=vessel_angle,
        liver_edge=liver_edge,
        edge_angle=edge_angle,
        edge_fraction=edge_fraction,
        pixel_spacing_mm=(spacing, min(1.0, spacing * anisotropy)),
        slice_spacing_mm=slice_spacing,
        liver=liver,
        contrast=contrast,
        necrosis_drop=necrosis_drop,
        vessel_ratio=vessel_ratio,
        noise=noise,
        modality=modality,
        seed=seed,
    )


def held_out_vessel_spec(rng: np.random.Generator, seed: int) -> PhantomSpec:
    """Draw a lesion touching a vessel as bright as itself, unlike :func:`random_spec`.

    Held out from the tuning phantoms (issue 16): the vessel is 0.7-1.6 times the
    lesion's contrast above the liver (intensity alone cannot separate them when it
    is about 1), 1.5-5 mm in radius, running head to foot (two thirds; tilted up to
    30 degrees) or in the slice plane, and it touches the lesion or dents it by up to
    1 mm (the lesion is painted over it, so the truth is the lesion's own diameter).
    Lesions are 12-90 mm, axis ratio 0.6-1, with no necrosis, a core or a half; CT or
    MR; noise sigma 8-20; pixels 0.6-0.9 mm; slices 1-5 mm.
    """
    diameter = rng.uniform(12.0, 90.0)
    a = diameter / 2
    b = a * rng.uniform(0.6, 1.0)
    c = a * rng.uniform(0.6, 1.0)
    necrosis: Necrosis = rng.choice(np.array(["none", "none", "core", "half"])).item()
    vessel: VesselKind = "in_plane" if rng.random() < 1 / 3 else "along_z"
    spacing = rng.uniform(0.6, 0.9)
    modality: Literal["CT", "MR"] = "MR" if rng.random() < 0.3 else "CT"
    liver = rng.uniform(60.0, 110.0)
    contrast = rng.uniform(80.0, 180.0)
    if modality == "CT":
        contrast = min(contrast, CT_MAX_LESION_HU - liver)
    slice_spacing = rng.uniform(1.0, 5.0)
    return PhantomSpec(
        semi_axes_mm=(a, b, c),
        angle=rng.uniform(0, math.pi),
        necrosis=necrosis,
        necrosis_fraction=rng.uniform(0.3, 0.55),
        half_angle=rng.uniform(0, 2 * math.pi),
        half_offset=rng.uniform(-0.15, 0.15),
        vessel=vessel,
        vessel_radius_mm=rng.uniform(1.5, 5.0),
        vessel_angle=rng.uniform(0, 2 * math.pi),
        vessel_gap_mm=rng.uniform(-1.0, 0.3),
        vessel_tilt=rng.uniform(-0.5, 0.5),
        vessel_ratio=rng.uniform(0.7, 1.6),
        pixel_spacing_mm=(spacing, spacing),
        slice_spacing_mm=slice_spacing,
        liver=liver,
        contrast=contrast,
        necrosis_drop=rng.uniform(40.0, 80.0),
        noise=rng.uniform(8.0, 20.0),
        modality=modality,
        seed=seed,
        slab_margin_mm=30.0,  # 30 mm of slices beyond each end: the vessel runs on
    )


def click_index(
    phantom: Phantom, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Return a click on viable tissue near the lesion centre (plane of the truth slice)."""
    spec = phantom.spec
    k = phantom.truth_slices[0]
    a, b, _ = spec.semi_axes_mm
    for _ in range(200):
        x, y = rng.uniform(-0.5, 0.5) * a, rng.uniform(-0.5, 0.5) * b
        if _is_viable_click(spec, x, y):
            break
    else:
        x, y = 0.8 * a * _half_normal(spec)[0], 0.8 * b * _half_normal(spec)[1]
    return _lesion_xy_to_index(phantom, k, x, y)


def _is_viable_click(spec: PhantomSpec, x: float, y: float) -> bool:
    a, b, _ = spec.semi_axes_mm
    if spec.necrosis == "core":
        f = spec.necrosis_fraction + 0.1
        return bool((x / (f * a)) ** 2 + (y / (f * b)) ** 2 > 1.0)
    if spec.necrosis == "half":
        n = _half_normal(spec)
        return x * n[0] + y * n[1] > spec.half_offset * b + 0.2 * b
    return True


def _lesion_xy_to_index(
    phantom: Phantom, k: int, x: float, y: float
) -> tuple[float, float, float]:
    spec = phantom.spec
    _, r0, c0 = phantom.centre_index
    sr, sc = spec.pixel_spacing_mm
    du = x * math.cos(spec.angle) - y * math.sin(spec.angle)
    dv = x * math.sin(spec.angle) + y * math.cos(spec.angle)
    return (float(k), r0 + du / sr, c0 + dv / sc)


# ---------------------------------------------------------------- anatomy without a lesion

ANATOMY_SHAPE = (40, 200, 200)  # 100 mm of 2.5 mm slices, 200 mm of 1 mm pixels
Mask = npt.NDArray[np.bool_]


def anatomy_grid() -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the (z, y, x) patient mm of every voxel of an anatomy volume."""
    n, rows, columns = ANATOMY_SHAPE
    z, y, x = np.meshgrid(
        np.arange(n) * 2.5 - 50.0,
        np.arange(rows) * 1.0 - 100.0,
        np.arange(columns) * 1.0 - 100.0,
        indexing="ij",
    )
    return z, y, x


def paint_volume(
    modality: Literal["CT", "MR"],
    background: float,
    shapes: list[tuple[Mask, float]],
    *,
    noise: float = 12.0,
    seed: int = 11,
) -> Volume:
    """Return an axial volume of ``background`` with each (mask, value) painted in turn.

    The volume has no lesion: it holds anatomy that must not be measured (a vessel, a
    bone, an organ). Voxel centres are at :func:`anatomy_grid`; Gaussian noise is added
    (MR: magnitude of it).
    """
    values = np.full(ANATOMY_SHAPE, background, dtype=np.float64)
    for mask, value in shapes:
        values[mask] = value
    rng = np.random.default_rng(seed)
    noisy = values + rng.normal(0.0, noise, values.shape)
    if modality == "MR":
        noisy = np.abs(noisy)
    spec = PhantomSpec(modality=modality, pixel_spacing_mm=(1.0, 1.0), seed=seed)
    info = replace(_series_info(spec, ANATOMY_SHAPE), slice_spacing_mm=2.5)
    affine = build_affine(
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
        (-100.0, -100.0, -50.0),
        (1.0, 1.0),
        (0.0, 0.0, 2.5),
    )
    pixels = np.rint(noisy).astype(np.int16)
    return Volume(pixels, affine, info.sop_instance_uids, info)


# ---------------------------------------------------------------- tests of the builder


def test_truth_of_a_plain_ellipsoid_is_its_major_axis_on_the_central_slice() -> None:
    spec = PhantomSpec(semi_axes_mm=(12.0, 8.0, 9.0), slice_spacing_mm=1.0, noise=0.0)
    phantom = build_phantom(spec)
    assert phantom.truth_mm == pytest.approx(
        24.0 * math.sqrt(1 - (0.37 - 0.0) ** 2 / 81), abs=0.01
    )


def test_truth_of_a_half_ellipse_is_its_analytic_feret_diameter() -> None:
    # Half (x >= 0) of x²/20² + y²/10² <= 1: the longest chord joins (0, -10) to the
    # boundary point with sin t = 1/3, length sqrt(1600 / 3).
    spec = PhantomSpec(semi_axes_mm=(20.0, 10.0, 10.0), necrosis="half", half_angle=0.0)
    assert viable_feret_on_plane(spec, 0.0) == pytest.approx(
        math.sqrt(1600 / 3), abs=0.01
    )


def test_rendered_lesion_area_matches_the_ellipse() -> None:
    spec = PhantomSpec(semi_axes_mm=(12.0, 8.0, 9.0), slice_spacing_mm=1.0, noise=0.0)
    phantom = build_phantom(spec)
    plane = phantom.volume.array[phantom.truth_slices[0]].astype(float)
    lesion_fraction = np.clip((plane - spec.liver) / spec.contrast, 0.0, 1.0)
    area = lesion_fraction.sum() * 0.7 * 0.7
    assert area == pytest.approx(math.pi * 12.0 * 8.0, rel=0.02)


def test_random_specs_cover_the_supported_range() -> None:
    rng = np.random.default_rng(1)
    specs = [random_spec(rng, i) for i in range(200)]
    diameters = [2 * s.semi_axes_mm[0] for s in specs]
    assert min(diameters) < 20.0
    assert max(diameters) > 90.0
    assert {s.necrosis for s in specs} == {"none", "core", "half"}
    assert {s.modality for s in specs} == {"CT", "MR"}
