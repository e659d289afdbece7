"""A series on screen while it is still arriving from the archive (Qt-free).

A retrieval writes one file at a time (:func:`mrecist_reader.archive.pull.pull`'s
``on_image``). As soon as the first image of the series the window would show first
is in the cache, that image is shown: decoded from the arrived file
(:func:`decode_arrived`) and windowed like any image, under a caption that says it is
incomplete ("arriving: 37 of 300 images", "— measuring waits for the whole series"). The
reader may scroll through the images arrived so far, in the order they arrived.

**Which series.** Before a series is complete only the archive's series records are
known (modality, description, number of images), so the choice follows
:mod:`mrecist_reader.desk.first_image` as far as the records tell it:

- only the first study retrieved (the earliest timepoint chosen) is ever shown early;
- its series are retrieved with the arterial one first, as its description reads
  (:func:`arterial_first`, :func:`~mrecist_reader.imaging.phase.phase_from_text`), so
  that the first image to arrive is usually the one to read;
- when no record reads arterial, the first series to arrive is shown (captioned with
  its own description): the reader sees the study's first images at once; a series
  whose record reads arterial replaces it when its first image arrives, and so does
  the next series once it has arrived entirely (a series that does not read arterial
  opens only when the whole study has arrived: until then the reader sees what is
  arriving). Which series opens for reading is then decided on the complete series
  (:mod:`mrecist_reader.desk.archive_early`); when it is another one, it opens at its
  own first image.

**Reading rules.** Nothing is measured on a series that has not arrived entirely: a
caliper, a click-measure, an ROI, a lesion placed or a timepoint signed is refused with
a message that says how many images have arrived (:meth:`ArrivalPreview.check`). When
the window opens what arrived (the first complete series early,
:mod:`mrecist_reader.desk.archive_early`, or the whole folder at the end), the preview
ends (:meth:`ArrivalPreview.hand_over`) and the full series opens in its place, at
the image the reader was looking at when it is the same series (:func:`kept_slice`).

**Blinding.** A blinded read's caption names the trial subject and timepoint (the
archive's pseudonymous ClinicalTrial identifiers), the modality and the phase the
description reads, never the description itself (it may name a treatment arm), a
date, a patient's identity or a path; a file that cannot be decoded is named by its
SOP Instance UID.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mrecist_reader.archive.pull import Planned
from mrecist_reader.archive.records import SeriesRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.blinding import phase_label
from mrecist_reader.imaging.phase import phase_from_text
from mrecist_reader.imaging.volume import Phase, SeriesInfo

DASH = "\u2014"


class Action(StrEnum):
    """What the reader may do only on a series that has arrived entirely."""

    CALIPER = "drawing a caliper"
    MEASURE = "click-measuring"
    ROI = "drawing an ROI"
    LESION = "placing a lesion"
    SIGN = "signing the timepoint"


class SeriesStillArriving(MrecistError):
    """The reader tried to measure (or sign) on a series still arriving."""


def record_phase(series: SeriesRecord) -> Phase:
    """Return the phase an archive's series record names (its description only)."""
    return phase_from_text(series.description)


def arterial_first(series: Sequence[SeriesRecord]) -> list[SeriesRecord]:
    """Return one study's series with those whose description reads arterial first.

    The archive's order is kept otherwise (a stable sort).
    """
    return sorted(series, key=lambda s: record_phase(s) is not Phase.ARTERIAL)


