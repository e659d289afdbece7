"""Does each lossless codec release the GIL? Decode frames in 1 thread, then 2 threads.

A codec that releases the GIL while decoding finishes the same frames in about half the
time with 2 threads on 2 cores (speed-up near 2); one that holds it gains nothing
(speed-up near 1), and only processes can use the other core. The 2-process figure is
measured too (a ``ProcessPoolExecutor`` decoding the same frames, each worker returning
its arrays). Every decoded frame is compared with the original values. Prints a table
and a last JSON line.

Run: ``.venv/bin/python benchmarks/scan_codec_gil.py``
"""

import functools
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np

SIZE, FRAMES, REPEATS = 512, 24, 5


def _phantom(k: int) -> np.ndarray:
    """Return a CT-like 512x512 int16 frame (body disc, organs, noise)."""
    rng = np.random.default_rng(k)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    image = np.full((SIZE, SIZE), -1000, dtype=np.int16)
    body = (yy - 256) ** 2 / 200**2 + (xx - 256) ** 2 / 230**2 < 1
    image[body] = 40
    liver = (yy - 230) ** 2 / 70**2 + (xx - 180) ** 2 / 90**2 < 1
    image[liver] = 60 + k % 7
    noise = rng.normal(0, 12, (SIZE, SIZE)).astype(np.int16)
    return np.where(body, image + noise, image).astype(np.int16)


def _encoders() -> dict[str, Callable[[np.ndarray], bytes]]:
    import jpeg_ls
    import openjpeg
    import rle

    def j2k(a: np.ndarray) -> bytes:
        return bytes(openjpeg.encode(a, use_mct=False))

    def rle_encode(a: np.ndarray) -> bytes:
        return bytes(rle.utils.encode_frame(a.tobytes(), SIZE, SIZE, 1, 16, "<"))

    def jls(a: np.ndarray) -> bytes:
        return bytes(jpeg_ls.encode_array(a.view(np.uint16)))

    return {"j2k": j2k, "rle": rle_encode, "jpeg-ls": jls}


def _decode_openjpeg(data: bytes) -> np.ndarray:
    import openjpeg

    return np.asarray(openjpeg.decode(data))


def _decode_rle(data: bytes) -> np.ndarray:
    import rle

    raw = rle.utils.decode_frame(data, SIZE * SIZE, 16, "<")
    return np.frombuffer(raw, dtype="<i2").reshape(SIZE, SIZE)


def _decode_jpegls(data: bytes) -> np.ndarray:
    import jpeg_ls

    return (
        np.asarray(jpeg_ls.decode_from_buffer(data)).view(np.int16).reshape(SIZE, SIZE)
    )


def _decode_imagecodecs(codec: str, data: bytes) -> np.ndarray:
    """Decode as the loader does (imagecodecs; mrecist_reader/imaging/encoded.py)."""
    import imagecodecs

    if codec == "j2k":
        return np.asarray(imagecodecs.jpeg2k_decode(data, numthreads=1))
    return np.asarray(imagecodecs.jpegls_decode(data)).view(np.int16)


_SYNTAX = {
    "j2k": "1.2.840.10008.1.2.4.90",
    "rle": "1.2.840.10008.1.2.5",
    "jpeg-ls": "1.2.840.10008.1.2.4.80",
}


def _as_file(codec: str, data: bytes) -> bytes:
    """Return a whole DICOM file (bytes) holding one encapsulated frame."""
    from io import BytesIO

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(_SYNTAX[codec])
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", "1.2.3"
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = encapsulate([data])
    ds["PixelData"].VR = "OB"
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _pydicom_decode(plugin: str, data: bytes) -> np.ndarray:
    from io import BytesIO

    from pydicom.pixels import pixel_array

    return np.asarray(pixel_array(BytesIO(data), decoding_plugin=plugin))


def _via_pydicom(plugin: str) -> Callable[[bytes], np.ndarray]:
    return functools.partial(_pydicom_decode, plugin)


DECODERS: dict[str, tuple[str, bool, Callable[[bytes], np.ndarray]]] = {
    "j2k openjpeg (bare codec)": ("j2k", False, _decode_openjpeg),
    "j2k imagecodecs (loader)": (
        "j2k",
        False,
        functools.partial(_decode_imagecodecs, "j2k"),
    ),
    "j2k pydicom+pylibjpeg": ("j2k", True, _via_pydicom("pylibjpeg")),
    "j2k pydicom+gdcm": ("j2k", True, _via_pydicom("gdcm")),
    "rle pylibjpeg-rle (bare)": ("rle", False, _decode_rle),
    "rle pydicom+pylibjpeg": ("rle", True, _via_pydicom("pylibjpeg")),
    "rle pydicom+gdcm": ("rle", True, _via_pydicom("gdcm")),
    "jpeg-ls CharLS (bare)": ("jpeg-ls", False, _decode_jpegls),
    "jpeg-ls imagecodecs (loader)": (
        "jpeg-ls",
        False,
        functools.partial(_decode_imagecodecs, "jpeg-ls"),
    ),
    "jpeg-ls pydicom+pyjpegls": ("jpeg-ls", True, _via_pydicom("pyjpegls")),
    "jpeg-ls pydicom+gdcm": ("jpeg-ls", True, _via_pydicom("gdcm")),
}


