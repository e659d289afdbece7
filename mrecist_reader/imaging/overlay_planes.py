"""DICOM overlay planes (groups 6000-601E): the bitmaps a scanner or PACS drew over an image.

Decoded by pydicom (``Dataset.overlay_array``); this module finds the planes, places
each at its origin (``OverlayOrigin``, 1-based) and merges them into one mask of the
image's size. Only the bitmap is used: an overlay's label and description are never
read out (a blinded read shows no text from the file). A plane that cannot be decoded
is skipped with a warning naming the file and the group, never a traceback.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.volume import SeriesInfo

if TYPE_CHECKING:  # pydicom is imported when a file is read (start-up time)
    from pydicom.dataset import Dataset

logger = logging.getLogger(__name__)

OVERLAY_GROUPS = tuple(range(0x6000, 0x6020, 2))
"""The 16 repeating groups an overlay plane may use."""
OVERLAY_DATA = 0x3000


@dataclass(frozen=True)
class OverlayPlane:
    """One overlay bitmap and where its top-left pixel sits on the image (0-based)."""

    group: int
    mask: npt.NDArray[np.bool_]
    origin: tuple[int, int]
    """(row, column) of the bitmap's first pixel on the image, 0-based."""


def overlay_groups(dataset: "Dataset") -> tuple[int, ...]:
    """Return the overlay groups of a dataset that carry overlay data."""
    return tuple(g for g in OVERLAY_GROUPS if (g, OVERLAY_DATA) in dataset)


def overlay_planes(
    dataset: "Dataset", frame: int = 0, where: str = ""
) -> list[OverlayPlane]:
    """Return the overlay planes of one image (``frame`` of a multi-frame file)."""
    planes: list[OverlayPlane] = []
    for group in overlay_groups(dataset):
        try:
            bitmap = np.asarray(dataset.overlay_array(group)).astype(bool)
            origin = (
                dataset[group, 0x0050].value if (group, 0x0050) in dataset else (1, 1)
            )
            row, col = (int(v) for v in origin)
            first = dataset[group, 0x0051].value if (group, 0x0051) in dataset else 1
            first_frame = int(first) - 1
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            logger.warning("%s: overlay group %04X skipped (%s)", where, group, error)
            continue
        if bitmap.ndim == 3:  # one bitmap per frame, from ImageFrameOrigin on
            index = frame - first_frame
            if not 0 <= index < bitmap.shape[0]:
                continue
            bitmap = bitmap[index]
        if bitmap.ndim != 2:
            logger.warning("%s: overlay group %04X is not a bitmap", where, group)
            continue
        planes.append(OverlayPlane(group, bitmap, (row - 1, col - 1)))
    return planes


_OVERLAY_DATA_TAGS = (
    re.compile(rb"[\x00-\x1e]\x60\x00\x30"),  # (60xx,3000) little endian
    re.compile(rb"\x60[\x00-\x1e]\x30\x00"),  # big endian
)
"""OverlayData's tag bytes, any even group 6000-601E."""
_PIXEL_DATA_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")
_DEFLATED = b"1.2.840.10008.1.2.1.99"
"""A deflated dataset's bytes hide its tags: such a file is always parsed."""


def may_have_planes(path: Path) -> bool:
    """Return whether a file's header bytes hold an overlay data tag.

    A quick test (a tenth of a millisecond) before parsing: the bytes before the pixel
    data are searched (up to the last pixel data tag), so a true answer may still be chance, a false one is certain
    (a deflated file is always said to maybe have planes). A file that cannot be read
    has no plane to draw.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if _DEFLATED in data[:4096]:
        return True
    # the pixel data's tag (a private element may hold the same bytes earlier on)
    found = [data.rfind(tag) for tag in _PIXEL_DATA_TAGS]
    head = data[: max((i for i in found if i >= 0), default=len(data))]
    return any(tag.search(head) is not None for tag in _OVERLAY_DATA_TAGS)


def read_overlay_planes(path: Path, frame: int = 0) -> list[OverlayPlane]:
    """Read a file's overlay planes (none if it has none or cannot be read)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
    except FileNotFoundError:  # moved since it was loaded: nothing to draw
        logger.debug("%s: gone, no overlay planes", path)
        return []
    except (OSError, InvalidDicomError, ValueError, EOFError) as error:
        logger.warning("%s: overlay planes not read (%s)", path, error)
        return []
    return overlay_planes(dataset, frame, str(path))


def overlay_mask(
    planes: list[OverlayPlane], shape: tuple[int, int]
) -> npt.NDArray[np.bool_] | None:
    """Return the planes merged at their origins into one ``shape`` mask (none: None)."""
    if not planes:
        return None
    mask = np.zeros(shape, dtype=bool)
    for plane in planes:
        top, left = plane.origin
        rows, cols = plane.mask.shape
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + rows, shape[0]), min(left + cols, shape[1])
        if r0 < r1 and c0 < c1:
            mask[r0:r1, c0:c1] |= plane.mask[r0 - top : r1 - top, c0 - left : c1 - left]
    return mask if mask.any() else None


class SeriesOverlays:
    """The overlay mask of each slice of a series, read from its file when first shown.

    A file is parsed only if its bytes hold an overlay data tag (:func:`may_have_planes`,
    a fraction of a millisecond), so a series without planes costs no header parsing
    while scrolling; each slice's mask is kept once read.
    """

    def __init__(
        self,
        files: tuple[Path, ...],
        frames: tuple[int, ...],
        slice_of_image: tuple[int, ...],
        shape: tuple[int, int],
    ) -> None:
        self._image_of_slice = {s: i for i, s in enumerate(slice_of_image)}
        self._files, self._frames, self._shape = files, frames, shape
        self._cache: dict[int, npt.NDArray[np.bool_] | None] = {}

    def mask(self, slice_index: int) -> npt.NDArray[np.bool_] | None:
        """Return slice ``slice_index``'s overlay mask (``None``: nothing to draw)."""
        if slice_index not in self._cache:
            image = self._image_of_slice.get(slice_index)
            planes: list[OverlayPlane] = []
            if image is not None and may_have_planes(self._files[image]):
                frame = self._frames[image] if image < len(self._frames) else 0
                planes = read_overlay_planes(self._files[image], frame)
            self._cache[slice_index] = overlay_mask(planes, self._shape)
        return self._cache[slice_index]


def series_overlays(series: SeriesInfo) -> SeriesOverlays:
    """Return the overlay masks of a scanned series (read from its files when asked)."""
    return SeriesOverlays(
        series.files,
        series.frames,
        series.volume_slice_of_image,
        (series.rows, series.columns),
    )
