"""scan's header values read from the bytes are the values pydicom reads."""

from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from mrecist_reader.imaging import fastpath, headers, pixels
from mrecist_reader.imaging.byte_header import read_byte_header
from mrecist_reader.imaging.headers import HEADER_KEYWORDS
from tests.imaging.messy_study import write_messy_study
from tests.kit.dicom import SeriesSpec, oblique_orientation, write_series


def _both(path: Path) -> tuple[object, object]:
    results: list[object] = []
    for from_bytes in (True, False):
        try:
            results.append(headers._read_header(path, from_bytes=from_bytes))
        except Exception as error:  # noqa: BLE001 - compared, not hidden
            results.append(type(error))
    return results[0], results[1]


def _read_from_bytes(path: Path) -> bool:
    return read_byte_header(path.read_bytes()[: 1 << 16], HEADER_KEYWORDS) is not None


def _factory_files(folder: Path) -> list[Path]:
    identity = {
        "PatientName": "Doe^Jane",
        "PatientID": "HOSP-1",
        "StudyDate": "20240517",
        "AcquisitionTime": "101010.25",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
    }
    specs = [
        SeriesSpec(n_slices=3, extra=identity),
        SeriesSpec(n_slices=3, implicit=True, signed=True, intercept=0.0),
        SeriesSpec(n_slices=3, orientation=oblique_orientation(20.0), slope=0.5),
        SeriesSpec(n_slices=2, rows=16, columns=24, bits_stored=16),
    ]
    files: list[Path] = []
    for k, spec in enumerate(specs):
        files += write_series(folder / f"s{k}", spec)
    for syntax in (RLELossless, JPEG2000Lossless):
        path = folder / f"{syntax.name}.dcm"
        dataset = pydicom.dcmread(files[0])
        dataset.compress(syntax, encoding_plugin="pylibjpeg")
        dataset.save_as(path)
        files.append(path)
    return files


def test_the_files_the_byte_reader_reads_get_the_header_pydicom_gives(
    tmp_path: Path,
) -> None:
    files = _factory_files(tmp_path)
    assert all(_read_from_bytes(f) for f in files)
    for path in files:
        from_bytes, from_pydicom = _both(path)
        assert isinstance(from_bytes, headers.FileHeader)
        assert from_bytes == from_pydicom, path


def test_a_messy_study_gives_the_same_records_read_either_way(tmp_path: Path) -> None:
    write_messy_study(tmp_path / "messy")
    files = sorted(p for p in (tmp_path / "messy").rglob("*") if p.is_file())
    assert sum(_read_from_bytes(f) for f in files) > len(files) // 2
    for path in files:
        from_bytes, from_pydicom = _both(path)
        assert from_bytes == from_pydicom, path


PYDICOM_TEST_FILES = sorted(
    p
    for p in (Path(pydicom.data.__file__).parent / "test_files").rglob("*")
    if p.is_file()
)
"""pydicom's own test files shipped with it (odd syntaxes, charsets, damaged files)."""


@pytest.mark.parametrize("path", PYDICOM_TEST_FILES, ids=lambda p: p.name)
def test_pydicom_test_files_give_the_same_record_read_either_way(path: Path) -> None:
    from_bytes, from_pydicom = _both(path)
    assert from_bytes == from_pydicom


def test_a_compressed_frame_is_described_from_its_bytes_as_pydicom_describes_it(
    tmp_path: Path,
) -> None:
    compressed = [f for f in _factory_files(tmp_path) if f.suffix == ".dcm"]
    compressed = [f for f in compressed if f.parent == tmp_path]
    assert len(compressed) == 2
    for path in compressed:
        described = fastpath._byte_probe(path, 0)
        assert described is not None
        assert described == pixels._pydicom_probe(path, 0)
