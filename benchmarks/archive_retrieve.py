"""Benchmark: a 300-image series by WADO-RS from a local Orthanc, ours vs curl.

Run by ``make bench`` (never by the tests); skipped (exit 0, with the reason) where
Orthanc cannot run (see ``tests/archive/orthanc.py``). It writes a 512x512x300 CT
series (uncompressed, 150 MB) with the test kit's DICOM writer, starts Orthanc in a
network namespace of its own (loopback only), uploads the series, then times,
**alternating the contenders** within each repeat after one warm-up round:

- ``curl``: the same WADO-RS URL and Accept header (``multipart/related;
  type="application/dicom"; transfer-syntax=*``), the response written to one file:
  the rate nothing that writes the images can beat;
- ``ours``: :meth:`DicomwebArchive.retrieve` into an empty :class:`LocalStore` (one
  file per image, each written as its part arrives); also the time to its first
  image on disk, and to that image **decoded and ready to show**: the window's own
  path, the :class:`~mrecist_reader.desk.archive_arrival.ArrivalWatch` told each
  file written and the first one decoded in another thread as the window does
  (:func:`~mrecist_reader.desk.archive_arrival.decode_arrived`), while the rest
  arrives (the issue's "first image on screen before the whole series has arrived");
- ``decoded``: what it did before (dicomweb-client's ``iter_series``: each part
  decoded into a pydicom Dataset, then encoded again and written).

Each figure is the median over the repeats, with its spread (lowest-highest); the
ratio is ours' rate over curl's (target, issue 19: >= 0.5). Every image must arrive
each time. The last line printed is JSON.
"""

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dicomweb_client.api import DICOMwebClient  # noqa: E402
from pydicom import dcmwrite  # noqa: E402

from mrecist_reader.archive.dicomweb import (  # noqa: E402
    AS_STORED,
    SERIES_ACCEPT,
    DicomwebArchive,
    session_for,
)
from mrecist_reader.archive.nodes import DicomwebNode  # noqa: E402
from mrecist_reader.archive.records import InstanceRecord, SeriesRecord  # noqa: E402
from mrecist_reader.archive.store import LocalStore  # noqa: E402
from mrecist_reader.desk.archive_arrival import (  # noqa: E402
    ArrivalWatch,
    Arriving,
    decode_arrived,
)
from tests.archive import orthanc as o  # noqa: E402
from tests.kit.dicom import SeriesSpec, write_series  # noqa: E402

SLICES = 300
SIZE = 512
TARGET = 0.5


