"""Image by image from a real Orthanc: progress, preview, Cancel and resumption.

Per-image progress, the series shown while it arrives, Cancel within a series and
resumption without duplicates, by WADO-RS, C-GET and C-MOVE.
"""

from pathlib import Path

import pytest

from mrecist_reader.archive.dicomweb import DicomwebArchive
from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.nodes import DicomwebNode, DimseNode
from mrecist_reader.archive.pull import Archive, PullCancelled, pull
from mrecist_reader.archive.records import SeriesRecord, StudyQuery
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.desk.archive_arrival import Arriving, decode_arrived
from mrecist_reader.desk.archive_browser import ArchiveBrowser
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import pulled_files, sample_series

pytestmark = pytest.mark.orthanc


def dicomweb(orthanc: Orthanc) -> DicomwebArchive:
    node = DicomwebNode(
        orthanc.dicomweb_url, username=o.USER, password=o.PASSWORD, attempts=1
    )
    return DicomwebArchive(node)


def dimse(**options: object) -> DimseArchive:
    node = DimseNode(
        o.ARCHIVE_AET,
        "127.0.0.1",
        o.DICOM_PORT,
        our_ae_title=o.OUR_AET,
        timeout_s=5.0,
        **options,  # type: ignore[arg-type]
    )
    return DimseArchive(node)


PROTOCOLS = ("wado-rs", "c-get", "c-move")


def archive_for(protocol: str, orthanc: Orthanc) -> tuple[Archive, str]:
    if protocol == "wado-rs":
        return dicomweb(orthanc), "auto"
    if protocol == "c-get":
        return dimse(), "get"
    return dimse(move_port=o.MOVE_PORT, move_bind="127.0.0.1"), "move"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_image_is_told_as_it_is_written_before_the_series_ends(
    orthanc: Orthanc, tmp_path: Path, protocol: str
) -> None:
    series = sample_series("S01/BASELINE/ART")
    archive, method = archive_for(protocol, orthanc)
    store = LocalStore(tmp_path)
    events: list[tuple[str, object]] = []

    def progress(done: int, total: int, record: SeriesRecord) -> None:
        events.append(("series", (done, total)))

    def on_image(path: Path) -> None:
        # the file is whole and in place when we are told, the series not yet done
        assert path.is_file()
        assert path.stat().st_size > 0
        events.append(("image", path))

    query = StudyQuery(study_uid=series.study_uid)
    report = orthanc.in_namespace(
        lambda: pull(
            archive, query, store, method=method, progress=progress, on_image=on_image
        )
    )
    assert report.is_complete
    images = [value for kind, value in events if kind == "image"]
    assert len(images) == report.announced == 50  # ART and PV
    assert set(pulled_files(tmp_path, series).values()) <= set(images)  # type: ignore[arg-type]
    # per-image news comes between the series' starts, not only at the end
    ends = [i for i, (kind, _) in enumerate(events) if kind == "series"]
    assert events[ends[0] + 1][0] == "image"
    assert ends[-1] == len(events) - 1  # the pull's end comes after every image
    assert sum(1 for kind, _ in events[: ends[1]] if kind == "image") == 25


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cancel_stops_within_a_series_and_a_new_pull_resumes_without_duplicates(
    orthanc: Orthanc, tmp_path: Path, protocol: str
) -> None:
    series = sample_series("S02/BASELINE/MR_ART")
    archive, method = archive_for(protocol, orthanc)
    store = LocalStore(tmp_path)
    written: list[Path] = []
    query = StudyQuery(study_uid=series.study_uid)
    with pytest.raises(PullCancelled):
        orthanc.in_namespace(
            lambda: pull(
                archive,
                query,
                store,
                method=method,
                on_image=written.append,
                is_cancelled=lambda: len(written) >= 5,
            )
        )
    here = pulled_files(tmp_path, series)
    assert 5 <= len(here) < len(series.files)  # stopped within the series
    for path in here.values():
        assert decode_arrived(path).sop_uid == path.stem  # whole files only
    assert not list(tmp_path.rglob("*.part"))
    again: list[Path] = []
    report = orthanc.in_namespace(
        lambda: pull(archive, query, store, method=method, on_image=again.append)
    )
    assert report.is_complete
    assert set(pulled_files(tmp_path, series)) == set(series.files)
    assert not {path.stem for path in again} & set(here)  # nothing fetched twice
    assert sum(o.already_here for o in report.series) == len(here)


@pytest.mark.parametrize("protocol", ["wado-rs", "c-get"])
def test_the_arterial_series_is_shown_while_it_arrives_and_the_full_one_follows(
    orthanc: Orthanc, tmp_path: Path, protocol: str
) -> None:
    archive, _ = archive_for(protocol, orthanc)
    model = ArchiveBrowser(archive, tmp_path, blinded=False)
    rows = orthanc.in_namespace(lambda: model.search("S01", timepoint="BASELINE"))
    images: list[Path] = []
    shown: list[tuple[Arriving, int]] = []
    opened: list[tuple[Path, int]] = []
    pulled = orthanc.in_namespace(
        lambda: model.retrieve(
            range(len(rows)),
            on_image=images.append,
            on_arriving=lambda arriving: shown.append((arriving, len(images))),
            on_first_series=lambda folder: opened.append((folder, len(images))),
        )
    )
    assert pulled.report.is_complete
    first, when = shown[0]
    assert when == 1  # the very first image written
    assert first.arrived == 1
    art = sample_series("S01/BASELINE/ART")
    assert first.series.series_uid == art.series_uid  # arterial first, by its record
    assert first.caption().splitlines() == [
        "S01   BASELINE",
        "LIVER 3PH ARTERIAL",
        "arriving: 1 of 25 images",
        "\u2014 measuring waits for the whole series",
    ]
    image = decode_arrived(first.files[0])  # a real image, before the rest arrived
    assert image.sop_uid in art.files
    assert [a.arrived for a, _ in shown] == list(range(1, 26))
    ((folder, opened_at),) = opened
    assert folder == tmp_path / "S01" / art.study_uid / art.series_uid
    assert opened_at == 25 < pulled.report.announced  # then the rest arrives
    assert all(a.series.series_uid == art.series_uid for a, _ in shown)
