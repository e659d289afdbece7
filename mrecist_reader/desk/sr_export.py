"""DICOM SR (TID 1500) of every signed timepoint of a set of reads, all or nothing.

For ``mrecist-reader export --sr DIR [--images PATH]`` and for sign-off
(:mod:`mrecist_reader.desk.sr_outbox`). An SR needs the header of every image a
caliper lies on: the images are found by scanning ``--images`` (a folder, zip or
DICOMDIR) and keeping the series the reads refer to. A series that cannot be found
is named, and nothing is written. The SRs refer to the images by the UIDs the
archive holds (the ones recorded with the read), also for a blinded read, whose SR
otherwise carries only the trial's pseudonymous identifiers
(:func:`mrecist_reader.archive.sr.measurement_report`).
"""

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from mrecist_reader.archive.kos import key_object_selection
from mrecist_reader.archive.sr import SRExportError, image_headers, measurement_report
from mrecist_reader.core.assess import TimepointAssessment
from mrecist_reader.core.completeness import assess_complete
from mrecist_reader.core.errors import InvalidProfile
from mrecist_reader.core.model import Read, ReadKey, ReadStatus
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.desk.export import is_blinded
from mrecist_reader.desk.image_places import folders_for
from mrecist_reader.imaging.scan import scan
from mrecist_reader.resources import shipped_profile

logger = logging.getLogger(__name__)

__all__ = [
    "SRExportError",
    "SRFile",
    "build_key_image_documents",
    "build_reports",
    "export_sr",
    "images_for",
    "key_image_series",
    "missing_series",
    "referenced_series",
    "reports_for",
    "sr_file_name",
    "write_atomically",
]


@dataclass(frozen=True, slots=True)
class SRFile:
    """One SR to write: its file name and the report."""

    name: str
    report: Dataset
    key: ReadKey
    timepoint_index: int


def signed_indexes(read: Read) -> tuple[int, ...]:
    """Return the indexes of the read's signed timepoints."""
    return tuple(t.index for t in read.timepoints if t.read_status is ReadStatus.SIGNED)


def referenced_series(reads: Iterable[Read]) -> set[str]:
    """Return the series the signed timepoints' observations lie on."""
    series: set[str] = set()
    for read in reads:
        signed = set(signed_indexes(read))
        series |= {
            o.series_instance_uid
            for o in read.observations
            if o.timepoint_index in signed
            and o.sop_instance_uid
            and o.series_instance_uid
        }
    return series


def key_image_series(reads: Iterable[Read]) -> set[str]:
    """Return the series the signed timepoints' key images are on."""
    return {
        k.series_instance_uid
        for read in reads
        for k in read.key_images
        if k.timepoint_index in set(signed_indexes(read))
    }


def images_for(
    reads: Sequence[Read], images: Path | None, *, places: Path | None = None
) -> dict[str, Dataset]:
    """Return the headers of the images the reads' signed timepoints refer to.

    ``images`` is scanned (folder, zip or DICOMDIR) and only the files of the
    referenced series are read; ``None``: the folders the application remembers
    the series were opened from (:mod:`~mrecist_reader.desk.image_places`, kept in
    ``places``, default the user's).
    """
    if images is not None and not images.exists():
        raise SRExportError(f"--images {images}: no such file or folder")
    wanted = referenced_series(reads)
    if not wanted:
        return {}
    roots = [images] if images is not None else folders_for(wanted, places)
    files = [
        path
        for root in roots
        for series in scan(root).series
        if series.series_instance_uid in wanted
        for path in series.files
    ]
    return image_headers(dict.fromkeys(files))


def missing_series(
    reads: Iterable[Read], images: Mapping[str, Dataset]
) -> tuple[str, ...]:
    """Return, in words, each series an SR needs that ``images`` does not hold."""
    missing: dict[str, list[str]] = {}
    for read in reads:
        signed = set(signed_indexes(read))
        labels = {t.index: t.label for t in read.timepoints}
        for o in read.observations:
            if o.timepoint_index not in signed or not o.sop_instance_uid:
                continue
            if o.sop_instance_uid in images:
                continue
            where = (
                f"subject {read.key.subject_id} ({read.key.reader_id}) "
                f"{labels.get(o.timepoint_index, o.timepoint_index)}"
            )
            places = missing.setdefault(o.series_instance_uid or "?", [])
            if where not in places:
                places.append(where)
    return tuple(
        f"series {uid} ({', '.join(places)})" for uid, places in missing.items()
    )


def sr_file_name(key: ReadKey, timepoint_index: int) -> str:
    """Return the SR's file name: subject, reader, read type and timepoint index."""
    name = f"sr_{key.subject_id}_{key.reader_id}_{key.read_type}_tp{timepoint_index}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".dcm"


def _responses(
    read: Read, profile: ProtocolProfile | None
) -> dict[int, TimepointAssessment]:
    if profile is None:
        return {}
    assessment = assess_complete(read, profile)
    if assessment is None:
        return {}
    return {t.timepoint_index: t for t in assessment.timepoints}


