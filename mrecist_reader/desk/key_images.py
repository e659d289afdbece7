"""Key images of lesions (issue 15, item 8), without Qt.

The reader marks the image shown as a key image of the selected lesion
(:func:`toggle_key_image`: marked, or unmarked when it already is). The image must be
one of the series open for that subject and timepoint (as for a caliper), and a signed
timepoint refuses it. The read stores it (``key_images`` table, schema 8, audited, in
the content hash).

:func:`render_key_image` draws one as a PNG for the read's report: the image windowed
to 8 bits, every caliper recorded on that image burned in, and text that is only ever
the lesion ID, its diameter, the timepoint label and the study day
(:func:`burned_text`), so a blinded read shows no identity in the pixels; the PNG
carries no text chunk (no metadata at all beyond the image). Pillow draws it, off
screen and without Qt, so the command line exports the same pictures.
:func:`write_key_images` writes a read's key images into a ``key_images/`` folder all
or nothing.
"""

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import Caliper, KeyImage, Read
from mrecist_reader.core.units import format_mm
from mrecist_reader.imaging.geometry import patient_to_index
from mrecist_reader.imaging.volume import SeriesInfo, Volume

if TYPE_CHECKING:  # imported where used: the exporter loads this module at start-up
    from PIL import ImageDraw

    from mrecist_reader.desk.desk import ReadingDesk

logger = logging.getLogger(__name__)

KEY_IMAGE_FOLDER = "key_images"
"""The export folder's subfolder of key-image PNGs."""
MIN_SIDE = 512
"""Small images are enlarged (whole pixels) to at least this side, for legible text."""
CALIPER_COLOUR = (255, 220, 0)
TEXT_COLOUR = (255, 255, 255)
CT_WINDOW = (60.0, 400.0)
"""A CT key image's window (centre, width in HU): soft tissue, liver included."""


@dataclass(frozen=True, slots=True)
class ShownImage:
    """The image a pane shows: subject, timepoint, series, image and its place."""

    subject_id: str
    timepoint_index: int
    series_instance_uid: str
    sop_instance_uid: str
    slice_index: int


def toggle_key_image(
    desk: "ReadingDesk", shown: ShownImage, *, now: datetime | None = None
) -> KeyImage | None:
    """Mark the shown image as a key image of the selected lesion, or unmark it.

    Returns the key image marked, or ``None`` when it was a key image and is now
    unmarked.

    Raises
    ------
    MrecistError
        With no read open, no lesion selected, or an image that is not of the series
        open for its subject and timepoint; ``TimepointSigned`` when its timepoint is
        signed. Nothing changes.

    """
    from mrecist_reader.desk.desk import DrawnCaliper

    session = desk.session
    if session is None:
        raise MrecistError("open a study before marking a key image")
    lesion_id = desk.selected_lesion
    if lesion_id is None:
        raise MrecistError("select the lesion this key image shows first (L)")
    origin = (0.0, 0.0, 0.0)
    desk.check_image(
        DrawnCaliper(
            Caliper(origin, origin),
            subject_id=shown.subject_id,
            timepoint_index=shown.timepoint_index,
            series_instance_uid=shown.series_instance_uid,
            sop_instance_uid=shown.sop_instance_uid,
        )
    )
    key = KeyImage(
        timepoint_index=shown.timepoint_index,
        lesion_id=lesion_id,
        series_instance_uid=shown.series_instance_uid,
        sop_instance_uid=shown.sop_instance_uid,
        slice_index=shown.slice_index,
        created_at=now or datetime.now(UTC),
    )
    if is_key_image(session.read, key):
        session.unmark_key_image(key)
        logger.info("unmarked key image of %s", lesion_id)
        return None
    session.mark_key_image(key)
    logger.info("marked key image of %s", lesion_id)
    return key


def is_key_image(read: Read, key: KeyImage) -> bool:
    """Say whether this image is marked for this lesion at this timepoint."""
    return any(
        k.lesion_id == key.lesion_id
        and k.timepoint_index == key.timepoint_index
        and k.sop_instance_uid == key.sop_instance_uid
        for k in read.key_images
    )


@dataclass(frozen=True, slots=True)
class BurnedCaliper:
    """A caliper as drawn on a key image: its ends in (row, column) pixels and label."""

    lesion_id: str
    start: tuple[float, float]
    end: tuple[float, float]
    text: str


def burned_text(read: Read, key: KeyImage) -> tuple[str, ...]:
    """Return the text lines drawn in a key image's corner.

    Only the lesion ID, its recorded diameter, the timepoint label and the study day:
    never a name, ID, date or path, blinded or not.
    """
    timepoint = read.timepoint(key.timepoint_index)
    label = timepoint.label if timepoint is not None else f"TP{key.timepoint_index}"
    lines = [key.lesion_id, label]
    obs = read.observation(key.lesion_id, key.timepoint_index)
    if obs is not None and obs.diameter is not None:
        lines[0] = f"{key.lesion_id} {format_mm(obs.diameter)} mm"
    if timepoint is not None and timepoint.study_day is not None:
        lines[1] = f"{label} day {timepoint.study_day}"
    return tuple(lines)


