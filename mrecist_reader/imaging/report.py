"""What a load report lists: the files ``scan`` did not use and why, and series warnings.

Qt-free helpers for the application's load report and the command line: how many files
were skipped, in words ("1 file", never "1 files"), what kind of problem each skip is
(grouped under headings a radiologist understands), and which series carry warnings.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from mrecist_reader.imaging.sources import SkippedFile
from mrecist_reader.imaging.volume import SeriesInfo


class SkipKind(StrEnum):
    """Why a file was not loaded, in a reader's words (the value is the heading)."""

    DAMAGED = "damaged or cut short"
    NOT_AN_IMAGE = "not an image (report, dose page, segmentation, folder index...)"
    NOT_DICOM = "not a DICOM file"
    UNSUPPORTED = "image kind not supported"
    UNREACHABLE = "could not be opened or found"
    REFUSED = "refused for safety"


_KIND_WORDS: tuple[tuple[SkipKind, tuple[str, ...]], ...] = (
    (SkipKind.REFUSED, ("refused",)),
    (
        SkipKind.UNREACHABLE,
        ("points at a missing file", "folder cannot be read", "could not be extracted"),
    ),
    (
        SkipKind.DAMAGED,
        (
            "truncated",
            "cut short",
            "damaged",
            "empty file",
            "empty pixel data",
            "not readable as dicom",
            "malformed",
            "pixel data holds",
            "unreadable zip",
            "unreadable dicom",
            "unreadable rows",
        ),
    ),
    (
        SkipKind.NOT_AN_IMAGE,
        (
            "not an image",
            "no pixel data",
            "dicomdir",
            "secondary capture page",
            "not a dicom image",
            "image without rows",
        ),
    ),
    (SkipKind.NOT_DICOM, ("not a dicom file", "zip archive")),
    (SkipKind.UNSUPPORTED, ("not supported", "unsupported", "cannot be unpacked")),
    (SkipKind.UNREACHABLE, ("cannot be read", "not found", "no such file")),
)


def skip_kind(reason: str) -> SkipKind:
    """Return the kind of a skip reason written by ``scan`` (damaged when unknown)."""
    text = reason.lower()
    for kind, words in _KIND_WORDS:
        if any(word in text for word in words):
            return kind
    return SkipKind.DAMAGED


def count_text(count: int, noun: str, plural: str = "") -> str:
    """Return ``"1 file"``, ``"3 files"`` (``plural`` when the noun is irregular)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


@dataclass(frozen=True, slots=True)
class SkipGroup:
    """Skipped files of one kind, in path order."""

    kind: SkipKind
    files: tuple[SkippedFile, ...]


def group_skipped(skipped: Iterable[SkippedFile]) -> tuple[SkipGroup, ...]:
    """Return the skipped files grouped by kind (damaged first), each sorted by path."""
    by_kind: dict[SkipKind, list[SkippedFile]] = {}
    for item in skipped:
        by_kind.setdefault(skip_kind(item.reason), []).append(item)
    return tuple(
        SkipGroup(kind, tuple(sorted(by_kind[kind], key=lambda s: s.path)))
        for kind in SkipKind
        if kind in by_kind
    )


def series_with_warnings(series: Iterable[SeriesInfo]) -> tuple[SeriesInfo, ...]:
    """Return the series that carry warnings, in the order given."""
    return tuple(s for s in series if s.warnings)


def load_summary(series: Sequence[SeriesInfo], skipped: Sequence[SkippedFile]) -> str:
    """Return one line for a status bar: series found, files skipped, warnings."""
    parts = [f"{count_text(len(series), 'series', 'series')} found"]
    if skipped:
        parts.append(f"{count_text(len(skipped), 'file')} not loaded")
    warned = len(series_with_warnings(series))
    if warned:
        parts.append(f"{count_text(warned, 'series', 'series')} with warnings")
    text = "; ".join(parts)
    return text + (": see the load report" if len(parts) > 1 else "")