@dataclass(frozen=True, slots=True)
class Arriving:
    """One series as far as it has arrived: its record and its files so far."""

    series: SeriesRecord
    announced: int
    files: tuple[Path, ...]
    subject_id: str = ""
    timepoint: str = ""
    blinded: bool = False

    @property
    def arrived(self) -> int:
        """Return how many of its images are in the cache."""
        return len(self.files)

    @property
    def is_complete(self) -> bool:
        """Return whether every announced image has arrived."""
        return self.arrived >= self.announced

    def name(self) -> str:
        """Return the series as the caption names it (blinded: modality and phase)."""
        if self.blinded:
            return f"{self.series.modality} {phase_label(record_phase(self.series))}"
        return self.series.description or self.series.modality or "series"

    def count_text(self) -> str:
        """Return "arriving: 37 of 300 images" and why measuring waits, on two lines.

        Two short lines: a narrow pane's caption is cut at its width.
        """
        if self.is_complete:
            return f"arrived: all {self.announced} images\n{DASH} opens for reading shortly"
        return (
            f"arriving: {self.arrived} of {self.announced} images\n"
            f"{DASH} measuring waits for the whole series"
        )

    def caption(self) -> str:
        """Return the preview's caption: subject, timepoint, series and the count."""
        head = "   ".join(t for t in (self.subject_id, self.timepoint) if t)
        return "\n".join(t for t in (head, self.name(), self.count_text()) if t)

    def refusal(self, action: Action) -> str:
        """Return why ``action`` is refused on this series, in words."""
        return (
            f"{str(action).capitalize()} waits for the whole series: {self.arrived} "
            f"of {self.announced} images of {self.name()} have arrived. It opens "
            "for reading as soon as all are here."
        )


@dataclass(frozen=True, slots=True)
class HandOver:
    """The preview that ended: its series and the image the reader was looking at."""

    series_uid: str
    sop_uid: str


@dataclass
class ArrivalPreview:
    """What the window shows of a series still arriving, and what it refuses.

    Held by the window (in its thread): :meth:`show` with each new
    :class:`Arriving`, :meth:`looked_at` with the image on screen; :meth:`check`
    before a caliper, click-measure, ROI, lesion or sign-off; :meth:`hand_over` when
    the window opens what arrived.
    """

    arriving: Arriving | None = None
    sop_uid: str = ""
    """The SOP Instance UID of the image on screen (the file's name)."""

    def show(self, arriving: Arriving) -> bool:
        """Show ``arriving``; return whether it is another series than before."""
        other = (
            self.arriving is None
            or self.arriving.series.series_uid != arriving.series.series_uid
        )
        self.arriving = arriving
        if other:
            self.sop_uid = arriving.files[0].stem if arriving.files else ""
        return other

    def looked_at(self, index: int) -> None:
        """Note the arrived image the reader is looking at (by its index)."""
        if self.arriving is not None and 0 <= index < self.arriving.arrived:
            self.sop_uid = self.arriving.files[index].stem

    @property
    def is_showing(self) -> bool:
        """Return whether a series still arriving is on screen."""
        return self.arriving is not None

    def check(self, action: Action) -> None:
        """Refuse ``action`` while a series still arriving is on screen.

        Raises
        ------
        SeriesStillArriving
            With a message saying how many images have arrived.
        """
        if self.arriving is not None:
            raise SeriesStillArriving(self.arriving.refusal(action))

    def hand_over(self) -> HandOver | None:
        """End the preview; return the series and image to keep (``None``: none shown)."""
        arriving, self.arriving = self.arriving, None
        if arriving is None:
            return None
        return HandOver(arriving.series.series_uid, self.sop_uid)


def kept_slice(series: SeriesInfo, hand_over: HandOver | None) -> int | None:
    """Return the volume slice of the image the preview showed, in the full series.

    ``None`` when the full series is another one or does not hold that image (the
    series then opens as any series does).
    """
    if hand_over is None or series.series_instance_uid != hand_over.series_uid:
        return None
    try:
        image = series.sop_instance_uids.index(hand_over.sop_uid)
    except ValueError:
        return None
    return series.volume_slice_of_image[image]


