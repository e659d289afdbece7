"""The window's menus, actions and keyboard shortcuts (Help > Shortcuts lists them).

Every action calls one command of the window; nothing is decided here. File holds
opening and export, with Quit apart at the bottom (it asks while a draft is open).
"""

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from mrecist_reader.desk.comparison import COMPARISON_TEXT, Comparison
from mrecist_reader.desk.layout import LAYOUT_TEXT, Layout
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.image_stack import CT_PRESETS
from mrecist_reader.ui.tool_menu import add_tool_actions

if TYPE_CHECKING:
    from mrecist_reader.ui.main_window import MainWindow

logger = logging.getLogger(__name__)

STATUS_KEYS: tuple[tuple[str, str, str], ...] = (
    ("A", "absent", "Absent (no viable tumour / enhancement)"),
    ("S", "too_small", "Too small to measure"),
    ("E", "not_evaluable", "Not evaluable"),
    ("P", "present", "Present (non-target / new lesion)"),
    ("G", "progression", "Unequivocal progression (non-target)"),
    ("Q", "equivocal", "Equivocal (new lesion)"),
)
"""Status keys: key, status token, menu text."""

POINTER_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Wheel down, ↓, →", "Next image (axial: towards the feet)"),
    ("Wheel up, ↑, ←", "Previous image (axial: towards the head)"),
    ("Page Down / Page Up", "Ten images on / back"),
    ("Home / End", "First (head) / last (feet) image"),
    ("Right or middle drag", "Window / level"),
    ("Left drag", "Pan (measure mode: draw a caliper)"),
    ("Click (measure mode)", "Semi-automatic caliper at the point"),
    ("Ctrl+wheel", "Zoom"),
    ("O (on an image)", "ROI mode: a drag draws an ellipse ROI (mean, SD, area)"),
    ("Del (ROI selected)", "Remove the selected ROI"),
)


def plain_text(menu_text: str) -> str:
    """Return a menu text as shown: mnemonic marks removed, ``&&`` as ``&``.

    >>> plain_text("Show lesions && &response")
    'Show lesions & response'
    """
    return menu_text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class Actions:
    """The window's actions by object name, and the shortcut list they make."""

    def __init__(self, owner: QWidget) -> None:
        self.owner = owner
        self.by_name: dict[str, QAction] = {}
        self.shortcut_rows: list[tuple[str, str]] = []

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def get(self, name: str) -> QAction | None:
        """Return an action by name, ``None`` when there is none."""
        return self.by_name.get(name)

    def add(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
        *,
        checkable: bool = False,
    ) -> QAction:
        """Create an action on the window (errors of its command shown by title)."""
        action = QAction(text, self.owner)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            keys = QKeySequence(shortcut).toString(
                QKeySequence.SequenceFormat.NativeText
            )
            self.shortcut_rows.append((keys, plain_text(text)))
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(lambda _checked: slot())
        else:
            action.triggered.connect(lambda _checked=False: self._guarded(text, slot))
        self.owner.addAction(action)
        self.by_name[name] = action
        return action

    def _guarded(self, title: str, slot: Callable[[], object]) -> None:
        with error_boundary(self.owner, plain_text(title).rstrip(".")):
            slot()


def build_menus(window: "MainWindow", actions: Actions) -> None:
    """Create the menu bar: File, Edit, Lesion, Read, View, Help."""
    menu = window.menuBar()
    _file_menu(menu.addMenu("&File"), window, actions)
    edit = menu.addMenu("&Edit")
    edit.addAction(actions.add("undo", "&Undo", window.undo, "Ctrl+Z"))
    edit.addAction(actions.add("redo", "&Redo", window.redo, "Ctrl+Shift+Z"))
    actions["undo"].setEnabled(False)
    actions["redo"].setEnabled(False)
    _lesion_menu(menu.addMenu("&Lesion"), window, actions)
    _read_menu(menu.addMenu("&Read"), window, actions)
    _view_menu(menu.addMenu("&View"), window, actions)
    help_menu = menu.addMenu("&Help")
    help_menu.addAction(
        actions.add("shortcuts", "&Shortcuts", window.show_shortcuts, "F1")
    )