def main() -> int:
    """Run the benchmark; print the figures and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slices", type=int, default=SLICES)
    args = parser.parse_args()
    reason = o.unavailable_reason()
    if reason is not None:
        print(f"skipped: {reason}")
        return 0
    if shutil.which("curl") is None:
        print("skipped: curl is not installed")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_archive_") as temporary:
        work = Path(temporary)
        spec = SeriesSpec(n_slices=args.slices, rows=SIZE, columns=SIZE, shuffle=False)
        files = write_series(work / "series", spec)
        total_bytes = sum(path.stat().st_size for path in files)
        server = o.start(work / "orthanc")
        orthanc = next(server)
        try:
            orthanc.upload(files)
            return orthanc.in_namespace(
                lambda: run(orthanc, spec, work, args.repeats, len(files), total_bytes)
            )
        finally:
            for _ in server:
                pass


class Ours:
    """Our retrieval into an empty store, timing its first image on disk and shown."""

    def __init__(
        self,
        archive: DicomwebArchive,
        wanted: list[InstanceRecord],
        series: SeriesRecord,
        fresh: Callable[[], Path],
    ) -> None:
        self.archive = archive
        self.wanted = wanted
        self.series = series
        self.fresh = fresh
        self.firsts: list[float] = []
        self.shown: list[float] = []

    def __call__(self) -> float:
        """Retrieve the series once; return the seconds it took."""
        count = len(self.wanted)
        target = self.fresh()
        arrived: list[float] = []
        decoded: list[float] = []
        decoders: list[threading.Thread] = []

        def decode(arriving: Arriving) -> None:
            image = decode_arrived(arriving.files[0])
            assert image.array.shape == (SIZE, SIZE)
            decoded.append(time.perf_counter())

        def decode_first(arriving: Arriving) -> None:
            if not decoders:  # the window decodes the first image off its thread
                decoders.append(threading.Thread(target=decode, args=(arriving,)))
                decoders[0].start()

        store = LocalStore(target)
        watch = ArrivalWatch(store, decode_first)
        watch.plan(((self.series, count),))

        def written(path: Path) -> None:
            arrived.append(time.perf_counter())
            watch.image(path)

        store.on_write = written
        start = time.perf_counter()
        self.archive.retrieve(self.wanted, store)
        elapsed = time.perf_counter() - start
        decoders[0].join()
        assert len(arrived) == count, f"{len(arrived)} of {count} images arrived"
        self.firsts.append(arrived[0] - start)
        self.shown.append(decoded[0] - start)
        assert decoded[0] < arrived[-1], "the first image was not ready before the last"
        shutil.rmtree(target)
        return elapsed


def run(
    orthanc: o.Orthanc,
    spec: SeriesSpec,
    work: Path,
    repeats: int,
    count: int,
    total_bytes: int,
) -> int:
    """Time the contenders inside Orthanc's namespace."""
    node = DicomwebNode(
        orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
    )
    archive = DicomwebArchive(node)
    series = SeriesRecord(spec.study_uid, spec.series_uid, "CT", "", None, count)
    wanted = archive.find_instances(series)
    assert len(wanted) == count, f"Orthanc lists {len(wanted)} of {count} images"
    url = f"{orthanc.dicomweb_url}/studies/{spec.study_uid}/series/{spec.series_uid}"
    rounds = 0

    def fresh(name: str) -> Path:
        nonlocal rounds
        rounds += 1
        folder = work / f"{name}_{rounds}"
        return folder

    def curl() -> float:
        target = fresh("curl")
        target.mkdir()
        start = time.perf_counter()
        subprocess.run(
            [
                "curl",
                "--silent",
                "--fail",
                "--user",
                f"{o.USER}:{o.PASSWORD}",
                "--header",
                f"Accept: {SERIES_ACCEPT}",
                "--output",
                str(target / "series.multipart"),
                url,
            ],
            check=True,
        )
        elapsed = time.perf_counter() - start
        shutil.rmtree(target)
        return elapsed

    ours = Ours(archive, wanted, series, lambda: fresh("ours"))
    firsts, shown = ours.firsts, ours.shown

    client = DICOMwebClient(orthanc.dicomweb_url, session=session_for(node))

    def decoded() -> float:
        target = fresh("decoded")
        store = LocalStore(target)
        start = time.perf_counter()
        written = 0
        for dataset in client.iter_series(
            spec.study_uid, spec.series_uid, media_types=AS_STORED
        ):
            buffer = io.BytesIO()
            dcmwrite(buffer, dataset, enforce_file_format=True)
            store.write(
                spec.study_uid,
                spec.series_uid,
                str(dataset.SOPInstanceUID),
                buffer.getvalue(),
            )
            written += 1
        elapsed = time.perf_counter() - start
        assert written == count
        shutil.rmtree(target)
        return elapsed

    contenders: dict[str, Callable[[], float]] = {
        "curl": curl,
        "ours": ours,
        "decoded": decoded,
    }
    for contender in contenders.values():  # warm-up: Orthanc's and the page cache
        contender()
    firsts.clear()
    shown.clear()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, contender in contenders.items():
            times[name].append(contender())
    mb = total_bytes / 1e6
    for name, values in times.items():
        print(
            f"{name:8} {median(values):6.3f} s ({min(values):.3f}-{max(values):.3f}) "
            f"{mb / median(values):7.1f} MB/s"
        )
    ratio = median(times["curl"]) / median(times["ours"])
    per_round = [c / u for c, u in zip(times["curl"], times["ours"], strict=True)]
    before = median(times["curl"]) / median(times["decoded"])
    print(
        f"ours / curl rate: {ratio:.2f} (rounds {min(per_round):.2f}-"
        f"{max(per_round):.2f}; target >= {TARGET}); before (decoded): {before:.2f}"
    )
    print(
        f"first image on disk after {median(firsts):.3f} s, decoded and ready to "
        f"show after {median(shown):.3f} s ({min(shown):.3f}-{max(shown):.3f}); "
        f"whole series {median(times['ours']):.3f} s, curl {median(times['curl']):.3f}"
        f" s: shown at {median(shown) / median(times['ours']):.1%} of our retrieval"
        f" and {median(shown) / median(times['curl']):.1%} of curl's"
    )
    print(json.dumps({
        "images": count,
        "megabytes": round(mb, 1),
        "curl_s": round(median(times["curl"]), 4),
        "ours_s": round(median(times["ours"]), 4),
        "decoded_s": round(median(times["decoded"]), 4),
        "ours_over_curl_rate": round(ratio, 3),
        "decoded_over_curl_rate": round(before, 3),
        "first_image_s": round(median(firsts), 4),
        "first_image_decoded_s": round(median(shown), 4),
        "repeats": repeats,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
