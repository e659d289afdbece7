"""A central read of images without PatientID never shows their folder's name.

Such a subject is named after its folder by the scan, and a folder is often the
patient's name: the window shows a pseudonym, and no path in its messages.
"""

from pathlib import Path

from pytestqt.qtbot import QtBot

from mrecist_reader.desk.blinding import HIDDEN_PATH
from tests.gui.helpers import all_texts, central_read_window, wait_until_ready
from tests.gui.shots import save_screenshot
from tests.kit.dicom import SeriesSpec, rewrite, set_elements, write_series

FOLDER = "DOE_JOHN_19570312"


def test_a_folder_named_after_the_patient_appears_nowhere_in_a_central_read(
    qtbot: QtBot, tmp_path: Path
) -> None:
    paths = write_series(tmp_path / FOLDER / "ct", SeriesSpec(n_slices=8))
    rewrite(paths, set_elements(PatientID=""))
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 900)
    )
    try:
        main.open_path(tmp_path / FOLDER)
        assert FOLDER not in main.statusBar().currentMessage()
        wait_until_ready(qtbot, main)
        assert main.subject is not None
        assert main.subject.subject_id.startswith("patient-")
        texts = [*main.visible_texts(), *all_texts(main)]
        assert not [text for text in texts if FOLDER in text], texts
        assert main.session is not None
        assert FOLDER not in main.session.read.key.subject_id
        save_screenshot(main, "blinded_folder_named_subject")
    finally:
        main.shutdown()


def test_a_failed_scan_in_a_central_read_names_no_path(
    qtbot: QtBot, tmp_path: Path, error_messages: list[tuple[str, str, bool]]
) -> None:
    missing = tmp_path / FOLDER / "study"  # moved away since it was chosen
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 900)
    )
    try:
        main.open_path(missing)
        qtbot.waitUntil(lambda: bool(error_messages), timeout=10000)
        shown = " ".join(text for _title, text, _critical in error_messages)
        assert FOLDER not in shown, shown
        assert HIDDEN_PATH in shown
        assert FOLDER not in main.statusBar().currentMessage()
    finally:
        main.shutdown()
