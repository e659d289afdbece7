"""The magnifier's patch: the pixels around the cursor, windowed, ready to enlarge.

Qt-free: :func:`magnifier_patch` cuts a square of the shown slice around a pixel
(black outside the image), applies the viewer's window (and inversion) and returns
8-bit grey values; the widget only scales it up and draws it beside the cursor.
"""

import numpy as np
import numpy.typing as npt

DEFAULT_RADIUS = 24
"""Half the patch's side, in image pixels."""
DEFAULT_FACTOR = 3
"""How many screen pixels show one patch pixel."""


def window_to_grey(
    values: npt.NDArray[np.generic], levels: tuple[float, float], *, invert: bool
) -> npt.NDArray[np.uint8]:
    """Return ``values`` windowed to 0-255 between ``levels`` (low, high).

    >>> window_to_grey(np.array([0, 50, 100]), (0.0, 100.0), invert=False).tolist()
    [0, 128, 255]
    """
    low, high = levels
    span = max(high - low, 1e-6)
    scaled = (np.asarray(values, dtype=np.float64) - low) / span
    grey = np.rint(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
    return (255 - grey).astype(np.uint8) if invert else grey


def magnifier_patch(
    image: npt.NDArray[np.generic],
    row: int,
    col: int,
    levels: tuple[float, float],
    *,
    radius: int = DEFAULT_RADIUS,
    invert: bool = False,
) -> npt.NDArray[np.uint8]:
    """Return the ``(2r+1)²`` windowed patch centred on ``(row, col)``, black outside."""
    side = 2 * radius + 1
    patch = np.zeros((side, side), dtype=np.uint8)
    n_rows, n_cols = image.shape[:2]
    top, left = row - radius, col - radius
    r0, r1 = max(top, 0), min(top + side, n_rows)
    c0, c1 = max(left, 0), min(left + side, n_cols)
    if r0 >= r1 or c0 >= c1:
        return patch
    grey = window_to_grey(image[r0:r1, c0:c1], levels, invert=invert)
    patch[r0 - top : r1 - top, c0 - left : c1 - left] = grey
    return patch