def burned_calipers(read: Read, key: KeyImage, volume: Volume) -> list[BurnedCaliper]:
    """Return every caliper recorded at the key image's timepoint on its image."""
    found = []
    for obs in read.observations_at(key.timepoint_index):
        if obs.caliper is None or obs.sop_instance_uid != key.sop_instance_uid:
            continue
        ends = patient_to_index(volume.affine, [obs.caliper.p1_mm, obs.caliper.p2_mm])
        text = obs.lesion_id
        if obs.diameter is not None:
            text = f"{obs.lesion_id} {format_mm(obs.diameter)} mm"
        found.append(
            BurnedCaliper(
                obs.lesion_id,
                (float(ends[0][1]), float(ends[0][2])),
                (float(ends[1][1]), float(ends[1][2])),
                text,
            )
        )
    return found


def _slice_of(volume: Volume, key: KeyImage) -> npt.NDArray[np.float64]:
    uids = volume.sop_instance_uids
    if key.sop_instance_uid in uids:
        index = uids.index(key.sop_instance_uid)
    elif 0 <= key.slice_index < volume.shape[0]:
        index = key.slice_index
    else:
        raise MrecistError(
            f"key image of {key.lesion_id}: its image is not in the series loaded"
        )
    return np.asarray(volume.array[index], dtype=np.float64)


