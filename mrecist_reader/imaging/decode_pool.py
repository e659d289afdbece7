"""Compressed slices decoded in worker processes, because the codecs hold the GIL.

Measured (``benchmarks/scan_codec_gil.py``, and in the sources): pylibjpeg-openjpeg
calls OpenJPEG's ``Decode`` without releasing the GIL (its ``.pyx`` has no ``nogil``:
the decoder reads through Python file callbacks), CharLS (pyjpegls) likewise, and
python-gdcm's SWIG wrappers are not built to release it; pydicom's own work around a
decoder (parsing the header, finding the fragments) is pure Python. Threads therefore
decode JPEG 2000, JPEG-LS and RLE one at a time. Worker processes (one per core, started
once per application with ``forkserver`` and kept) each decode a whole slice to its
stored values and send them back (a 512 x 512 slice is 0.5 MB: well under a millisecond
of copying against 5-40 ms of decoding); the loader's threads rescale them into the
volume.

Processes are used only where they can start without side effects (the application's
entry points, ``python -m``, interactive sessions: see
:func:`mrecist_reader.imaging.scan._processes_can_start`) and for series of at least
:data:`MIN_SLICES` compressed slices; a slice the user asks for (``request_slice``) is
decoded at once in the asking thread, so the first image never waits for a process to
start. A worker that dies on a file (a decoder that aborts on hostile data) costs that
file only: it is reported as a :class:`VolumeLoadError` naming the file, never retried in
the application's own process, and a new pool is started for the next file.
"""

import logging
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy.typing as npt

from mrecist_reader.imaging.encoded import RecordedSlice, decode_recorded
from mrecist_reader.imaging.fastpath import _probe
from mrecist_reader.imaging.headers import quiet_pydicom
from mrecist_reader.imaging.pixels import VolumeLoadError, _decode_with_pydicom, _Pixels

logger = logging.getLogger(__name__)

__all__ = [
    "MIN_SLICES",
    "SLICES_PER_TASK",
    "decode_elsewhere",
    "decode_many_elsewhere",
    "processes_for",
]

MIN_SLICES = 16
"""Compressed series with fewer slices are decoded by threads alone."""

SLICES_PER_TASK = 8
"""Slices a worker process decodes per task: one round trip (and wake-up) for several."""

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def processes_for(n_compressed: int) -> bool:
    """Return whether ``n_compressed`` slices should be decoded by worker processes."""
    from mrecist_reader.imaging.scan import _processes_can_start

    cores = os.cpu_count() or 1
    return n_compressed >= MIN_SLICES and cores > 1 and _processes_can_start()


def _shared_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            import multiprocessing

            _pool = ProcessPoolExecutor(
                max_workers=os.cpu_count() or 1,
                mp_context=multiprocessing.get_context("forkserver"),
            )
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def decode_elsewhere(
    path: Path, frame: int, recorded: RecordedSlice | None = None
) -> tuple[_Pixels, npt.NDArray[Any] | None]:
    """Return one frame's description and stored values, decoded in a worker process.

    The stored values are None when the frame turns out to be uncompressed (read
    directly by the caller). A pool whose worker died is replaced and the frame tried
    once more: the file that killed it fails twice, a file decoded alongside does not.
    ``recorded``: the RLE fragment ``scan`` found (decoded without parsing the file).

    Raises
    ------
    VolumeLoadError
        When the frame cannot be decoded, or a worker died twice decoding it.

    """
    for attempt in range(2):
        pool = _shared_pool()
        try:
            return pool.submit(_decode_stored, path, frame, recorded).result()
        except BrokenProcessPool as error:
            _forget(pool)
            if attempt:
                logger.warning("a decoding process stopped on %s", path)
                raise VolumeLoadError(
                    f"{path}: the decoder stopped on this file (damaged or hostile "
                    "compressed pixel data): not loaded"
                ) from error
    raise AssertionError("unreachable")


def decode_many_elsewhere(
    slices: list[tuple[Path, int]],
    recorded: list[RecordedSlice | None] | None = None,
) -> list[tuple[_Pixels, npt.NDArray[Any] | None] | VolumeLoadError]:
    """Decode several frames in one worker task (one round trip for all of them).

    Each result is a frame's description and stored values, or the VolumeLoadError
    that frame raised. When the pool breaks, each frame is tried on its own with
    :func:`decode_elsewhere` (so that the file that breaks it is the one named).
    ``recorded``: each frame's RLE fragment found by ``scan``, or None.
    """
    found: list[RecordedSlice | None] = (
        recorded if recorded is not None else [None] * len(slices)
    )
    pool = _shared_pool()
    try:
        return pool.submit(_decode_many, slices, found).result()
    except BrokenProcessPool:
        _forget(pool)
    results: list[tuple[_Pixels, npt.NDArray[Any] | None] | VolumeLoadError] = []
    for (path, frame), known in zip(slices, found, strict=True):
        try:
            results.append(decode_elsewhere(path, frame, known))
        except VolumeLoadError as error:
            results.append(error)
    return results


def _decode_many(
    slices: list[tuple[Path, int]],
    recorded: list[RecordedSlice | None],
) -> list[tuple[_Pixels, npt.NDArray[Any] | None] | VolumeLoadError]:
    results: list[tuple[_Pixels, npt.NDArray[Any] | None] | VolumeLoadError] = []
    for (path, frame), known in zip(slices, recorded, strict=True):
        try:
            results.append(_decode_stored(path, frame, known))
        except VolumeLoadError as error:
            results.append(error)
    return results


def _decode_stored(
    path: Path, frame: int, recorded: RecordedSlice | None = None
) -> tuple[_Pixels, npt.NDArray[Any] | None]:
    """In a worker: describe one frame and decode its stored values (None if native)."""
    if recorded is not None:
        found = decode_recorded(path, recorded)
        if found is not None:
            return found
    quiet_pydicom()
    pixels = _probe(path, frame)[0]
    if pixels.offset is not None:
        return pixels, None
    return pixels, _decode_with_pydicom(pixels)
