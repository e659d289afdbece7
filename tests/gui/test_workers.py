"""Background work reports its result or its error on the GUI thread."""

from pytestqt.qtbot import QtBot

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.ui.workers import run_in_thread


def test_result_arrives_on_the_gui_thread(qtbot: QtBot) -> None:
    results: list[int] = []
    finished: list[bool] = []
    run_in_thread(
        sum,
        [1, 2, 3],
        on_done=results.append,
        on_error=lambda error: None,
        on_finished=lambda: finished.append(True),
    )
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert results == [6]


def test_error_goes_to_the_handler_and_is_not_re_raised(qtbot: QtBot) -> None:
    errors: list[BaseException] = []

    def fail() -> None:
        raise MrecistError("no enhancing lesion at this point")

    run_in_thread(fail, on_done=lambda _: None, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "no enhancing lesion at this point"
