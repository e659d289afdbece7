"""The archive settings without Qt: form <-> archive.toml, checked, tested for real."""

import stat
from pathlib import Path

import pytest

from mrecist_reader.archive.config import read_archive_config
from mrecist_reader.archive.nodes import InvalidNode
from mrecist_reader.desk.archive_settings import (
    ArchiveForm,
    form_of,
    save,
    try_connection,
)
from tests.archive import orthanc as o
from tests.archive.orthanc import Orthanc, free_port

WEB = ArchiveForm(
    "dicomweb", "https://pacs.example/dicom-web", "reader", 'pa"ss\\word', send_sr=False
)
DIMSE = ArchiveForm(
    "dimse", "ORTHANC@pacs.example:4242", our_ae_title="READER1", move_port="11113"
)


@pytest.mark.parametrize("form", [WEB, DIMSE], ids=["dicomweb", "dimse"])
def test_a_saved_form_reads_back_the_same(form: ArchiveForm, tmp_path: Path) -> None:
    path = save(form, tmp_path)
    assert form_of(read_archive_config(tmp_path)) == form
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it may hold a password


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (ArchiveForm("dimse", "ORTHANC@pacs"), "AET@HOST:PORT"),
        (ArchiveForm("dicomweb", "pacs.example"), "http:// or https://"),
        (ArchiveForm("dicomweb", "https://x", username="u"), "password"),
        (ArchiveForm("dimse", "A@b:1", move_port="x1"), "move_port"),
    ],
)
def test_a_mistake_is_named_and_nothing_is_saved(
    form: ArchiveForm, message: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidNode, match=message):
        save(form, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_closed_port_is_said_in_words() -> None:
    form = ArchiveForm("dimse", f"ORTHANC@127.0.0.1:{free_port()}")
    assert try_connection(form).startswith("failed: ")


@pytest.mark.orthanc
def test_both_protocols_answer_the_test(orthanc: Orthanc) -> None:
    web = ArchiveForm("dicomweb", orthanc.dicomweb_url, o.USER, o.PASSWORD)
    dimse = ArchiveForm(
        "dimse", f"{o.ARCHIVE_AET}@127.0.0.1:{o.DICOM_PORT}", our_ae_title=o.OUR_AET
    )
    assert "QIDO-RS answered" in orthanc.in_namespace(lambda: try_connection(web))
    assert "C-ECHO answered" in orthanc.in_namespace(lambda: try_connection(dimse))
    wrong = ArchiveForm("dicomweb", orthanc.dicomweb_url, o.USER, "wrong")
    assert "401" in orthanc.in_namespace(lambda: try_connection(wrong))
