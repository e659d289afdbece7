"""A central read of sample_dicom never shows who the patient is, or when they came.

Walks every widget's text (titles, overlays, worklist, tables, plots, dialogs) with each
subject and timepoint on screen and looks for the identity the headers carry.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.ui.main_window import MainWindow
from tests.gui.helpers import (
    all_texts,
    answer_next_dialog,
    central_read_window,
    click_button,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    if not SAMPLE.is_dir():
        pytest.skip("sample_dicom has not been generated (make sample)")
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R02", size=(1600, 950)
    )
    main.open_path(SAMPLE)
    qtbot.waitUntil(lambda: main.session is not None, timeout=20000)
    yield main
    main.shutdown()


def identity_strings(subjects: tuple[SubjectEntry, ...]) -> set[str]:
    """Return the names, IDs, birth dates, institutions and dates in the headers."""
    found: set[str] = set()
    for subject in subjects:
        for timepoint in subject.timepoints:
            if timepoint.scan_date:
                found.add(timepoint.scan_date)
                found.add(timepoint.scan_date.replace("-", ""))
            for series in timepoint.series:
                identity = series.identity
                found.add(identity.patient_name)
                found.update(
                    part
                    for part in identity.patient_name.split("^")
                    if len(part) > 2 and part != subject.subject_id  # shown: trial ID
                )
                found.update({identity.patient_id, identity.birth_date})
                found.add(identity.institution)
                for day in (identity.study_date, identity.series_date):
                    if day is not None:
                        found.update({day.isoformat(), day.strftime("%Y%m%d")})
    found.discard("")
    return found


def _sign_dialog_texts(window: MainWindow) -> list[str]:
    """Return what signing shows: the refusal naming what is missing, or the dialog."""
    missing = window.desk.missing()
    if missing:
        with pytest.raises(MrecistError, match="cannot be signed yet") as refusal:
            window.ask_sign()
        return [str(refusal.value)]
    seen: list[str] = []

    def look(widget: QWidget) -> None:
        assert isinstance(widget, QMessageBox)
        seen.extend([widget.windowTitle(), widget.text(), widget.informativeText()])
        click_button("Cancel")(widget)

    answer_next_dialog(look)
    window.ask_sign()
    return seen


def test_no_identity_anywhere_in_a_central_read(
    qtbot: QtBot, window: MainWindow
) -> None:
    forbidden = identity_strings(window.subjects)
    assert len(forbidden) >= 6, forbidden  # the sample does carry an identity
    shown: list[str] = []
    for subject in window.subjects:
        window.open_subject(subject)
        qtbot.waitUntil(
            lambda s=subject: (
                window.session is not None
                and window.session.read.key.subject_id == s.subject_id
            ),
            timeout=20000,
        )
        for timepoint in subject.timepoints:
            window.set_current_timepoint(timepoint.index)
            view = window.current_view if timepoint.index else window.baseline_view
            qtbot.waitUntil(lambda v=view: v.volume is not None, timeout=60000)
            shown.extend(all_texts(window))
            shown.extend(_sign_dialog_texts(window))
    text = "\n".join(shown)
    assert "S01" in text  # the walk does see the subject ID
    leaks = sorted(value for value in forbidden if value in text)
    assert leaks == []


def test_a_study_without_trial_tags_shows_a_pseudonym_never_the_patient_id(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.kit.dicom import SeriesSpec, write_series

    write_series(tmp_path / "study", SeriesSpec(n_slices=4, rows=64, columns=64))
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R02", size=(1400, 900)
    )
    main.open_path(tmp_path / "study")
    qtbot.waitUntil(
        lambda: main.session is not None and main.baseline_view.volume is not None,
        timeout=20000,
    )
    text = "\n".join([*all_texts(main), *_sign_dialog_texts(main)])
    main.shutdown()
    (subject,) = main.subjects
    assert subject.subject_id.startswith("patient-")
    assert subject.subject_id in text
    leaks = [
        value
        for value in ("P-SECRET", "Secret", "20250101", "2025-01-01")
        if value in text
    ]
    assert leaks == []
