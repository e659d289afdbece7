"""WADO-RS multipart/related bodies split as their bytes arrive, in any chunking."""

from pathlib import Path

import pydicom
import pytest

from mrecist_reader.archive.dicomweb import dataset_sop_uid, is_whole_file
from mrecist_reader.archive.errors import ArchiveRequestFailed
from mrecist_reader.archive.multipart import boundary_of, split_parts
from tests.conftest import SAMPLE_DICOM, SHARED_SAMPLES

BOUNDARY = b"a1b2c3-boundary"


def body(parts: list[bytes], *, closed: bool = True, preamble: bytes = b"") -> bytes:
    out = preamble
    for part in parts:
        out += b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n"
        out += part + b"\r\n"
    return out + (b"--" + BOUNDARY + b"--\r\n" if closed else b"")


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# parts that look like delimiters without being one, and an empty part
PARTS = [b"first\r\n--a1b2c3", b"", b"\r\n\r\nthird--" + BOUNDARY[:-1], b"x" * 5000]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 17, 64, 1000, 1 << 20])
def test_every_part_comes_back_whatever_the_chunks(size: int) -> None:
    data = body(PARTS, preamble=b"ignored preamble\r\n")
    assert list(split_parts(BOUNDARY, chunked(data, size))) == PARTS


def test_what_follows_the_closing_delimiter_is_ignored() -> None:
    data = body(PARTS[:1]) + b"epilogue --" + BOUNDARY + b"\r\n\r\nnot a part"
    assert list(split_parts(BOUNDARY, [data])) == PARTS[:1]


def test_a_stream_cut_short_keeps_the_complete_parts_and_asks_about_the_last() -> None:
    data = body([b"one", b"two"], closed=False)[:-2]  # ends inside part two
    asked: list[bytes] = []

    def whole(tail: bytes) -> bool:
        asked.append(tail)
        return tail == b"two"

    assert list(split_parts(BOUNDARY, chunked(data, 5), whole)) == [b"one", b"two"]
    assert asked == [b"two"]
    asked.clear()
    with_crlf = body([b"one", b"two"], closed=False)  # the CRLF before a delimiter
    assert list(split_parts(BOUNDARY, [with_crlf], whole)) == [b"one", b"two"]
    assert asked == [b"two"]
    assert list(split_parts(BOUNDARY, [data])) == [b"one"]


def test_the_boundary_is_read_from_the_content_type() -> None:
    header = 'multipart/related; type="application/dicom"; boundary="x-1:2"'
    assert boundary_of(header) == b"x-1:2"
    with pytest.raises(ArchiveRequestFailed, match="not a multipart/related body"):
        boundary_of("application/json")


def test_a_dicom_file_cut_within_its_pixels_is_not_whole() -> None:
    path: Path = sorted((SAMPLE_DICOM / "S01" / "BASELINE" / "ART").glob("*.dcm"))[0]
    data = path.read_bytes()
    assert is_whole_file(data)
    assert not is_whole_file(data[:-1])
    assert not is_whole_file(data[: len(data) // 2])
    assert not is_whole_file(b"not dicom at all")


def test_the_sop_instance_uid_is_the_datasets_as_pydicom_reads_it() -> None:
    for path in sorted(SAMPLE_DICOM.rglob("*.dcm"))[:40]:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        assert dataset_sop_uid(path.read_bytes()) == str(header.SOPInstanceUID), (
            path.name
        )
    assert dataset_sop_uid(b"\0" * 200) == ""


def test_a_file_meta_left_from_before_pseudonymisation_does_not_name_the_image() -> (
    None
):
    """Real GE CT: its meta keeps the scanner's UIDs (two images share one)."""
    folder = SHARED_SAMPLES / "dicom-numpy_dupe-positions"
    if not folder.is_dir():
        pytest.skip(f"needs the shared real DICOM samples ({folder} is absent)")
    named: set[str] = set()
    for path in sorted(folder.glob("*.dcm")):
        header = pydicom.dcmread(path, stop_before_pixels=True)
        named.add(dataset_sop_uid(path.read_bytes()))
        assert dataset_sop_uid(path.read_bytes()) == str(header.SOPInstanceUID)
    assert len(named) == 11  # one file per image; the meta's UIDs would give 10


def test_every_real_sample_gives_pydicoms_uid_or_leaves_it_to_pydicom() -> None:
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"needs the shared real DICOM samples ({SHARED_SAMPLES} is absent)")
    checked = 0
    for path in sorted(SHARED_SAMPLES.rglob("*.dcm"))[:400]:
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - files pydicom cannot read are not the point
            continue
        uid = dataset_sop_uid(path.read_bytes())
        if uid:  # empty: not plain enough, pydicom is asked instead
            assert uid == str(header.get("SOPInstanceUID", "")), path
            checked += 1
    assert checked > 100
