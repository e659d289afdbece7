"""csv_out: byte-exact golden files (data-transfer.md §Files) and a fixed row order."""

from pathlib import Path

import pytest

from mrecist_reader import __version__
from mrecist_reader.core.assess import assess
from mrecist_reader.resources import load_profile
from mrecist_reader.transfer.csv_out import write_measurements, write_responses
from tests.transfer.reads import example_read

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_VERSION = "0.1.0"


def written(path: Path) -> bytes:
    """Return the file's bytes with this release's software_version as in the goldens."""
    return path.read_bytes().replace(
        f",{__version__}\n".encode(), f",{GOLDEN_VERSION}\n".encode()
    )


READS = [example_read("S02", "R2"), example_read()]


@pytest.mark.parametrize(
    ("golden", "blinded"),
    [("measurements.csv", False), ("measurements_blinded.csv", True)],
)
def test_measurements_csv_matches_the_golden_file(
    tmp_path: Path, golden: str, blinded: bool
) -> None:
    write_measurements(tmp_path / "m.csv", READS, blinded=blinded)
    assert written(tmp_path / "m.csv") == (GOLDEN / golden).read_bytes()


def test_responses_csv_matches_the_golden_file(tmp_path: Path) -> None:
    profile = load_profile("nct06779461")
    write_responses(
        tmp_path / "r.csv", [(read, assess(read, profile)) for read in READS]
    )
    assert written(tmp_path / "r.csv") == (GOLDEN / "responses.csv").read_bytes()


def test_files_are_utf8_without_bom_with_lf_line_ends(tmp_path: Path) -> None:
    write_measurements(tmp_path / "m.csv", READS)
    data = (tmp_path / "m.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert "segment VII – subcapsular".encode() in data


def test_blinded_export_leaves_site_and_scan_date_empty(tmp_path: Path) -> None:
    write_measurements(tmp_path / "m.csv", READS, blinded=True)
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    assert "SITE01" not in text
    assert "2026-01-05" not in text


def test_row_order_does_not_depend_on_the_order_reads_are_given(tmp_path: Path) -> None:
    write_measurements(tmp_path / "a.csv", READS)
    write_measurements(tmp_path / "b.csv", list(reversed(READS)))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