def _file_menu(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    menu.addAction(
        actions.add(
            "openFolder", "&Open folder...", window.opening.ask_folder, "Ctrl+O"
        )
    )
    menu.addAction(
        actions.add(
            "openFile",
            "Open &zip or DICOMDIR...",
            window.opening.ask_file,
            "Ctrl+Shift+O",
        )
    )
    menu.addAction(
        actions.add("openArchive", "Open from &archive...", _archive_opener(window))
    )
    menu.addAction(
        actions.add(
            "archiveSettings", "Archive se&ttings...", _archive_settings(window)
        )
    )
    menu.addAction(actions.add("openSr", "Open &SR (read only)...", _sr_opener(window)))
    menu.addAction(
        actions.add("loadReport", "Load &report...", window.show_load_report)
    )
    menu.addSeparator()
    menu.addAction(actions.add("export", "&Export CSV...", window.ask_export, "Ctrl+E"))
    menu.addSeparator()  # Quit apart from Export: a slip must not quit a draft
    menu.addAction(actions.add("quit", "&Quit", window.ask_quit, "Ctrl+Q"))


def _archive_opener(window: "MainWindow") -> Callable[[], object]:
    def open_archive() -> object:
        from mrecist_reader.ui.archive_dialog import open_from_archive

        return open_from_archive(
            window, blinded=window.context.is_blinded, open_folder=window.open_path
        )

    return open_archive


def _archive_settings(window: "MainWindow") -> Callable[[], object]:
    def edit() -> object:
        from mrecist_reader.settings import settings_path
        from mrecist_reader.ui.archive_settings_dialog import ArchiveSettingsDialog

        dialog = ArchiveSettingsDialog(window, settings_path().parent)
        dialog.show()
        return dialog

    return edit


def _sr_opener(window: "MainWindow") -> Callable[[], object]:
    def open_sr() -> object:
        from mrecist_reader.ui.sr_dialog import ask_and_open_sr

        return ask_and_open_sr(window)

    return open_sr


def _lesion_menu(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    flow = window.measure
    # the menu item toggles; M only enters the mode and Esc leaves it (a reader
    # pressing M "to measure" never switches it off)
    menu.addAction(
        actions.add(
            "measure", "&Measure mode", window.on_measure_toggled, checkable=True
        )
    )
    actions.add(
        "enterMeasure", "Measure mode", partial(window.set_measure_mode, True), "M"
    )
    menu.addAction(
        actions.add("accept", "&Accept proposed caliper", flow.accept, "Return")
    )
    menu.addAction(
        actions.add(
            "reject",
            "&Reject proposed caliper (else leave measure mode)",
            flow.reject,
            "Esc",
        )
    )
    menu.addAction(
        actions.add(
            "addLesion", "Add &lesion without caliper...", flow.ask_add_lesion, "N"
        )
    )
    menu.addAction(
        actions.add("nextLesion", "&Next lesion", window.desk.next_lesion, "L")
    )
    menu.addAction(
        actions.add(
            "previousLesion",
            "&Previous lesion",
            window.desk.previous_lesion,
            "Shift+L",
        )
    )
    status = menu.addMenu("&Status at current timepoint")
    for key, token, text in STATUS_KEYS:
        status.addAction(
            actions.add(f"status_{token}", text, partial(flow.set_status, token), key)
        )
    menu.addAction(
        actions.add("delete", "&Delete lesion", window.commands.delete_lesion, "Del")
    )
    menu.addAction(
        actions.add(
            "keyImage",
            "Mark or unmark &key image",
            lambda: _toggle_key_image(window),
            "K",
        )
    )


def _read_menu(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    menu.addAction(
        actions.add(
            "nextTimepoint",
            "&Next timepoint",
            window.desk.next_timepoint,
            "Ctrl+Right",
        )
    )
    menu.addAction(
        actions.add(
            "previousTimepoint",
            "&Previous timepoint",
            window.desk.previous_timepoint,
            "Ctrl+Left",
        )
    )
    menu.addSeparator()
    menu.addAction(
        actions.add("sign", "&Sign timepoint...", window.ask_sign, "Ctrl+Return")
    )
    menu.addAction(
        actions.add(
            "amend", "&Amend timepoint...", window.commands.ask_amend, "Ctrl+Shift+A"
        )
    )
    # a local (site) reader only: a blinded central reader never sees endpoints
    endpoints = actions.add("endpoints", "Trial &endpoints...", window.endpoints.ask)
    endpoints.setVisible(window.endpoints.available)
    endpoints.setEnabled(window.endpoints.available)
    menu.addSeparator()
    menu.addAction(endpoints)
    adjudicate = partial(_open_adjudication, window)  # the adjudicator's queue
    menu.addAction(actions.add("adjudicate", "A&djudicate...", adjudicate))
    review = partial(_open_review, window)  # the review manager's screen
    menu.addAction(actions.add("centralReview", "Central &review...", review))


# The windows and tools below load with their first use, not with the window.
def _toggle_key_image(window: "MainWindow") -> None:
    from mrecist_reader.ui.key_images import toggle_from_views

    toggle_from_views(window, window.views, window.desk, window.say)


def _open_adjudication(window: "MainWindow") -> None:
    from mrecist_reader.ui.adjudication_view import open_adjudication

    open_adjudication(window)


def _open_review(window: "MainWindow") -> None:
    from mrecist_reader.ui.review_view import open_review

    open_review(window)


def _show_thumbnails(window: "MainWindow") -> None:
    from mrecist_reader.ui.thumbnails import show_thumbnails

    show_thumbnails(window)


def _view_menu(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    for preset in CT_PRESETS:
        menu.addAction(
            actions.add(
                f"preset{preset.name}",
                f"Window: {preset.name}",
                partial(window.apply_preset, preset),
                preset.key,
            )
        )
    menu.addSeparator()
    menu.addAction(
        actions.add(
            "thumbnails", "Series &thumbnails", lambda: _show_thumbnails(window)
        )
    )
    menu.addAction(actions.add("resetView", "&Reset view", window.reset_views, "R"))
    menu.addAction(actions.add("zoomIn", "Zoom &in", lambda: window.zoom(1.25), "+"))
    menu.addAction(actions.add("zoomOut", "Zoom &out", lambda: window.zoom(0.8), "-"))
    link = actions.add(
        "linkScroll",
        "&Link scrolling by position",
        window.on_link_toggled,
        "Ctrl+L",
        checkable=True,
    )
    link.setChecked(True)
    menu.addAction(link)
    menu.addAction(
        actions.add(
            "linkWindow",
            "Link &window/level",
            window.on_link_toggled,
            "W",
            checkable=True,
        )
    )
    add_tool_actions(menu, window, actions)  # cine, magnifier, invert, my windows
    _comparison_actions(menu, window, actions)
    _layout_actions(menu, window, actions)
    menu.addSeparator()
    docks = window.parts
    menu.addAction(
        actions.add(
            "toggleWorklist",
            "Show &worklist",
            lambda: docks.worklist_dock.setVisible(not docks.worklist_dock.isVisible()),
            "F2",
        )
    )
    menu.addAction(
        actions.add(
            "togglePanel",
            "Show lesions && &response",
            lambda: docks.reading_dock.setVisible(not docks.reading_dock.isVisible()),
            "F3",
        )
    )
    actions.shortcut_rows.extend(POINTER_SHORTCUTS)


def _comparison_actions(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    """Add the comparison pane's choices: baseline, previous or nadir timepoint."""
    menu.addSeparator()
    group = QActionGroup(menu)
    for choice, text in COMPARISON_TEXT.items():
        action = actions.add(
            f"compare{choice.value.title()}",
            text,
            partial(window.desk.set_comparison, choice),
        )
        action.setCheckable(True)  # the choice runs when triggered, not when unchecked
        action.setChecked(choice is Comparison.BASELINE)
        group.addAction(action)
        menu.addAction(action)


def _layout_actions(menu: QMenu, window: "MainWindow", actions: Actions) -> None:
    """Add the layouts: 1×1, 1×2 (comparison | current) and 2×2 (with other phase)."""
    menu.addSeparator()
    group = QActionGroup(menu)
    for layout, text in LAYOUT_TEXT.items():
        action = actions.add(
            f"layout{layout.name.title().replace('_', '')}",
            text,
            partial(lambda chosen: window.panes.set_layout(chosen), layout),
        )
        action.setCheckable(True)  # the choice runs when triggered, not when unchecked
        action.setChecked(layout is Layout.SIDE_BY_SIDE)
        group.addAction(action)
        menu.addAction(action)
