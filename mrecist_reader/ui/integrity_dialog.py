"""The warning shown when the reads database fails verification (it opens read-only).

Every problem is listed; the dialog does not block (the worklist and the images keep
loading behind it).
"""

from collections.abc import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

INTEGRITY_TITLE = "This reads database was changed outside mrecist_reader"
"""The title of the dialog shown when the reads database fails verification."""


def show_integrity_problems(parent: QWidget, problems: Sequence[str]) -> QMessageBox:
    """Open (not modal) the read-only warning listing every problem; return it."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        INTEGRITY_TITLE,
        "It is open read-only: you can read and export, but nothing can be "
        "recorded, signed or amended. Tell the trial's data manager.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("integrityDialog")
    # not passed through without_paths: the lines name reads (study/subject/
    # reader/type, no file path), which it would take for paths
    box.setInformativeText("\n".join(f"• {problem}" for problem in problems))
    box.open()
    return box