def _profile_of(
    read: Read, stored: Mapping[ReadKey, ProtocolProfile]
) -> ProtocolProfile | None:
    profile = stored.get(read.key)
    if profile is not None:
        return profile
    try:
        return shipped_profile(read.protocol_profile)
    except (OSError, InvalidProfile) as error:
        logger.warning(
            "subject %s: profile %s not loaded (%s); SR without responses",
            read.key.subject_id,
            read.protocol_profile,
            error,
        )
        return None


def build_reports(
    reads: Iterable[Read],
    images: Mapping[str, Dataset],
    *,
    blinded: bool = False,
    profiles: Mapping[ReadKey, ProtocolProfile] | None = None,
    only: tuple[int, ...] | None = None,
) -> list[SRFile]:
    """Return the SR of every signed timepoint of ``reads`` (nothing written).

    ``blinded`` blinds local reads too (central reads always are); ``profiles`` are
    the profiles stored with the reads (else the shipped profile of each read's
    name) for the timepoints' responses; ``only`` restricts to these timepoint
    indexes (sign-off). Raises :class:`SRExportError` naming every series that
    ``images`` lacks, before any report is built.
    """
    reads = list(reads)
    missing = missing_series(reads, images)
    if missing:
        raise SRExportError(
            "images not found for the SR: "
            + "; ".join(missing)
            + "; say where they are (--images FOLDER, zip or DICOMDIR)"
        )
    stored = profiles or {}
    files: list[SRFile] = []
    for read in reads:
        indexes = [i for i in signed_indexes(read) if only is None or i in set(only)]
        if not indexes:
            continue
        responses = _responses(read, _profile_of(read, stored))
        blind = is_blinded(read, blinded=blinded)
        for index in indexes:
            report = measurement_report(
                read, index, images, blinded=blind, responses=responses.get(index)
            )
            files.append(SRFile(sr_file_name(read.key, index), report, read.key, index))
    return files


def build_key_image_documents(
    reads: Iterable[Read],
    images: Mapping[str, Dataset],
    *,
    blinded: bool = False,
    only: tuple[int, ...] | None = None,
) -> list[SRFile]:
    """Return the key images of every signed timepoint that has some, as KOS files.

    One Key Object Selection document per timepoint
    (:func:`mrecist_reader.archive.kos.key_object_selection`), named as its SR with
    ``ko_`` for ``sr_``; ``blinded`` and ``only`` as for :func:`build_reports`.
    """
    files: list[SRFile] = []
    for read in reads:
        blind = is_blinded(read, blinded=blinded)
        for index in signed_indexes(read):
            if only is not None and index not in only:
                continue
            document = key_object_selection(read, index, images, blinded=blind)
            if document is not None:
                name = "ko_" + sr_file_name(read.key, index).removeprefix("sr_")
                files.append(SRFile(name, document, read.key, index))
    return files


def write_atomically(files: Sequence[SRFile], folder: Path) -> list[Path]:
    """Write every SR into ``folder``: each complete or not at all, and all or none.

    Every file is first written under a temporary name; only when all are written
    are they renamed into place (an error leaves the folder as it was).
    """
    folder.mkdir(parents=True, exist_ok=True)
    temporaries: list[tuple[Path, Path]] = []
    try:
        for file in files:
            temporary = folder / f".{file.name}.part"
            temporaries.append((temporary, folder / file.name))
            file.report.save_as(temporary, enforce_file_format=True)
        for temporary, target in temporaries:
            os.replace(temporary, target)
    finally:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)
    return [target for _, target in temporaries]


def reports_for(
    reads: Sequence[Read],
    images: Path | None,
    *,
    blinded: bool = False,
    profiles: Mapping[ReadKey, ProtocolProfile] | None = None,
    places: Path | None = None,
) -> list[SRFile]:
    """Return the SR of every signed timepoint of ``reads``, images from ``images``.

    ``images`` says where the images are (folder, zip or DICOMDIR); the profiles
    default to the ones ``reads`` carry when they come from
    :func:`~mrecist_reader.desk.export.database_reads`. Raises
    :class:`SRExportError` when a series cannot be found.
    """
    stored = profiles if profiles is not None else getattr(reads, "profiles", {})
    headers = images_for(reads, images, places=places)
    return build_reports(reads, headers, blinded=blinded, profiles=stored)


def export_sr(
    reads: Sequence[Read],
    folder: Path,
    images: Path | None,
    *,
    blinded: bool = False,
    profiles: Mapping[ReadKey, ProtocolProfile] | None = None,
) -> list[Path]:
    """Write the SR of every signed timepoint of ``reads`` into ``folder``.

    Raises :class:`SRExportError` (nothing written) when a series cannot be found.
    """
    files = reports_for(reads, images, blinded=blinded, profiles=profiles)
    return write_atomically(files, folder)
