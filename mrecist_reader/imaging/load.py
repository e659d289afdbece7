"""Decode a scanned series into a :class:`Volume` (modality LUT applied, CT in HU).

Three ways to read a slice:

- **Fast path** (little-endian uncompressed, MONOCHROME2, no Modality LUT Sequence): a
  small header walker finds the Pixel Data offset and the rescale tags of the first
  file; the other files are checked against that layout (each element found at its
  offset or a few bytes away, so no walk) and their bytes are read straight into the
  preallocated output array (``readinto``), then rescaled in place. No pydicom parse,
  no intermediate copy. Native enhanced multi-frame files read each frame at its
  offset after one pydicom header parse.
- **Recorded fragments** (single-frame RLE Lossless, JPEG 2000, JPEG-LS and JPEG
  Lossless images whose fragments ``scan`` recorded): the bytes are read with one
  ``pread`` and decoded without parsing a header (pylibjpeg-rle; imagecodecs for the
  others, values brought to pydicom's: :mod:`~mrecist_reader.imaging.encoded`).
- **pydicom path** (everything else: compressed images not recorded, deflate, big
  endian, files without preamble, enhanced multi-frame CT/MR with per-frame functional
  groups, Modality LUT Sequence), their frames decoded by imagecodecs where it can (see
  below), otherwise by the pylibjpeg plugins (a multi-frame file is
  decoded in chunks of frames with one header parse each, ``iter_pixels``), and GDCM
  (python-gdcm) directly for what pydicom's plugins cannot decode (12-bit JPEG
  Extended).

Slices are decoded by a thread pool of one thread per core, the requested slice first
(``request_slice``, in the asking thread). Uncompressed slices are read by these threads
(file reads release the GIL), and so are compressed slices: imagecodecs' decoders
release the GIL (``benchmarks/scan_codec_gil.py``), so a JPEG 2000 series is decoded on
every core with no worker process (measured against the process pool this replaced:
``benchmarks/load_series.py``). Single-frame monochrome JPEG 2000, JPEG-LS and JPEG
Lossless images ``scan`` did not record are parsed with pydicom, then decoded by
imagecodecs too (:func:`~mrecist_reader.imaging.encoded.decode_parsed`). The other
decoders (pydicom with pylibjpeg, python-gdcm) hold the GIL: colour, multi-frame and RLE
images that were not recorded decode on one core at a time.

Output dtype: the stored integer dtype when the rescale is the identity;
int16 when slope and intercept are integers and the values fit (checked per slice when
the BitsStored range alone does not prove it; int32 otherwise); float32 for non-integer
rescales. Never a float64 copy of the whole volume.

The affine comes from the slice positions (first to last, divided by ``n - 1``), so gantry
tilt shears the volume correctly. A series with several images per position (4-D) or with
duplicate positions is refused with :class:`VolumeLoadError`, and so is a geometry that
gives no finite, invertible affine (a zero PixelSpacing or slice step, zero or parallel
orientation vectors in a hand-made series). A series with non-uniform
spacing or missing slices loads with that mean step (its ``warnings`` say so: distances
across slices are then approximate; in-plane measurements are exact).

Modules: :mod:`~mrecist_reader.imaging.fastpath` (uncompressed files without pydicom),
:mod:`~mrecist_reader.imaging.pixels` (decoding, dtype planning, rescale), this module
(the thread-pool loader), :func:`~mrecist_reader.imaging.geometry.series_affine` (the
affine).
"""

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import (
    MrecistError,
)
from mrecist_reader.imaging.encoded import (
    RecordedSlice,
    decode_parsed,
    decode_recorded,
)
from mrecist_reader.imaging.fastpath import (
    _probe,
    _read_recorded,
    _read_with_layout,
)
from mrecist_reader.imaging.files import open_regular
from mrecist_reader.imaging.geometry import (
    series_affine,
)
from mrecist_reader.imaging.headers import (
    quiet_pydicom,
)
from mrecist_reader.imaging.pixels import (
    VolumeLoadError,
    _decode_slice,
    _fits,
    _output_dtype,
    _Pixels,
    _pixels_from_dataset,
    _read_header_dataset,
    _rescale_into,
    _TooWide,
    _value_range,
    _wide_dtype,
    as_grey,
    without_gdcm_plugin,
)
from mrecist_reader.imaging.volume import (
    SeriesInfo,
    Volume,
)

