"""The review manager's window is wired to the desk (GUI wiring only; rules: desk tests)."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from mrecist_reader.desk.review import ReviewDesk
from mrecist_reader.storage.errors import ReadNotFound
from mrecist_reader.ui import errors
from mrecist_reader.ui.review_view import ReviewView, open_review
from tests.central_review.test_review_desk import repository  # noqa: F401


@pytest.fixture
def view(qtbot, repository):  # noqa: F811
    shown = ReviewView(ReviewDesk(repository, "PM01"))
    qtbot.addWidget(shown)
    return shown


def test_the_tabs_show_the_desks_subjects_queue_and_metrics(view):
    assert view.subjects.rowCount() == 3
    assert view.subjects.item(0, 7).text() == "awaiting"
    assert view.awaiting.rowCount() == 1
    assert view.awaiting.item(0, 4).text().startswith("FU1: reader 1 PR")
    metrics = {
        (view.metrics.item(r, 0).text(), view.metrics.item(r, 2).text())
        for r in range(view.metrics.rowCount())
    }
    assert ("overall", "kappa_unweighted") in metrics


def test_withdraw_read_withdraws_the_chosen_reader_of_the_selected_subject(
    view,
    repository,  # noqa: F811
):
    view.subjects.selectRow(0)
    view.reader.setCurrentIndex(1)  # reader 2
    view.reason.setText("read the wrong series")
    view.withdraw_button.click()
    assert view.subjects.item(0, 7).text() == "reopened"
    assert view.subjects.item(0, 5).text() == "not started"
    assert {r.key.reader_id for r in repository.all_reads()} >= {"R02 (withdrawn 1)"}


def test_withdrawing_without_a_subject_or_reason_says_why(view, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(
        errors, "show_message", lambda _p, _t, text, **_k: shown.append(text)
    )
    view.withdraw_button.click()
    view.subjects.selectRow(0)
    view.withdraw_button.click()
    assert shown == [
        "choose a subject in the table first",
        "the reason is empty (required: say why the read is withdrawn)",
    ]


def test_the_menu_command_opens_the_window_and_refuses_a_primary_reader(
    qtbot,
    repository,  # noqa: F811
):
    window = QWidget()
    qtbot.addWidget(window)
    window.desk = _desk(repository, "PM01")  # type: ignore[attr-defined]
    opened = open_review(window)  # type: ignore[arg-type]
    assert opened.windowFlags() & Qt.WindowType.Window
    assert opened.subjects.rowCount() == 3
    window.desk = _desk(repository, "R02")  # type: ignore[attr-defined]
    with pytest.raises(ReadNotFound):
        open_review(window)  # type: ignore[arg-type]
    assert window.findChildren(ReviewView) == [opened]


def _desk(repository, reader):  # noqa: F811
    from types import SimpleNamespace

    return SimpleNamespace(
        repository=lambda: repository, context=SimpleNamespace(reader_id=reader)
    )


def test_trial_endpoints_opens_the_endpoints_view_of_the_final_reads(view, tmp_path):
    treatments = tmp_path / "treatments.csv"
    treatments.write_text(
        "schema_version,study_id,subject_id,treatment,session,study_day\n"
        "1,NCT06779461,S02,TACE,1,1\n",
        encoding="utf-8",
    )
    view.endpoints_button.click()
    dialog = view.endpoints_dialog
    assert dialog is not None
    dialog.treatments.setText(str(treatments))
    dialog.accept()
    assert view.endpoints_view is not None
    assert view.endpoints_view.isVisible()
