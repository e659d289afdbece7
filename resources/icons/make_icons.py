"""Render the application icon (``mrecist_reader.svg``) to PNG sizes and a Windows .ico.

Run after editing the SVG: ``.venv/bin/python resources/icons/make_icons.py``. Writes
``mrecist_reader_<size>.png`` (16-256 px, Qt's SVG renderer), ``mrecist_reader.png``
(256 px) and ``mrecist_reader.ico`` (all sizes, Pillow) next to this file.
"""

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int, target: Path) -> None:
    """Render ``svg`` to a square transparent PNG of ``size`` pixels."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(target)):
        raise OSError(f"cannot write {target}")


def main() -> int:
    """Write the PNG files and the .ico; return 0."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = HERE / "mrecist_reader.svg"
    for size in SIZES:
        render(svg, size, HERE / f"mrecist_reader_{size}.png")
    render(svg, 256, HERE / "mrecist_reader.png")
    largest = Image.open(HERE / "mrecist_reader_256.png")
    largest.save(
        HERE / "mrecist_reader.ico",
        format="ICO",
        sizes=[(size, size) for size in SIZES],
    )
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