logger = logging.getLogger(__name__)
_REFUSED = ("4-D series", "duplicate positions", "at one position")


__all__ = [
    "VolumeLoadError",
    "VolumeLoader",
    "load_volume",
    "open_volume",
    "series_affine",  # moved to geometry; kept importable here
]


FRAMES_PER_TASK = 16
"""Frames of one multi-frame file decoded per task (one header parse each)."""


# ---------------------------------------------------------------- loader


def _check_loadable(series: SeriesInfo) -> None:
    if not series.files:
        raise VolumeLoadError(f"series {series.series_instance_uid} has no images")
    for warning in series.warnings:
        if any(marker in warning for marker in _REFUSED):
            raise VolumeLoadError(
                f"{series.files[0].parent}: series {series.series_description!r} "
                f"cannot be loaded as one volume: {warning}"
            )


class VolumeLoader:
    """Progressive loading of one series; see :func:`open_volume`.

    Slices are decoded in the background by a thread pool; :meth:`request_slice` decodes
    a slice at once in the calling thread when no worker has it yet.
    """

    def __init__(self, series: SeriesInfo, *, workers: int | None = None) -> None:
        _check_loadable(series)
        quiet_pydicom()
        self.series = series
        count = len(series.files)
        self._lock = threading.Lock()
        self._decoded = threading.Condition(self._lock)  # a slice's state became 2
        self._state = [0] * count  # 0 pending, 1 decoding, 2 done
        known = series.slice_positions_mm
        self._positions: list[tuple[float, float, float] | None] = (
            list(known) if len(known) == count else [None] * count
        )
        self._native = (
            series.native_slices if len(series.native_slices) == count else ()
        )
        self._recorded = _recorded_slices(series, self._positions)
        self._promoted: dict[int, npt.NDArray[Any]] = {}
        self._errors: list[tuple[int, Exception]] = []
        self._cancelled = threading.Event()
        self._done = 0
        first, self._layout = _probe(series.files[0], series.frames[0])
        if (first.rows, first.columns) != (series.rows, series.columns):
            raise VolumeLoadError(
                f"{first.path}: image size {first.columns}x{first.rows} differs from "
                f"the series' {series.columns}x{series.rows} (the file changed since "
                "the scan?)"
            )
        self._dtype = _output_dtype(first)
        try:
            self._array: npt.NDArray[Any] = np.empty(
                (series.n_slices, series.rows, series.columns), dtype=self._dtype
            )
        except MemoryError as error:
            raise VolumeLoadError(
                f"{series.files[0].parent}: not enough memory for a "
                f"{series.columns}x{series.rows}x{series.n_slices} volume"
            ) from error
        self._slot = series.volume_slice_of_image  # volume slice of each image
        self._image_at = {slot: k for k, slot in enumerate(self._slot)}
        self._fill_gaps(first)
        self._first = first
        self._groups = _multi_frame_groups(series)
        self._stored: set[int] = set()
        n_workers = max(1, workers or min(count, os.cpu_count() or 1))
        # each worker starts on its own stretch of the series: neighbouring slices
        # share memory pages, and two threads faulting in one page wait on each other
        self._cursors = [worker * count // n_workers for worker in range(n_workers)]
        self._pool = ThreadPoolExecutor(max_workers=n_workers)
        self._futures: list[Future[None]] = [
            self._pool.submit(self._work, worker) for worker in range(n_workers)
        ]
        self._pool.shutdown(wait=False)

    @property
    def progress(self) -> float:
        """Return the fraction of slices decoded, 0..1."""
        return self._done / len(self._state)

    def _claim(self, index: int, *, group: bool = True) -> tuple[int, ...]:
        """Mark ``index`` (and, with ``group``, its multi-frame chunk) as taken.

        Call with the lock held; returns () when ``index`` is already taken.
        """
        if self._state[index] != 0:
            return ()
        members = self._groups.get(index, (index,)) if group else (index,)
        claimed = tuple(i for i in members if self._state[i] == 0)
        for i in claimed:
            self._state[i] = 1
        return claimed

    def _claim_next(self, worker: int) -> tuple[int, ...]:
        """Claim the next free slice from ``worker``'s cursor; then help with the rest."""
        count = len(self._state)
        with self._lock:
            for _ in range(2):  # own stretch and beyond, then from the start
                cursor = self._cursors[worker]
                while cursor < count and self._state[cursor] != 0:
                    cursor += 1
                self._cursors[worker] = cursor
                if cursor < count:
                    return self._claim(cursor)
                self._cursors[worker] = 0
            return ()

    def _work(self, worker: int) -> None:
        while not self._cancelled.is_set() and not self._errors:
            indices = self._claim_next(worker)
            if not indices:
                return
            self._run(indices)

    def _run(self, indices: tuple[int, ...]) -> None:
        try:
            if len(indices) == 1:
                self._decode(indices[0])
            else:
                self._decode_frames(indices)
        except Exception as error:
            logger.debug(
                "slices %s of %s failed",
                indices,
                self.series.series_instance_uid,
                exc_info=True,
            )
            with self._lock:
                self._errors.append((indices[0], error))
        finally:
            with self._lock:
                for index in indices:
                    self._state[index] = 2
                self._done += len(indices)
                self._decoded.notify_all()

    def _decode_frames(self, indices: tuple[int, ...]) -> None:
        """Decode several frames of one multi-frame file, parsing its header once."""
        from pydicom.pixels.utils import iter_pixels
        from pydicom.uid import UID

        path = self.series.files[indices[0]]
        by_frame = sorted(indices, key=lambda i: self.series.frames[i])
        frames = [self.series.frames[i] for i in by_frame]
        header = _read_header_dataset(path)
        described = [_pixels_from_dataset(header, path, f) for f in frames]
        if described[0].offset is not None:  # native: read frame by frame, no decoder
            for index in by_frame:
                self._decode(index)
            return
        options: dict[str, Any] = {}
        if not described[0].has_meta:
            options["transfer_syntax_uid"] = UID(described[0].syntax)
        without_gdcm_plugin()  # GDCM aborts the process on hostile frames
        try:
            with open_regular(path) as stream:
                decoded = iter_pixels(stream, indices=frames, **options)
                for index, pixels, stored in zip(
                    by_frame, described, decoded, strict=True
                ):
                    self._store(index, pixels, as_grey(stored, pixels.samples))
        except (RuntimeError, NotImplementedError, ValueError, TypeError, OSError):
            logger.debug("frame-by-frame decoding of %s", path, exc_info=True)
            for index in by_frame:
                if index not in self._stored:
                    self._decode(index)

    def _store(self, index: int, pixels: _Pixels, stored: npt.NDArray[Any]) -> None:
        """Rescale decoded stored values of slice ``index`` into the volume."""
        self._positions[index] = pixels.position
        if stored.shape != (self.series.rows, self.series.columns):
            raise VolumeLoadError(
                f"{pixels.path}: frame {pixels.frame} has shape {stored.shape}, "
                f"expected {(self.series.rows, self.series.columns)} (mixed sizes)"
            )
        try:
            if _fits(pixels, self._dtype):
                _rescale_into(stored, self._array[self._slot[index]], pixels)
                self._stored.add(index)
                return
        except _TooWide:
            logger.debug("slice %d needs a wider dtype than %s", index, self._dtype)
        wide = np.empty(stored.shape, dtype=_wide_dtype(pixels))
        _rescale_into(stored, wide, pixels)
        self._promoted[index] = wide
        self._stored.add(index)

    def _decode(self, index: int) -> None:
        path, frame = self.series.files[index], self.series.frames[index]
        try:
            if self._decode_into_volume(index, path, frame):
                return
        except _TooWide:
            logger.debug("slice %d needs a wider dtype than %s", index, self._dtype)
        pixels = self._first if index == 0 else _probe(path, frame)[0]
        self._positions[index] = pixels.position
        wide = np.empty(
            (self.series.rows, self.series.columns), dtype=_wide_dtype(pixels)
        )
        _decode_slice(pixels, wide)
        self._promoted[index] = wide

    def _decode_into_volume(self, index: int, path: Path, frame: int) -> bool:
        """Decode slice ``index`` into the volume's array; False if its dtype is too small."""
        as_scanned = self._read_as_scanned(index, path)
        if as_scanned is not None:
            return as_scanned
        if index and self._layout is not None:
            try:
                done = _read_with_layout(
                    path, frame, self._layout, self._array[self._slot[index]]
                )
            except OSError as error:
                raise VolumeLoadError(
                    f"{path}: cannot read the file: {error}"
                ) from error
            if done is not None:
                self._positions[index] = done.position
                return True
        pixels = self._first if index == 0 else _probe(path, frame)[0]
        self._positions[index] = pixels.position
        if not _fits(pixels, self._dtype):
            return False
        if pixels.offset is None:  # compressed: imagecodecs when it can, GIL released
            stored = decode_parsed(pixels)
            if stored is not None:
                return self._rescale_decoded(index, pixels, stored)
        _decode_slice(pixels, self._array[self._slot[index]])
        return True

    def _read_as_scanned(self, index: int, path: Path) -> bool | None:
        """Read slice ``index`` where ``scan`` recorded it; None if not recorded.

        Native values are read straight into the volume; recorded fragments are decoded
        here. None also when the file changed since the scan (parsed again). False: the
        volume's dtype is too small for the slice.
        """
        native = self._native[index] if self._native else None
        if native is not None:
            try:
                if _read_recorded(path, native, self._array[self._slot[index]]):
                    return True
            except OSError as error:
                raise VolumeLoadError(
                    f"{path}: cannot read the file: {error}"
                ) from error
        recorded = self._recorded[index] if self._recorded else None
        if recorded is not None:
            found = decode_recorded(path, recorded)
            if found is not None:
                return self._rescale_decoded(index, *found)
        return None

    def _rescale_decoded(
        self, index: int, pixels: _Pixels, stored: npt.NDArray[Any]
    ) -> bool:
        """Put decoded stored values into the volume; False if its dtype is too small."""
        self._positions[index] = pixels.position
        if not _fits(pixels, self._dtype):
            return False
        target = self._array[self._slot[index]]
        if stored.shape != target.shape:
            raise VolumeLoadError(
                f"{pixels.path}: decoded frame has shape {stored.shape}, expected "
                f"{target.shape}"
            )
        try:
            _rescale_into(stored, target, pixels)
        except _TooWide:
            return False
        return True

    def request_slice(self, index: int) -> npt.NDArray[Any]:
        """Return volume slice ``index`` (modality values), decoding it now if needed.

        A slice that fills a gap of missing images is blank (the lowest value).

        Raises
        ------
        VolumeLoadError
            When the slice cannot be decoded.
        IndexError
            When ``index`` is outside the volume.

        """
        if not 0 <= index < len(self._array):
            raise IndexError(f"slice {index} outside 0..{len(self._array) - 1}")
        image = self._image_at.get(index)
        if image is None:
            blank: npt.NDArray[Any] = self._array[index]
            return blank
        with self._lock:
            claimed = self._claim(image, group=False)  # this image only: show it now
        if claimed:
            self._run(claimed)
        with self._lock:
            while self._state[image] != 2:
                self._decoded.wait()
        self._raise_errors()
        promoted = self._promoted.get(image)
        return promoted if promoted is not None else self._array[index]

    def _fill_gaps(self, first: _Pixels) -> None:
        """Give the volume slices that no image fills the lowest possible value."""
        gaps = sorted(set(range(len(self._array))) - set(self._slot))
        if not gaps:
            return
        low, _high = _value_range(first)
        if self.series.modality.upper() == "CT":
            low = max(low, -1024.0)  # air: blank in any CT window
        if self._dtype.kind in "iu":
            info = np.iinfo(self._dtype)
            low = min(max(low, info.min), info.max)
        self._array[gaps] = low

    def cancel(self) -> None:
        """Stop decoding; slices already decoded stay available."""
        self._cancelled.set()

    def wait(self) -> Volume:
        """Wait for every slice and return the volume.

        Raises
        ------
        VolumeLoadError
            When a slice cannot be decoded or loading was cancelled.

        """
        for future in self._futures:
            future.exception()
        self._raise_errors()
        if self._cancelled.is_set() and self._done < len(self._state):
            raise VolumeLoadError(
                f"loading of series {self.series.series_description!r} was cancelled"
            )
        array = self._array
        if self._promoted:
            wide = np.result_type(
                self._array.dtype, *(v.dtype for v in self._promoted.values())
            )
            array = self._array.astype(wide)
            for index, values in self._promoted.items():
                array[self._slot[index]] = values
        return Volume(
            array=array,
            affine=_checked_affine(self.series, self._positions),
            sop_instance_uids=self.series.slice_sop_instance_uids,
            series=self.series,
        )

    def _raise_errors(self) -> None:
        if not self._errors:
            return
        index, error = self._errors[0]
        if isinstance(error, MrecistError):
            raise error
        raise VolumeLoadError(
            f"{self.series.files[index]}: cannot load this image: {error}"
        ) from error


def _recorded_slices(
    series: SeriesInfo, positions: list[tuple[float, float, float] | None]
) -> tuple[RecordedSlice | None, ...]:
    """Return each image's RLE fragment recorded by ``scan`` (empty: none recorded)."""
    if len(series.encoded_slices) != len(series.files):
        return ()
    return tuple(
        None
        if encoded is None
        else RecordedSlice(encoded, series.rows, series.columns, positions[k])
        for k, encoded in enumerate(series.encoded_slices)
    )


def _checked_affine(
    series: SeriesInfo, positions: list[tuple[float, float, float] | None]
) -> npt.NDArray[np.float64]:
    """Return the series' affine; refuse one that is not finite or not invertible.

    A zero or negative PixelSpacing, a zero slice step or zero or parallel orientation
    vectors (a hand-made or damaged series) would give a volume without a size:
    distances of 0 mm, or NaN, and no way back from millimetres to voxels.
    """
    with np.errstate(all="ignore"):
        affine = series_affine(series, positions)
        determinant = float(np.linalg.det(affine[:3, :3]))
    if not np.all(np.isfinite(affine)) or abs(determinant) < 1e-9:
        raise VolumeLoadError(
            f"{series.files[0].parent}: series {series.series_description!r} has no "
            f"usable geometry (PixelSpacing {series.pixel_spacing_mm}, orientation "
            f"{series.image_orientation}, slice spacing {series.slice_spacing_mm}): "
            "distances could not be measured"
        )
    return affine


def _multi_frame_groups(
    series: SeriesInfo, *, chunk: int = FRAMES_PER_TASK
) -> dict[int, tuple[int, ...]]:
    """Map each slice of a multi-slice file to its chunk of that file's slices.

    A worker decodes a chunk with one header parse (``iter_pixels``); chunks let both
    workers share a single-file enhanced series.
    """
    by_file: dict[Path, list[int]] = {}
    for index, path in enumerate(series.files):
        by_file.setdefault(path, []).append(index)
    groups: dict[int, tuple[int, ...]] = {}
    for indices in by_file.values():
        if len(indices) < 2:
            continue
        ordered = sorted(indices, key=lambda i: series.frames[i])
        for start in range(0, len(ordered), chunk):
            members = tuple(ordered[start : start + chunk])
            groups.update(dict.fromkeys(members, members))
    return groups


def open_volume(series: SeriesInfo, *, workers: int | None = None) -> VolumeLoader:
    """Start loading ``series`` in the background and return the loader.

    Parameters
    ----------
    series
        A stack found by ``scan``.
    workers
        Decoding threads (default: one per CPU core).

    Returns
    -------
    VolumeLoader
        ``request_slice(k)`` decodes slice ``k`` first; ``wait()`` returns the Volume.

    Raises
    ------
    VolumeLoadError
        When the series cannot be a volume (4-D, duplicate positions) or its first image
        cannot be read.

    """
    return VolumeLoader(series, workers=workers)


def load_volume(series: SeriesInfo, *, workers: int | None = None) -> Volume:
    """Decode every slice of ``series`` and return the volume (modality LUT applied).

    Parameters
    ----------
    series
        A stack found by ``scan``.
    workers
        Decoding threads (default: one per CPU core).

    Returns
    -------
    Volume
        ``array[slice, row, column]`` in modality units (CT: HU), the affine from the
        slice positions, and the SOP Instance UID of each slice.

    Raises
    ------
    VolumeLoadError
        Naming the file and the reason (undecodable syntax, mixed sizes, 4-D series...).

    """
    return open_volume(series, workers=workers).wait()
