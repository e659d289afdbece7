"""How large a file may say its pixels are, checked against its bytes before allocating.

A header is a claim: a 210 KB file may declare 2,147,483,647 frames, an RLE file
Rows = Columns = 65535 (8.6 GB of pixels). ``scan`` and the loader compare what
Rows x Columns x Samples x bits x frames declares with the bytes the file really holds
before any array is made:

- uncompressed pixels must be present in full (the Pixel Data length, the file's size);
- compressed pixels may expand at most :data:`MAX_COMPRESSION_RATIO` times the file's
  size (beyond what any lossless codec achieves on a real slice: RLE tops out near 64,
  JPEG-LS and JPEG 2000 on a blank slice near 1,000), with a small allowance
  (:data:`ALWAYS_PLAUSIBLE_BYTES`) so that tiny files of blank slices still load;
- nothing may declare more than :data:`MAX_PIXEL_BYTES` or :data:`MAX_FRAMES`, whatever
  its size, and an encapsulated file never has more frames than fragments (PS3.5 A.4:
  every frame starts a fragment).
"""

__all__ = [
    "ALWAYS_PLAUSIBLE_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_FRAMES",
    "MAX_PIXEL_BYTES",
    "declared_pixel_bytes",
    "pixel_size_problem",
]

MAX_PIXEL_BYTES = (1 << 32) - 1
"""No file may declare more pixel bytes than a DICOM element can hold (4 GiB)."""
MAX_FRAMES = 100_000
"""No file may declare more frames (an enhanced CT of a whole trial has a few thousand)."""
MAX_COMPRESSION_RATIO = 2000
"""Compressed pixels may declare at most this many times the file's size."""
ALWAYS_PLAUSIBLE_BYTES = 2 << 20
"""Declared pixels up to this size (a 1024 x 1024 16-bit slice) are never refused."""


def declared_pixel_bytes(
    rows: int, columns: int, *, samples: int, bits_allocated: int, frames: int
) -> int:
    """Return the bytes Rows x Columns x Samples x BitsAllocated x frames declare."""
    return rows * columns * samples * frames * bits_allocated // 8


def pixel_size_problem(
    declared: int, *, frames: int, file_size: int, compressed: bool
) -> str:
    """Return why ``declared`` pixel bytes cannot come from the file ('' when they can).

    Parameters
    ----------
    declared
        Bytes the header declares (:func:`declared_pixel_bytes`).
    frames
        NumberOfFrames as declared (1 when absent).
    file_size
        The file's size in bytes.
    compressed
        Whether the pixels are compressed (encapsulated or deflated).

    Returns
    -------
    str
        A sentence for a ``skipped`` entry or an error, '' when plausible.

    """
    if frames < 1 or frames > MAX_FRAMES:
        return (
            f"NumberOfFrames (0028,0008) {frames} is not a number of frames "
            f"(expected 1 to {MAX_FRAMES})"
        )
    if declared > MAX_PIXEL_BYTES:
        return (
            f"Rows x Columns x samples x bits x frames declare {declared} bytes of "
            f"pixels, more than any DICOM file can hold ({MAX_PIXEL_BYTES})"
        )
    if not compressed:
        return ""  # the Pixel Data length is compared with what is declared
    allowed = max(ALWAYS_PLAUSIBLE_BYTES, MAX_COMPRESSION_RATIO * file_size)
    if declared > allowed:
        return (
            f"Rows x Columns x samples x bits x frames declare {declared} bytes of "
            f"pixels, more than a {file_size}-byte compressed file can hold "
            f"(at most {MAX_COMPRESSION_RATIO} times its size)"
        )
    return ""