def _to_bytes(
    pixels: npt.NDArray[np.float64], window: tuple[float, float] | None
) -> npt.NDArray[np.uint8]:
    """Window the pixels (centre, width; default the 1st-99th percentiles) to 8 bits."""
    if window is None:
        low, high = (float(v) for v in np.percentile(pixels, [1.0, 99.0]))
    else:
        centre, width = window
        low, high = centre - width / 2, centre + width / 2
    span = max(high - low, 1e-6)
    scaled = np.clip((pixels - low) / span, 0.0, 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def render_key_image(
    read: Read,
    key: KeyImage,
    volume: Volume,
    *,
    window: tuple[float, float] | None = None,
    draw_text: Callable[["ImageDraw.ImageDraw", tuple[float, float], str], None]
    | None = None,
) -> bytes:
    """Return the key image as PNG bytes, calipers and labels burned in.

    ``window`` is (centre, width); by default the CT soft-tissue window on CT, else
    the image's 1st-99th percentiles.

    ``draw_text`` draws each text (tests pass a recorder); every text drawn comes from
    :func:`burned_text` or a caliper's lesion ID and diameter.
    """
    if window is None and volume.series.modality == "CT":
        window = CT_WINDOW
    from PIL import Image, ImageDraw

    grey = _to_bytes(_slice_of(volume, key), window)
    scale = max(1, -(-MIN_SIDE // max(grey.shape)))
    picture = Image.fromarray(grey, mode="L").convert("RGB")
    if scale > 1:
        size = (picture.width * scale, picture.height * scale)
        picture = picture.resize(size, Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)
    write = draw_text or _draw_text
    for caliper in burned_calipers(read, key, volume):
        start = _point(caliper.start, scale)
        end = _point(caliper.end, scale)
        draw.line([start, end], fill=CALIPER_COLOUR, width=2)
        for x, y in (start, end):
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=CALIPER_COLOUR)
        write(draw, (end[0] + 6, end[1] + 4), caliper.text)
    for row, line in enumerate(burned_text(read, key)):
        write(draw, (8.0, 8.0 + 20.0 * row), line)
    out = io.BytesIO()
    picture.save(out, format="PNG")  # no text chunks: Pillow writes none unless asked
    return out.getvalue()


def _point(rc: tuple[float, float], scale: int) -> tuple[float, float]:
    """(row, column) pixel centre to (x, y) on the enlarged picture."""
    return ((rc[1] + 0.5) * scale, (rc[0] + 0.5) * scale)


def _draw_text(draw: "ImageDraw.ImageDraw", xy: tuple[float, float], text: str) -> None:
    """Draw a text, moved left or up where it would leave the picture."""
    from PIL import ImageFont

    font = ImageFont.load_default(size=16)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    width, height = draw.im.size
    x = min(xy[0], width - (right - left) - 4)
    y = min(xy[1], height - (bottom - top) - 4)
    draw.text(
        (max(x, 0), max(y, 0)),
        text,
        fill=TEXT_COLOUR,
        font=font,
        stroke_width=2,
        stroke_fill=0,
    )


def key_image_name(read: Read, key: KeyImage, number: int, *, prefix: str = "") -> str:
    """Return a key image's file name: lesion, timepoint label and its number.

    Made of the same tokens as the burned text (no identity); characters outside
    letters, digits, ``-`` and ``_`` become ``_``.
    """
    timepoint = read.timepoint(key.timepoint_index)
    label = timepoint.label if timepoint is not None else f"TP{key.timepoint_index}"
    stem = f"{prefix}{key.lesion_id}_{label}_{number}"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
    return f"{safe}.png"


def write_key_images(
    folder: Path,
    read: Read,
    volume_of: Callable[[str], Volume],
    *,
    window: tuple[float, float] | None = None,
) -> tuple[Path, ...]:
    """Write one read's key images as PNGs into ``folder / "key_images"``, all or nothing.

    ``volume_of`` returns the loaded volume of a series instance UID (it raises
    ``MrecistError`` when the series cannot be loaded). Every PNG is rendered before
    any is written (:func:`write_png_folder`).

    Raises
    ------
    MrecistError
        When the folder already has a ``key_images`` folder, or an image cannot be
        rendered (naming the lesion).

    """
    target = folder / KEY_IMAGE_FOLDER
    if target.exists():
        raise MrecistError(f"{target} already exists; choose an empty export folder")
    rendered = [
        (
            key_image_name(read, key, number),
            render_key_image(
                read, key, volume_of(key.series_instance_uid), window=window
            ),
        )
        for number, key in enumerate(read.key_images, start=1)
    ]
    return write_png_folder(folder, rendered)


@dataclass(frozen=True, slots=True)
class RenderedKeyImages:
    """The PNGs of an export's key images (name, bytes) and how many had no images."""

    pngs: tuple[tuple[str, bytes], ...]
    without_images: int


def render_for_export(
    reads: Sequence[Read], volume_of: Callable[[str], Volume | None]
) -> RenderedKeyImages:
    """Render the key images of every read, before anything of the export is written.

    A read's PNGs are named ``<subject>_<reader>_<lesion>_<timepoint>_<n>.png``; a key
    image whose series ``volume_of`` cannot find (``None``: not in the worklist) is
    counted, not rendered.
    """
    pngs: list[tuple[str, bytes]] = []
    missing = 0
    for read in reads:
        prefix = f"{read.key.subject_id}_{read.key.reader_id}_"
        for number, key in enumerate(read.key_images, start=1):
            try:
                volume = volume_of(key.series_instance_uid)
            except (MrecistError, OSError, ValueError) as error:
                logger.warning("key image series not loaded: %s", type(error).__name__)
                raise MrecistError(
                    f"key image {number} of {read.key.subject_id} {key.lesion_id}: "
                    "its series could not be loaded; nothing exported"
                ) from error
            if volume is None:
                missing += 1
                continue
            name = key_image_name(read, key, number, prefix=prefix)
            pngs.append((name, render_key_image(read, key, volume)))
    return RenderedKeyImages(tuple(pngs), missing)


def write_png_folder(
    folder: Path,
    pngs: Sequence[tuple[str, bytes]],
    *,
    private: bool = False,
) -> tuple[Path, ...]:
    """Write PNGs into ``folder / "key_images"``, replacing it whole or not at all.

    They go into a temporary folder beside it that then takes its place (an older
    ``key_images`` folder is removed only once the new one is complete). ``private``:
    readable by the owner only (a blinded export).

    Raises
    ------
    MrecistError
        When the folder cannot be written (nothing changed).

    """
    target = folder / KEY_IMAGE_FOLDER
    staging = Path(tempfile.mkdtemp(prefix=".key_images-", dir=folder))
    old = folder / f".key_images-old-{os.getpid()}"
    try:
        for name, data in pngs:
            path = staging / name
            path.write_bytes(data)
            if private:
                path.chmod(0o600)
        if not private:
            staging.chmod(0o777 & ~_umask())
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise MrecistError(f"{target}: key images not written ({error})") from error
    shutil.rmtree(old, ignore_errors=True)
    return tuple(target / name for name, _ in pngs)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def worklist_volumes(
    series: Sequence[SeriesInfo],
) -> Callable[[str], Volume | None]:
    """Return a loader of the volumes of these series by UID (``None``: not among them).

    Each series is loaded once, when a key image first needs it.
    """
    from mrecist_reader.imaging.load import load_volume

    by_uid = {s.series_instance_uid: s for s in series}
    loaded: dict[str, Volume] = {}

    def volume_of(uid: str) -> Volume | None:
        found = by_uid.get(uid)
        if found is None:
            return None
        if uid not in loaded:
            loaded[uid] = load_volume(found)
        return loaded[uid]

    return volume_of


def volumes_for_export(
    reads: Sequence[Read], images: Path | None, *, places: Path | None = None
) -> Callable[[str], Volume | None] | None:
    """Return the loader of the series the reads' key images show, for an export.

    For the command line, which has no worklist: the series are found in ``images``
    (folder, zip or DICOMDIR), else in the folders the application remembers they
    were opened from (:mod:`~mrecist_reader.desk.image_places`). ``None``: no read
    has a key image. A series found nowhere is counted in the export's summary.
    """
    wanted = {k.series_instance_uid for read in reads for k in read.key_images}
    if not wanted:
        return None
    from mrecist_reader.desk.image_places import folders_for
    from mrecist_reader.imaging.scan import scan

    roots = [images] if images is not None else folders_for(wanted, places)
    found = [
        series
        for root in roots
        for series in scan(root).series
        if series.series_instance_uid in wanted
    ]
    return worklist_volumes(found)


def key_images_of(read: Read, lesion_id: str) -> Sequence[KeyImage]:
    """Return the key images of one lesion, in the order they were marked."""
    return tuple(k for k in read.key_images if k.lesion_id == lesion_id)
