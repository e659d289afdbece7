"""The View menu's reading tools in the window: keys, cine, invert, toggles, my windows."""

import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext
from mrecist_reader.desk.window_presets import PresetBook, presets_path
from mrecist_reader.resources import load_profile
from mrecist_reader.ui.main_window import MainWindow
from mrecist_reader.ui.shortcuts import VIEWER_TOOL_KEYS
from mrecist_reader.ui.tool_menu import UserPresetMenu
from mrecist_reader.ui.viewer_tools import BLINDED_PLANES
from tests.gui import dicom_study
from tests.gui.helpers import central_read_window, wait_until_ready
from tests.kit.dicom import SeriesSpec, overlay_plane, rewrite, write_series


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tools") / "study"
    dicom_study.write_study(root / "S01", {"BASELINE": 20.0, "FU1": 12.0})
    return root


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, study: Path) -> Iterator[MainWindow]:
    main = central_read_window(
        qtbot, tmp_path / "reads.db", reader_id="R01", size=(1400, 850)
    )
    main.open_path(study)
    wait_until_ready(qtbot, main)
    yield main
    main.shutdown()


def _preset_menu(window: MainWindow) -> UserPresetMenu:
    (menu,) = window.findChildren(UserPresetMenu)
    return menu


def test_each_tool_has_its_key_and_no_key_is_taken_twice(window: MainWindow) -> None:
    actions = window._actions
    for name, key in VIEWER_TOOL_KEYS.items():
        assert actions[name].shortcut().toString() == key
    keys = [
        action.shortcut().toString()
        for action in actions.by_name.values()
        if not action.shortcut().isEmpty()
    ]
    assert len(keys) == len(set(keys)), sorted(keys)
    listed = dict(window.shortcuts())
    assert listed["Shift+T"].startswith("Show/hide annotations")
    assert listed["5"] == "My window 1"


def test_cine_plays_the_focused_image_and_records_nothing(
    qtbot: QtBot, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    viewer.setFocus()
    assert window.session is not None
    trail = window.session.audit_trail()
    window._actions["cine"].trigger()
    assert viewer.tools.cine.playing
    start = viewer.slice_index
    for _ in range(5):
        viewer.tools._tick()
    assert viewer.slice_index != start
    window._actions["cine"].trigger()
    assert not viewer.tools.cine.playing
    assert window.session.audit_trail() == trail


def test_invert_and_text_apply_to_the_focused_image(window: MainWindow) -> None:
    viewer = window.baseline_view.viewer
    viewer.setFocus()
    window._actions["invert"].trigger()
    assert viewer.tools.inverted
    window._actions["toggleText"].trigger()
    assert not viewer.top_right.isVisible()
    window._actions["toggleText"].trigger()
    assert viewer.top_right.isVisible()


def test_a_saved_preset_takes_key_5_and_lives_in_the_user_s_file(
    qtbot: QtBot, tmp_path: Path, study: Path, window: MainWindow
) -> None:
    viewer = window.baseline_view.viewer
    viewer.setFocus()
    _preset_menu(window).save("Liver narrow", 120, 80)
    path = presets_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in PresetBook(path).load()] == ["Liver narrow"]
    action = window._actions["userPreset5"]
    assert action.isEnabled()
    assert action.text().startswith("Liver narrow")
    viewer.set_window(400, 40)
    action.trigger()
    assert viewer.window_level == (120.0, 80.0)
    assert not window._actions["userPreset6"].isEnabled()  # no second preset
    (menu,) = [
        m for m in window.findChildren(QMenu) if m.objectName() == "userPresetMenu"
    ]
    menu.aboutToShow.emit()
    assert any(a.text().startswith("Liver narrow") for a in menu.actions())
    # another window (the reader's next session) finds it
    again = central_read_window(
        qtbot, tmp_path / "other.db", reader_id="R01", size=(800, 600)
    )
    assert again._actions["userPreset5"].isEnabled()
    _preset_menu(again).remove("Liver narrow")
    assert PresetBook(path).load() == []
    again.shutdown()


# ---------------------------------------------------------------- overlay planes
def _study_with_planes(root: Path) -> Path:
    mark = np.zeros((32, 32), dtype=bool)
    mark[10:20, 12:22] = True
    paths = write_series(root / "S09" / "ART", SeriesSpec())
    rewrite(paths, overlay_plane(mark))
    return root


@pytest.mark.parametrize("read_type", [ReadType.LOCAL, ReadType.CENTRAL])
def test_overlay_planes_are_drawn_on_a_local_read_never_on_a_blinded_one(
    qtbot: QtBot, tmp_path: Path, read_type: ReadType
) -> None:
    context = ReaderContext(
        reader_id="R01",
        read_type=read_type,
        profile=load_profile("nct06779461"),
        db_url=f"sqlite:///{tmp_path / 'reads.db'}",
    )
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.resize(1200, 800)
    main.show()
    main.open_path(_study_with_planes(tmp_path / "study"))
    wait_until_ready(qtbot, main)
    tools = main.baseline_view.viewer.tools
    blinded = read_type is ReadType.CENTRAL
    assert tools.planes_shown is not blinded
    assert tools.planes_withheld is blinded
    assert (
        BLINDED_PLANES in main.baseline_view.viewer.tool_bar.status.text()
    ) is blinded
    main.shutdown()
