"""Read > Trial endpoints opens the endpoints view (issue 18 item 6): wiring only.

Who may see endpoints is the desk's rule (tests/desk/test_endpoints_at_desk.py); here:
the menu entry is there for a local reader and opens the view from the files chosen,
it is hidden in a central read, and a bad file is a message, not a traceback.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMenu
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import Read, ReadType
from mrecist_reader.resources import load_profile
from mrecist_reader.session import open_database
from mrecist_reader.storage.audit import Actor
from mrecist_reader.transfer.csv_in import read_measurements
from mrecist_reader.ui.endpoints_command import EndpointFilesDialog
from mrecist_reader.ui.main_window import MainWindow, ReaderContext

REPO = Path(__file__).resolve().parents[2]
TWO_SUBJECTS = REPO / "tests/data/measurements/nct06779461_central_two_subjects.csv"
TREATMENTS = (
    "schema_version,study_id,subject_id,treatment,session,study_day\n"
    "1,NCT06779461,S01,TACE,1,2\n1,NCT06779461,S02,TACE,1,1\n"
)


def local(read: Read) -> Read:
    key = replace(read.key, read_type=ReadType.LOCAL, reader_id="R01")
    return replace(read, key=key)


def window(qtbot: QtBot, url: str, read_type: ReadType) -> MainWindow:
    context = ReaderContext(
        reader_id="R01",
        read_type=read_type,
        profile=load_profile("nct06779461"),
        db_url=url,
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.show()
    return main


@pytest.fixture
def url(tmp_path: Path) -> str:
    """Return a reads database holding R01's local reads of S01 and S02."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    reads = read_measurements(TWO_SUBJECTS, profile_for=load_profile)
    repository = open_database(url)
    try:
        repository.import_reads(
            [local(r) for r in reads], actor=Actor("R01", "tester"), source="reads"
        )
    finally:
        repository.close()
    return url


def read_menu_actions(main: MainWindow) -> list[str]:
    menus = [a.menu() for a in main.menuBar().actions()]
    read = next(m for m in menus if isinstance(m, QMenu) and m.title() == "&Read")
    return [a.objectName() for a in read.actions()]


def choose(dialog: EndpointFilesDialog, treatments: Path) -> None:
    dialog.treatments.setText(str(treatments))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    ok.click()


def test_the_menu_entry_opens_the_endpoints_view_for_a_local_reader(
    qtbot: QtBot, url: str, tmp_path: Path
) -> None:
    treatments = tmp_path / "treatments.csv"
    treatments.write_text(TREATMENTS, encoding="utf-8")
    main = window(qtbot, url, ReadType.LOCAL)
    action = main._actions["endpoints"]
    assert "endpoints" in read_menu_actions(main)
    assert action.isVisible()
    assert action.isEnabled()
    action.trigger()
    dialog = main.endpoints.dialog
    assert dialog is not None
    assert dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # treatments.csv is needed
    choose(dialog, treatments)
    view = main.endpoints.view
    assert view is not None
    qtbot.waitUntil(view.isVisible)
    first = view.table.item(0, 0)
    assert first is not None
    assert first.text() == "ORR30_last"
    rate = view.table.item(0, 3)
    assert rate is not None
    assert rate.text() == "0.5000"


def test_a_central_reader_has_no_endpoints_entry(qtbot: QtBot, url: str) -> None:
    main = window(qtbot, url, ReadType.CENTRAL)
    action = main._actions["endpoints"]
    assert not action.isVisible()
    assert not action.isEnabled()
    action.trigger()  # a disabled action does nothing
    assert main.endpoints.dialog is None


def test_a_bad_treatments_file_is_a_message_naming_its_line(
    qtbot: QtBot,
    url: str,
    tmp_path: Path,
    error_messages: list[tuple[str, str, bool]],
) -> None:
    treatments = tmp_path / "treatments.csv"
    treatments.write_text(
        TREATMENTS.replace("S02,TACE,1,1", "S02,TACE,two,1"), encoding="utf-8"
    )
    main = window(qtbot, url, ReadType.LOCAL)
    main._actions["endpoints"].trigger()
    assert main.endpoints.dialog is not None
    choose(main.endpoints.dialog, treatments)
    assert main.endpoints.view is None
    [(title, text, critical)] = error_messages
    assert title == "Trial endpoints"
    assert "treatments.csv:3" in text
    assert not critical
