"""The application icon, at every size shipped in ``resources/icons``."""

import logging

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from mrecist_reader.resources import resource_path

logger = logging.getLogger(__name__)

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
"""Pixel sizes of the PNG icons (``resources/icons/make_icons.py`` renders them)."""


def app_icon() -> QIcon:
    """Return the application icon: the PNG sizes, with the SVG for other sizes."""
    icon = QIcon()
    for size in ICON_SIZES:
        try:
            path = resource_path("icons", f"mrecist_reader_{size}.png")
        except FileNotFoundError:
            logger.warning("icon of %d px is missing", size)
            continue
        icon.addFile(str(path), QSize(size, size))
    try:
        icon.addFile(str(resource_path("icons", "mrecist_reader.svg")))
    except FileNotFoundError:
        logger.warning("the SVG icon is missing")
    return icon
