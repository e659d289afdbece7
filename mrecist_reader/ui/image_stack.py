"""What a slice viewer shows: a stack of slices with its geometry, and window presets.

Pure helpers of :mod:`mrecist_reader.ui.slice_viewer` (no widget): the
:class:`ImageStack` a viewer scrolls through, the CT window presets, patient
orientation letters, reading order and the automatic window.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.overlay_planes import SeriesOverlays, series_overlays
from mrecist_reader.imaging.volume import SeriesInfo, Volume
from mrecist_reader.ui.windowing import kind_of, series_kind

if TYPE_CHECKING:  # imaging.load brings pydicom: imported when a series is opened
    from mrecist_reader.imaging.load import VolumeLoader


@dataclass(frozen=True, slots=True)
class WindowPreset:
    """A named window/level; ``None`` width means "from the image's percentiles"."""

    name: str
    width: float | None
    level: float | None
    key: str


CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("Liver", 150.0, 70.0, "1"),
    WindowPreset("Abdomen", 400.0, 40.0, "2"),
    WindowPreset("Bone", 1800.0, 400.0, "3"),
    WindowPreset("Auto", None, None, "4"),
)
"""Standard CT windows (HU); "Auto" spans the 1st-99th percentiles of the series."""


def gap_slices(series: SeriesInfo) -> frozenset[int]:
    """Return the volume slices of ``series`` that fill gaps (no image acquired there)."""
    return frozenset(
        k for k, uid in enumerate(series.slice_sop_instance_uids) if not uid
    )


@dataclass(eq=False)
class ImageStack:
    """What the viewer shows: a stack of slices with its geometry.

    ``get_slice(k)`` returns slice ``k`` as ``[row, column]`` (it may decode on demand for
    progressive loading); ``affine`` maps ``(slice, row, column)`` to patient mm.
    ``gaps`` are the slices that fill a gap where the series has no image.
    """

    shape: tuple[int, int, int]
    affine: npt.NDArray[np.float64]
    get_slice: Callable[[int], npt.NDArray[np.generic]]
    modality: str = "CT"
    caption: str = ""
    sample: npt.NDArray[np.generic] | None = field(default=None)
    gaps: frozenset[int] = frozenset()
    kind: str = ""
    """The series kind (modality and phase, :func:`~mrecist_reader.ui.windowing.series_kind`)
    whose window/level the viewer remembers; empty: the modality alone."""
    overlays: SeriesOverlays | None = None
    """The DICOM overlay planes (group 6000) of each slice, if the series has any."""

    @classmethod
    def from_volume(cls, volume: Volume, caption: str = "") -> "ImageStack":
        """Return a stack over a fully loaded volume."""
        array = volume.array
        return cls(
            shape=volume.shape,
            affine=volume.affine,
            get_slice=lambda k: array[k],
            modality=volume.series.modality,
            caption=caption,
            sample=array[:: max(1, array.shape[0] // 16), ::4, ::4],
            gaps=gap_slices(volume.series),
            kind=series_kind(volume.series),
            overlays=series_overlays(volume.series),
        )

    @classmethod
    def from_loader(cls, loader: "VolumeLoader", caption: str = "") -> "ImageStack":
        """Return a stack over a progressive loader (slices decoded on request).

        The affine is the header's until the volume is complete; the caller then swaps
        in :meth:`from_volume` with :meth:`SliceViewer.replace_stack`.
        """
        from mrecist_reader.imaging.load import series_affine

        series = loader.series
        return cls(
            shape=(series.n_slices, series.rows, series.columns),
            affine=series_affine(series),
            get_slice=loader.request_slice,
            modality=series.modality,
            caption=caption,
            gaps=gap_slices(series),
            kind=series_kind(series),
            overlays=series_overlays(series),
        )

    @property
    def window_kind(self) -> str:
        """Return the kind whose window/level this stack opens with and keeps."""
        return self.kind or kind_of(self.modality)

    @property
    def pixel_spacing_mm(self) -> tuple[float, float]:
        """Return (row spacing, column spacing) in mm."""
        return (
            float(np.linalg.norm(self.affine[:3, 1])),
            float(np.linalg.norm(self.affine[:3, 2])),
        )

    @property
    def is_ct(self) -> bool:
        """Return whether values are Hounsfield units."""
        return self.modality.upper() == "CT"


def orientation_letter(direction: npt.ArrayLike) -> str:
    """Return the patient direction letter of a vector in LPS patient space.

    The dominant axis decides: +x is the patient's left (L), +y posterior (P), +z head (H)
    and their opposites R, A, F.
    """
    vector = np.asarray(direction, dtype=np.float64)
    axis = int(np.argmax(np.abs(vector)))
    positive = vector[axis] >= 0
    return ("L", "P", "H")[axis] if positive else ("R", "A", "F")[axis]


def next_image_step(affine: npt.NDArray[np.float64]) -> int:
    """Return the slice-index step (+1 or -1) to the next image in reading order.

    Reading order is head to feet on an axial series, anterior to posterior on a
    coronal one and the patient's right to left on a sagittal one (LPS patient axes:
    towards -z, +y and +x), as in radiology viewers. ``affine[:3, 0]`` is the patient
    step of one slice index.
    """
    step = np.asarray(affine[:3, 0], dtype=np.float64)
    axis = int(np.argmax(np.abs(step)))
    towards = (1.0, 1.0, -1.0)[axis]  # +x (left), +y (posterior), -z (feet)
    return 1 if step[axis] * towards > 0 else -1


def auto_window(values: npt.NDArray[np.generic]) -> tuple[float, float]:
    """Return (width, level) spanning the 1st to 99th percentile of ``values``."""
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [1.0, 99.0])
    width = max(float(high - low), 1.0)
    return (width, float(low + high) / 2.0)
