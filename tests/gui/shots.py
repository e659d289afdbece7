"""Screenshots of single widgets, without importing the main window."""

from pathlib import Path

from PySide6.QtWidgets import QWidget

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Save ``widget.grab()`` as ``screenshots/<name>.png`` (gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path
