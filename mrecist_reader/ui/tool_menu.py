"""The View menu's reading tools: cine, magnifier, invert, overlay toggles, my windows.

Their keys come from :data:`mrecist_reader.ui.shortcuts.VIEWER_TOOL_KEYS`. Cine plays
the focused image (the others follow it when scrolling is linked); invert, the toggles
and the reader's presets apply like the built-in windows (the focused image, all when
window/level is linked). The presets are the reader's own
(:class:`~mrecist_reader.desk.window_presets.PresetBook`, a file beside settings.toml).
"""

import logging
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu

from mrecist_reader.desk.window_presets import (
    PRESET_KEYS,
    PresetBook,
    PresetError,
    UserPreset,
)
from mrecist_reader.ui.shortcuts import VIEWER_TOOL_KEYS
from mrecist_reader.ui.slice_viewer import SliceViewer

if TYPE_CHECKING:
    from mrecist_reader.ui.main_window import MainWindow
    from mrecist_reader.ui.menus import Actions

logger = logging.getLogger(__name__)


def _viewers(window: "MainWindow") -> list[SliceViewer]:
    """Return the viewers a tool applies to (the focused one, all when linked)."""
    return [v for v in window.links.active_viewers() if v.stack is not None]


def cine_viewer(window: "MainWindow") -> SliceViewer | None:
    """Return the viewer cine plays: the focused one, else the first with an image."""
    focused = QApplication.focusWidget()
    shown = [
        view.viewer
        for view in window.links.views
        if view.viewer.isVisible() and view.viewer.stack is not None
    ]
    for viewer in shown:
        if viewer is focused or viewer.tools.cine.playing:
            return viewer
    return shown[0] if shown else None


def _on_cine(window: "MainWindow", command: str) -> None:
    viewer = cine_viewer(window)
    if viewer is None:
        window.say("Cine: no series open")
        return
    if command == "toggle":
        viewer.tools.toggle_cine()
    elif command == "faster":
        viewer.tools.cine_faster()
    else:
        viewer.tools.cine_slower()
    window.say(
        viewer.tools.cine.label() or f"Cine paused ({viewer.tools.cine.fps} fps)"
    )


def _each(window: "MainWindow", tool: str) -> None:
    for viewer in _viewers(window):
        getattr(viewer.tools, tool)()


class UserPresetMenu(QObject):
    """The reader's own windows: keys 5-9, save the current window, remove one.

    A child of the View menu, which keeps it as long as the window lives.
    """

    def __init__(self, window: "MainWindow", actions: "Actions", menu: QMenu) -> None:
        super().__init__(menu)
        self.window = window
        self.book = PresetBook()
        self.book.load()
        if self.book.problem:
            logger.warning("%s", self.book.problem)
            window.say(f"Window presets not loaded: {self.book.problem}", 0)
        self.keyed = [
            actions.add(
                f"userPreset{key}",
                f"My window {number}",
                partial(self.apply_number, number - 1),
                key,
            )
            for number, key in enumerate(PRESET_KEYS, start=1)
        ]
        self.menu = menu.addMenu("My &windows")
        self.menu.setObjectName("userPresetMenu")
        self.menu.aboutToShow.connect(self.rebuild)
        self.save_action = actions.add(
            "savePreset", "&Save current window as preset...", self.ask_save
        )
        self.rebuild()

    def apply(self, preset: UserPreset) -> None:
        """Apply a preset to the focused image (all when window/level is linked)."""
        for viewer in _viewers(self.window):
            viewer.set_window(preset.width, preset.level)

    def apply_number(self, index: int) -> None:
        """Apply the preset with this 0-based number (a key 5-9), if there is one."""
        if index < len(self.book.presets):
            self.apply(self.book.presets[index])

    def rebuild(self) -> None:
        """List the presets (the first five with their keys), save and remove."""
        self.menu.clear()
        for index, action in enumerate(self.keyed):
            preset = (
                self.book.presets[index] if index < len(self.book.presets) else None
            )
            action.setEnabled(preset is not None)
            if preset is not None:
                action.setText(_preset_text(preset))
                self.menu.addAction(action)
        for preset in self.book.presets[len(self.keyed) :]:
            self.menu.addAction(_preset_text(preset), partial(self.apply, preset))
        self.menu.addSeparator()
        self.menu.addAction(self.save_action)
        remove = self.menu.addMenu("&Remove preset")
        remove.setEnabled(bool(self.book.presets))
        for preset in self.book.presets:
            remove.addAction(preset.name, partial(self.remove, preset.name))

    def ask_save(self) -> None:
        """Ask a name and keep the focused image's window under it."""
        viewers = _viewers(self.window)
        if not viewers:
            self.window.say("No image open: no window to save")
            return
        width, level = viewers[0].window_level
        name, ok = QInputDialog.getText(
            self.window, "Save window", f"Name for W {width:.0f} / L {level:.0f}:"
        )
        if ok:
            self.save(name, width, level)

    def save(self, name: str, width: float, level: float) -> None:
        """Keep a preset in the reader's file (a clear message if it cannot be)."""
        try:
            preset = self.book.add(name, width, level)
        except (PresetError, OSError) as error:
            self.window.say(f"Preset not saved: {error}", 0)
            return
        self.rebuild()
        self.window.say(f"Saved window preset {preset.name!r} in {self.book.path}")

    def remove(self, name: str) -> None:
        """Forget a preset and save the file."""
        try:
            self.book.remove(name)
        except OSError as error:
            self.window.say(f"Preset not removed: {error}", 0)
            return
        self.rebuild()


def _preset_text(preset: UserPreset) -> str:
    return f"{preset.name}  (W {preset.width:g} / L {preset.level:g})"


def add_tool_actions(
    menu: QMenu, window: "MainWindow", actions: "Actions"
) -> UserPresetMenu:
    """Add the reading tools and the reader's presets to the View menu."""
    keys = VIEWER_TOOL_KEYS
    menu.addSeparator()
    tools = (
        ("cine", "&Cine: play / pause", partial(_on_cine, window, "toggle")),
        ("cineSlower", "Cine slower", partial(_on_cine, window, "slower")),
        ("cineFaster", "Cine faster", partial(_on_cine, window, "faster")),
        ("magnifier", "&Magnifier", partial(_each, window, "toggle_magnifier")),
        ("invert", "&Invert grey scale", partial(_each, window, "toggle_invert")),
        ("toggleText", "Show/hide &text", partial(_each, window, "toggle_text")),
        (
            "toggleAnnotations",
            "Show/hide &annotations and overlay planes",
            partial(_each, window, "toggle_annotations"),
        ),
    )
    for name, text, slot in tools:
        menu.addAction(actions.add(name, text, slot, keys[name]))
    return UserPresetMenu(window, actions, menu)
