"""A series' thumbnail: its middle image, windowed to 8 bits and made small (issue 15 item 3).

Computed off the GUI thread (one image decoded, not the volume); the worklist's strip
shows it so the reader recognises a series before opening it.
"""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from mrecist_reader.imaging.volume import SeriesInfo


def _resize(*args: object, **kwargs: object) -> npt.NDArray[np.float64]:
    """scikit-image's resize, imported on first use (off the GUI thread, not at start)."""
    from skimage import transform

    resize: Callable[..., npt.NDArray[np.float64]] = transform.resize
    return resize(*args, **kwargs)


THUMBNAIL_SIDE = 96
"""The longer side of a thumbnail, in pixels."""


def middle_image_index(series: SeriesInfo) -> int:
    """Return the volume slice of a series' middle image (as the viewer opens it)."""
    return series.volume_slice_of_image[series.n_images // 2] if series.n_images else 0


def series_thumbnail(
    series: SeriesInfo, side: int = THUMBNAIL_SIDE
) -> npt.NDArray[np.uint8]:
    """Decode a series' middle image and return it as a thumbnail.

    Raises
    ------
    MrecistError, OSError, ValueError
        When the image cannot be read or decoded (the strip then shows no picture).

    """
    from mrecist_reader.imaging.load import open_volume

    loader = open_volume(series, workers=1)
    try:
        pixels = np.array(loader.request_slice(middle_image_index(series)))
    finally:
        loader.cancel()
    return thumbnail_of(pixels, side)


def thumbnail_of(
    pixels: npt.NDArray[np.generic], side: int = THUMBNAIL_SIDE
) -> npt.NDArray[np.uint8]:
    """Window an image to its 1st-99th percentiles and shrink it to ``side`` at most.

    The aspect ratio is kept (longer side ``side``); an image already smaller keeps
    its size. Shrinking is anti-aliased (each thumbnail pixel averages its area).
    """
    values = np.asarray(pixels, dtype=np.float64)
    low, high = (float(v) for v in np.percentile(values, [1.0, 99.0]))
    scaled = np.clip((values - low) / max(high - low, 1e-6), 0.0, 1.0)
    rows, columns = scaled.shape
    factor = min(1.0, side / max(rows, columns))
    shape = (max(1, round(rows * factor)), max(1, round(columns * factor)))
    if shape != scaled.shape:
        scaled = _resize(scaled, shape, anti_aliasing=True, preserve_range=True)
    return np.round(np.clip(scaled, 0.0, 1.0) * 255.0).astype(np.uint8)
