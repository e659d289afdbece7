"""DIMSE against a real Orthanc: C-ECHO, C-FIND, C-GET as stored, C-MOVE, resumption."""

import socket
from datetime import date
from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.dimse import DimseArchive
from mrecist_reader.archive.errors import (
    ArchiveTimeout,
    ArchiveUnreachable,
    AssociationRejected,
)
from mrecist_reader.archive.nodes import DimseNode
from mrecist_reader.archive.pull import pull
from mrecist_reader.archive.records import StudyQuery
from mrecist_reader.archive.store import LocalStore
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc
from tests.archive.samples import pulled_files, sample_series

pytestmark = pytest.mark.orthanc


def archive(**options: object) -> DimseArchive:
    fields: dict[str, object] = {"our_ae_title": o.OUR_AET, "timeout_s": 5.0}
    fields.update(options)
    node = DimseNode(
        str(fields.pop("ae_title", o.ARCHIVE_AET)),
        "127.0.0.1",
        int(fields.pop("port", o.DICOM_PORT)),  # type: ignore[call-overload]
        **fields,  # type: ignore[arg-type]
    )
    return DimseArchive(node)


def test_c_echo_answers(orthanc: Orthanc) -> None:
    assert "C-ECHO answered" in orthanc.in_namespace(archive().check)


def test_studies_are_found_by_trial_subject(orthanc: Orthanc) -> None:
    studies = orthanc.in_namespace(lambda: archive().find_studies(StudyQuery("S01")))
    expected = {
        sample_series(f"S01/{tp}/ART").study_uid for tp in ("BASELINE", "FU1", "FU2")
    }
    assert {study.study_uid for study in studies} == expected
    assert {study.subject_id for study in studies} == {"S01"}


def test_modality_narrows_the_studies_of_a_subject(orthanc: Orthanc) -> None:
    query = StudyQuery("S02", modality="MR")
    studies = orthanc.in_namespace(lambda: archive().find_studies(query))
    assert [s.study_uid for s in studies] == [
        sample_series("S02/BASELINE/MR_ART").study_uid
    ]


def test_c_get_brings_every_image_in_its_stored_transfer_syntax(
    orthanc: Orthanc, out_dir: Path
) -> None:
    rle = sample_series("S02/FU1/ART")
    report = orthanc.in_namespace(
        lambda: pull(
            archive(), StudyQuery(study_uid=rle.study_uid), LocalStore(out_dir)
        )
    )
    assert report.is_complete
    assert report.announced == len(rle.files)
    pulled = pulled_files(out_dir, rle)
    assert set(pulled) == set(rle.files)
    some_uid = sorted(pulled)[3]
    received = pydicom.dcmread(pulled[some_uid])
    original = pydicom.dcmread(rle.files[some_uid])
    assert received.file_meta.TransferSyntaxUID == rle.transfer_syntax
    assert received.PixelData == original.PixelData


def test_c_get_keeps_each_series_syntax_within_one_study(
    orthanc: Orthanc, out_dir: Path
) -> None:
    explicit, jpeg2000 = (
        sample_series("S03/BASELINE/ART"),
        sample_series("S03/BASELINE/PV"),
    )
    report = orthanc.in_namespace(
        lambda: pull(
            archive(), StudyQuery(study_uid=explicit.study_uid), LocalStore(out_dir)
        )
    )
    assert report.is_complete
    for series in (explicit, jpeg2000):
        syntaxes = {
            pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
            for path in pulled_files(out_dir, series).values()
        }
        assert syntaxes == {series.transfer_syntax}


def test_an_interrupted_pull_resumes_without_duplicating_files(
    orthanc: Orthanc, out_dir: Path
) -> None:
    series = sample_series("S01/FU1/ART")
    query = StudyQuery(study_uid=series.study_uid)
    orthanc.in_namespace(lambda: pull(archive(), query, LocalStore(out_dir)))
    lost = sorted(pulled_files(out_dir, series).values())[:5]
    for path in lost:
        path.unlink()
    report = orthanc.in_namespace(lambda: pull(archive(), query, LocalStore(out_dir)))
    (outcome,) = report.series
    assert (outcome.arrived, outcome.already_here) == (5, len(series.files) - 5)
    assert len(list(out_dir.rglob("*"))) == 2 + len(series.files)  # 2 folders


def test_c_move_to_our_own_scp_is_the_fallback(orthanc: Orthanc, out_dir: Path) -> None:
    series = sample_series("S01/FU2/ART")
    client = archive(move_port=o.MOVE_PORT, move_bind="127.0.0.1")
    report = orthanc.in_namespace(
        lambda: pull(
            client,
            StudyQuery(study_uid=series.study_uid),
            LocalStore(out_dir),
            method="move",
        )
    )
    assert report.is_complete
    assert set(pulled_files(out_dir, series)) == set(series.files)


def test_wrong_archive_ae_title_is_an_association_rejection(orthanc: Orthanc) -> None:
    client = archive(ae_title="NOT_ORTHANC")
    with pytest.raises(AssociationRejected, match="Called AE title not recognised"):
        orthanc.in_namespace(client.check)


def test_closed_port_is_connection_refused() -> None:
    client = archive(port=o.free_port())
    with pytest.raises(ArchiveUnreachable, match="connection refused"):
        client.check()


def test_a_port_that_never_answers_is_a_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # accepts TCP connections, never speaks DICOM
        client = archive(port=silent.getsockname()[1], timeout_s=0.5)
        with pytest.raises(ArchiveTimeout, match=r"no DICOM association within 0\.5 s"):
            client.check()


def test_each_image_is_announced_as_soon_as_it_is_in_place(
    orthanc: Orthanc, out_dir: Path
) -> None:
    series = sample_series("S02/FU1/ART")
    arrived: list[Path] = []
    store = LocalStore(out_dir, on_write=arrived.append)
    query = StudyQuery(study_uid=series.study_uid)
    orthanc.in_namespace(lambda: pull(archive(), query, store))
    assert sorted(path.stem for path in arrived) == sorted(series.files)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ((date(2025, 5, 1), date(2025, 5, 31)), ["FU1"]),
        ((date(2025, 5, 7), None), ["FU1", "FU2"]),
        ((None, date(2025, 4, 7)), ["BASELINE"]),
    ],
)
def test_a_local_read_narrows_studies_by_date_range(
    orthanc: Orthanc, dates: tuple[date | None, date | None], expected: list[str]
) -> None:
    client = archive()
    query = StudyQuery("S01", dates=dates)
    studies = orthanc.in_namespace(lambda: client.find_studies(query))
    wanted = {sample_series(f"S01/{tp}/ART").study_uid for tp in expected}
    assert {study.study_uid for study in studies} == wanted
