"""Archive addresses, and the local folder's refusal of names that are not UIDs."""

from pathlib import Path

import pytest

from mrecist_reader.archive.errors import UnsafeIdentifier
from mrecist_reader.archive.nodes import (
    DicomwebNode,
    DimseNode,
    InvalidNode,
    parse_dimse_address,
)
from mrecist_reader.archive.store import LocalStore


def test_dimse_address_gives_ae_title_host_and_port() -> None:
    node = parse_dimse_address("ORTHANC@pacs.example:4242", our_ae_title="READER1")
    assert (node.ae_title, node.host, node.port, node.our_ae_title) == (
        "ORTHANC",
        "pacs.example",
        4242,
        "READER1",
    )


def test_dimse_address_accepts_a_bracketed_ipv6_host() -> None:
    assert parse_dimse_address("PACS@[::1]:104").host == "::1"


@pytest.mark.parametrize("text", ["ORTHANC@pacs", "pacs:4242", "@pacs:4242", "A@h:x"])
def test_malformed_dimse_address_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidNode, match="expected AET@HOST:PORT"):
        parse_dimse_address(text)


def test_ae_title_longer_than_16_characters_is_refused() -> None:
    with pytest.raises(InvalidNode, match="1 to 16 printable characters"):
        DimseNode("A" * 17, "pacs", 104)


def test_port_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidNode, match="from 1 to 65535"):
        DimseNode("PACS", "pacs", 70000)


def test_dicomweb_url_must_be_http_or_https() -> None:
    with pytest.raises(InvalidNode, match="expected an http:// or https:// base URL"):
        DicomwebNode("ftp://pacs/dicom-web")


def test_dicomweb_basic_and_bearer_authentication_are_exclusive() -> None:
    with pytest.raises(InvalidNode, match="not both"):
        DicomwebNode("https://pacs/dicom-web", username="u", password="p", token="t")


def test_dicomweb_node_never_shows_secrets() -> None:
    node = DicomwebNode("https://pacs/dicom-web", username="u", password="hunter2")
    assert "hunter2" not in repr(node)


@pytest.mark.parametrize("uid", ["../../etc", "1.2.3/4", "", "1.2." + "3" * 70])
def test_a_name_from_the_archive_that_is_not_a_uid_writes_nothing(
    tmp_path: Path, uid: str
) -> None:
    store = LocalStore(tmp_path / "pulled")
    with pytest.raises(UnsafeIdentifier, match="which is not a UID"):
        store.write("1.2.3", "1.2.3.4", uid, b"DICM")
    assert not (tmp_path / "pulled").exists() or not any(
        (tmp_path / "pulled").rglob("*.dcm")
    )


def test_a_file_is_written_whole_under_study_series_and_sop_uid(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    path = store.write("1.2", "1.2.3", "1.2.3.4", b"data")
    assert path == tmp_path / "1.2" / "1.2.3" / "1.2.3.4.dcm"
    assert (path.read_bytes(), store.present("1.2", "1.2.3")) == (b"data", {"1.2.3.4"})
    assert [p.name for p in path.parent.iterdir()] == ["1.2.3.4.dcm"]  # no temporary