@dataclass
class ArrivalWatch:
    """Follows a retrieval image by image and says what to show early (no Qt).

    :meth:`plan` (a pull's ``on_plan``) and :meth:`image` (its ``on_image``) are
    called in the retrieval's threads; ``show`` is called there too, with each new
    :class:`Arriving` of the series chosen (see the module). ``studies`` gives each
    study's trial subject and timepoint, for the caption.
    """

    store: LocalStore
    show: Callable[[Arriving], None]
    blinded: bool = False
    studies: dict[str, tuple[str, str]] = field(default_factory=dict)
    stopped: bool = False
    """Set once the window opened what arrived: nothing more is shown early."""
    _first_study: str = ""
    _records: dict[str, tuple[SeriesRecord, int]] = field(default_factory=dict)
    _shown: Arriving | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, planned: Planned) -> None:
        """Note the series a pull is about to retrieve (the first plan's study only)."""
        with self._lock:
            if self._first_study or not planned:
                return
            self._first_study = planned[0][0].study_uid
            for series, count in planned:
                if series.study_uid == self._first_study:
                    self._records[series.series_uid] = (series, count)

    def image(self, path: Path) -> None:
        """Note a file written; show it when it belongs to the series to show."""
        with self._lock:
            arriving = None if self.stopped else self._next(path)
            if arriving is not None:
                self._shown = arriving
        if arriving is not None:
            self.show(arriving)

    def _next(self, path: Path) -> Arriving | None:
        found = self._records.get(path.parent.name)
        if found is None or path.parent.parent.name != self._first_study:
            return None
        series, count = found
        shown = self._shown
        if shown is not None and shown.series.series_uid == series.series_uid:
            if path in shown.files:
                return None
            return replace(shown, files=(*shown.files, path))
        if shown is not None and not _takes_over(series, shown):
            return None  # the series shown stays
        here = sorted(
            self.store.series_dir(series.study_uid, series.series_uid) / f"{uid}.dcm"
            for uid in self.store.present(series.study_uid, series.series_uid)
        )
        subject, timepoint = self.studies.get(series.study_uid, ("", ""))
        return Arriving(
            series,
            count,
            (*(p for p in here if p != path), path),
            subject_id=subject,
            timepoint=timepoint,
            blinded=self.blinded,
        )


def _takes_over(series: SeriesRecord, shown: Arriving) -> bool:
    """Return whether ``series``, starting to arrive, replaces the one shown.

    An arterial record replaces one that is not; a series that is not arterial and has
    arrived entirely gives way to the next one arriving (it would not open before the
    study has arrived: the reader sees what is arriving instead).
    """
    if record_phase(shown.series) is Phase.ARTERIAL:
        return False
    return record_phase(series) is Phase.ARTERIAL or shown.is_complete


@dataclass(frozen=True, slots=True)
class ArrivedImage:
    """One arrived file decoded: its pixels (as any image is loaded) and geometry."""

    series: SeriesInfo
    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]

    @property
    def sop_uid(self) -> str:
        """Return the image's SOP Instance UID."""
        return self.series.sop_instance_uids[0]

    def affine_at(self, index: int) -> npt.NDArray[np.float64]:
        """Return the affine that puts this image at slice ``index`` of a stack.

        The images arrived so far are not an evenly spaced volume: a preview shows
        each at its own place (its position read out right) by giving the stack this
        affine while it is on screen.
        """
        affine = np.array(self.affine, dtype=np.float64)
        affine[:3, 3] -= index * affine[:3, 0]
        return affine


def decode_arrived(path: Path) -> ArrivedImage:
    """Decode one arrived file the way any series is loaded (one image, one slice).

    Raises
    ------
    MrecistError
        When the file holds no image that can be shown (named by its SOP Instance
        UID, never by its path: a blinded read shows none).
    """
    from mrecist_reader.imaging.load import open_volume, series_affine
    from mrecist_reader.imaging.scan import scan

    try:
        found = scan(path, use_index=False)
        if not found.series:
            reason = found.skipped[0].reason if found.skipped else "not an image"
            raise MrecistError(f"arrived image {path.stem} cannot be shown: {reason}")
        series = found.series[0]
        loader = open_volume(series, workers=1)
        try:
            array = np.array(loader.request_slice(0))
        finally:
            loader.cancel()
    except (OSError, ValueError) as error:  # its text may hold the path: not shown
        raise MrecistError(
            f"arrived image {path.stem} cannot be shown ({type(error).__name__})"
        ) from error
    return ArrivedImage(series, array, series_affine(series))