def _decode_all(
    decode: Callable[[bytes], np.ndarray], frames: list[bytes]
) -> list[np.ndarray]:
    return [decode(f) for f in frames]


def _time(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _halves(frames: list[bytes]) -> list[list[bytes]]:
    return [frames[0::2], frames[1::2]]


def _measure(
    decode: Callable[[bytes], np.ndarray],
    frames: list[bytes],
    threads: ThreadPoolExecutor,
    processes: ProcessPoolExecutor,
) -> dict[str, float]:
    """Time one thread, two threads and two processes, alternated; return ratios."""
    halves = _halves(frames)
    runs: dict[str, Callable[[], Any]] = {
        "one": lambda: _decode_all(decode, frames),
        "threads": lambda: list(threads.map(_decode_all, [decode] * 2, halves)),
        "processes": lambda: list(processes.map(_decode_all, [decode] * 2, halves)),
    }
    runs["processes"]()  # warm the workers' imports
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(REPEATS):  # contenders alternated within each repeat
        for name, run in runs.items():
            times[name].append(_time(run))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "ms_per_frame": 1000 * med["one"] / len(frames),
        "threads_speedup": med["one"] / med["threads"],
        "processes_speedup": med["one"] / med["processes"],
        "gil_free": _gil_free_fraction(decode, frames[0]),
    }


def _spin_rate(work: Callable[[], Any], seconds: float = 0.3) -> float:
    """Return how fast a pure-Python counter thread counts while ``work`` repeats."""
    stop = threading.Event()
    count = [0]

    def spin() -> None:
        n = 0
        while not stop.is_set():
            n += 1
        count[0] = n

    thread = threading.Thread(target=spin)
    thread.start()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
    elapsed = time.perf_counter() - start
    stop.set()
    thread.join()
    return count[0] / elapsed


def _gil_free_fraction(decode: Callable[[bytes], np.ndarray], frame: bytes) -> float:
    """Return how freely Python runs in another thread during decoding, 0..~1.

    A pure-Python counter counts while the main thread decodes, then while it runs a
    C loop that releases the GIL (``time.sleep``). Near 0: the decoder holds the GIL
    (the other thread waits for it); near 1: it releases it. Less sensitive to other
    load than the speed-ups, which need two free cores.
    """
    released = _spin_rate(lambda: time.sleep(0.002))
    return _spin_rate(lambda: decode(frame)) / released


def main() -> int:
    """Encode, then decode each codec's frames alternately; print the table and JSON."""
    originals = [_phantom(k) for k in range(FRAMES)]
    encoded = {name: [enc(a) for a in originals] for name, enc in _encoders().items()}
    results: dict[str, dict[str, float]] = {}
    with ThreadPoolExecutor(2) as threads, ProcessPoolExecutor(2) as processes:
        for name, (codec, as_file, decode) in DECODERS.items():
            frames = encoded[codec]
            if as_file:
                frames = [_as_file(codec, f) for f in frames]
            try:
                decoded = _decode_all(decode, frames)
            except (ValueError, RuntimeError, NotImplementedError) as error:
                print(f"{name}: not measured ({error})")  # no such plugin here
                continue
            same = all(
                np.array_equal(d, o) for d, o in zip(decoded, originals, strict=True)
            )
            if not same:
                print(f"{name}: decoded values differ from the originals")
                continue
            results[name] = _measure(decode, frames, threads, processes)
    print(
        f"{'decoder':28} {'ms/frame':>9} {'2 threads':>10} {'2 processes':>12} "
        f"{'GIL free':>9}  ({FRAMES} frames, median of {REPEATS}, alternated)"
    )
    for name, r in results.items():
        print(
            f"{name:28} {r['ms_per_frame']:9.2f} {r['threads_speedup']:9.2f}x "
            f"{r['processes_speedup']:11.2f}x {r['gil_free']:9.2f}"
        )
    print(
        json.dumps(
            {n: {k: round(v, 3) for k, v in r.items()} for n, r in results.items()}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
