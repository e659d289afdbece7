"""Pull studies from an archive into a folder, and say whether everything arrived.

The archive's own announcement (the images an image-level search lists) is the
reference: a retrieval that ends early without an error (a WADO-RS multipart stream cut
short, a C-GET sub-operation refused) leaves images missing, and the report names them.

Progress comes at two grains: ``progress`` before each series (images done and
announced), and ``on_image`` with the path of each file as soon as it is written
(from the thread that received it), so a viewer can show an image of a series that
is still arriving. Cancel is checked between series and after each image written:
the file just written stays whole, and a new pull resumes with the missing ones.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from mrecist_reader.archive.errors import (
    ArchiveError,
    ArchiveRequestFailed,
    PullCancelled,
)
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.store import LocalStore

logger = logging.getLogger(__name__)

_R = TypeVar("_R")


class Archive(Protocol):
    """What :func:`pull` needs of an archive client (DIMSE or DICOMweb)."""

    def check(self) -> str: ...  # noqa: D102

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]: ...  # noqa: D102

    def find_series(  # noqa: D102
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]: ...

    def find_instances(self, series: SeriesRecord) -> list[InstanceRecord]: ...  # noqa: D102

    def retrieve(  # noqa: D102
        self, wanted: list[InstanceRecord], store: LocalStore, *, method: str = "auto"
    ) -> None: ...


__all__ = ["Archive", "PullCancelled", "PullReport", "SeriesOutcome", "pull"]


@dataclass(frozen=True, slots=True)
class SeriesOutcome:
    """What happened to one series: counts of images, and the missing ones' UIDs.

    ``error`` is the archive's refusal of this series' retrieval (e.g. an HTTP 500), if
    any: the pull goes on with the other series.
    """

    series: SeriesRecord
    announced: int
    already_here: int
    arrived: int
    missing: tuple[str, ...]
    error: str = ""

    @property
    def is_complete(self) -> bool:
        """Return whether every announced image is in the folder."""
        return not self.missing


@dataclass(frozen=True, slots=True)
class PullReport:
    """The studies found and, series by series, what arrived."""

    studies: tuple[StudyRecord, ...]
    series: tuple[SeriesOutcome, ...]

    @property
    def is_complete(self) -> bool:
        """Return whether every image of every announced series arrived."""
        return all(outcome.is_complete for outcome in self.series)

    @property
    def announced(self) -> int:
        """Return how many images the archive announced."""
        return sum(outcome.announced for outcome in self.series)

    @property
    def present(self) -> int:
        """Return how many announced images are in the folder now."""
        return sum(outcome.announced - len(outcome.missing) for outcome in self.series)


Progress = Callable[[int, int, SeriesRecord], None]
"""Called with (images done, images announced, series being retrieved)."""

CANCELLED = "pull cancelled; what arrived is kept, a new pull resumes"
"""What :class:`PullCancelled` says (between series or after an image written)."""

ImageWritten = Callable[[Path], None]
"""Called with each file's path as soon as it is written (in the receiving thread)."""

Planned = tuple[tuple[SeriesRecord, int], ...]
"""The series a pull is about to retrieve, in order, each with its announced images."""

SeriesOrder = Callable[[Sequence[SeriesRecord]], Sequence[SeriesRecord]]
"""Puts one study's series in the order they are retrieved (e.g. the one read first)."""


def pull(
    archive: Archive,
    query: StudyQuery,
    store: LocalStore,
    *,
    method: str = "auto",
    progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    on_image: ImageWritten | None = None,
    on_plan: Callable[[Planned], None] | None = None,
    order: SeriesOrder | None = None,
) -> PullReport:
    """Find the studies of ``query`` and retrieve their images into ``store``.

    Images already in ``store`` are not retrieved again (resumption). ``progress`` and
    ``is_cancelled`` let a user interface show a bar and stop (between series, and
    after any image written); ``on_image`` is told each file written (see the
    module); ``on_plan`` is told the series about to be retrieved, once, before the
    first; ``order`` puts each study's series in the order to retrieve them.
    """
    # An archive may list a study or series twice (Orthanc's QIDO-RS does when the
    # instances of a study differ in a filtered attribute): each is retrieved once.
    studies = tuple(_unique(archive.find_studies(query), lambda s: s.study_uid))
    plan: list[tuple[SeriesRecord, list[InstanceRecord]]] = []
    for study in studies:
        found = _unique(
            archive.find_series(study.study_uid, query.modality), lambda s: s.series_uid
        )
        for series in found if order is None else order(found):
            images = _unique(archive.find_instances(series), lambda i: i.sop_uid)
            plan.append((series, images))
    if on_plan is not None:
        on_plan(tuple((series, len(images)) for series, images in plan))
    total = sum(len(images) for _, images in plan)
    done = 0
    outcomes: list[SeriesOutcome] = []
    cancelled = is_cancelled or (lambda: False)
    for series, images in plan:
        if cancelled():
            raise PullCancelled(CANCELLED)
        if progress is not None:
            progress(done, total, series)
        with _watching(store, on_image, cancelled):
            outcomes.append(_retrieve_series(archive, series, images, store, method))
        done += len(images)
    if progress is not None and plan:
        progress(done, total, plan[-1][0])
    return PullReport(studies, tuple(outcomes))


@contextmanager
def _watching(
    store: LocalStore, on_image: ImageWritten | None, cancelled: Callable[[], bool]
) -> Iterator[None]:
    """Tell ``on_image`` of each file written, and stop the retrieval on Cancel.

    The store's own ``on_write`` is still called first. A cancel raises
    :class:`PullCancelled` after the file just written (whole, kept): the WADO-RS
    stream stops at its next part, a C-GET or C-MOVE association is aborted.
    """
    before = store.on_write

    def written(path: Path) -> None:
        if before is not None:
            before(path)
        if on_image is not None:
            on_image(path)
        if cancelled():
            raise PullCancelled(CANCELLED)

    store.on_write = written
    try:
        yield
        if cancelled():  # e.g. a C-MOVE whose sub-operations failed after a cancel
            raise PullCancelled(CANCELLED)
    except ArchiveError:
        if cancelled():
            raise PullCancelled(CANCELLED) from None
        raise
    finally:
        store.on_write = before


def _unique(records: list[_R], key: Callable[[_R], str]) -> list[_R]:
    seen: set[str] = set()
    kept = []
    for record in records:
        if key(record) not in seen:
            seen.add(key(record))
            kept.append(record)
    return kept


def _retrieve_series(
    archive: Archive,
    series: SeriesRecord,
    images: list[InstanceRecord],
    store: LocalStore,
    method: str,
) -> SeriesOutcome:
    before = store.present(series.study_uid, series.series_uid)
    wanted = [image for image in images if image.sop_uid not in before]
    error = ""
    if wanted:
        try:
            archive.retrieve(images, store, method=method)
        except ArchiveRequestFailed as failure:
            logger.warning("series %s: %s", series.series_uid, failure)
            error = str(failure)
    after = store.present(series.study_uid, series.series_uid)
    missing = tuple(image.sop_uid for image in images if image.sop_uid not in after)
    if missing:
        logger.warning(
            "series %s: %d of %d images did not arrive",
            series.series_uid,
            len(missing),
            len(images),
        )
    announced = {image.sop_uid for image in images}
    return SeriesOutcome(
        series=series,
        announced=len(images),
        already_here=len(before & announced),
        arrived=len((after - before) & announced),
        missing=missing,
        error=error,
    )
