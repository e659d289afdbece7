"""One exporter for the window and the command line (data-transfer.md §Files).

What a read exports, whoever asks:

- **measurements.csv**: every observation as recorded, draft or signed (its
  ``read_status`` says which).
- **responses.csv**: one row per *complete* timepoint only: the run of timepoints from
  baseline on where every lesion known before has a status and the read has no problem
  (:func:`~mrecist_reader.core.completeness.assess_complete`). A timepoint still being
  read gets no row, never an ``NE`` or ``SD`` made up for it;
  :attr:`ExportResult.without_response` says which timepoints were left out and why
  (``S01 FU2: T2 (target) not assessed``).
- **Blinding** (:func:`is_blinded`): a central read is always exported blinded; a local
  read is blinded when the export is (``--blinded``, or the settings'
  ``blinded_export``). Blinded rows have no ``scan_date`` and no ``site_id``.
- **Both files or neither**: every row is made before the first byte is written, and
  the two files are replaced together (``transfer.atomic.atomic_write_all``); the
  temporary files of an export that was killed are removed by the next one.
- **Permissions**: the files follow the umask; an export holding a blinded read is
  readable by its owner only (0600).
- **The audit trail's head**: an export of a database's reads also writes
  ``audit_head.txt`` (the trail's entry count and last hash) in the same all-or-nothing
  step; ``mrecist-reader audit --verify --since audit_head.txt`` later proves that the
  database's trail still extends it (issue 21, item 1).

- **Independence** (central-review.md §Independence): :func:`database_reads` given the
  caller's reader ID returns only that reader's own reads when they are a primary
  reader of assigned subjects (no other reader's read, no final reads, no
  ``adjudication.csv``); any other caller gets everything.
- **rois.csv** (issue 15): the ROIs kept with the reads as evidence
  (``transfer.columns.ROI_COLUMNS``), written beside the other files in the same
  all-or-nothing step when at least one exported read keeps an ROI; its rows follow
  measurements.csv's blinding and UID pseudonyms.
- **adjudication.csv**: written beside the other files, in the same all-or-nothing
  step, when the database holds read cuts and the caller is not a primary reader.
- **Read roles** (central-review.md §Exports): every read is written with its
  ``read_role``: a central read ``primary`` (an assigned subject's primary reader's, or
  an unassigned subject's), a site's read ``local``. For a caller who is not a primary
  reader, a database with assignments also gives each subject's final read (reader 1's
  when concordant, the chosen reader's when adjudicated, none while awaiting), written
  after its source read with ``read_role`` ``final`` and ``reader_id`` and
  ``source_reader`` both that reader.
- **UIDs** (issue 21, item 7): a blinded read's DICOM UIDs (``series_instance_uid``,
  ``sop_instance_uid``: ``transfer.csv_out.UID_COLUMNS``) are written as keyed
  pseudonyms (``2.25.`` and 128 bits of an HMAC with the reads database's secret; many
  scanners put the acquisition date and time in a UID). The database keeps each
  pseudonym with its UID (``ReadRepository.original_uid`` resolves one a sponsor asks
  about); the same UID gets the same pseudonym in every export of one database. The
  database is the one given (``uids``: the window passes its own), or the one the
  reads of :func:`database_reads` come from; without one (reads from elsewhere) a
  blinded read's UID cells are left empty rather than exported. An unblinded read
  keeps its UIDs.

The window passes the open read, or the reader's reads of every subject; the command
line every read in the database. The same reads with the same settings give the same
bytes.
"""

import io
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mrecist_reader.core.adjudication import AdjudicationCase, is_withdrawn_reader_id
from mrecist_reader.core.completeness import assess_complete, without_response
from mrecist_reader.core.errors import InvalidProfile, MrecistError
from mrecist_reader.core.integrity import AUDIT_HEAD_FILE, AuditHead
from mrecist_reader.core.model import Read, ReadKey, ReadType
from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.desk.key_images import (
    KEY_IMAGE_FOLDER,
    render_for_export,
    write_png_folder,
)
from mrecist_reader.imaging.volume import Volume
from mrecist_reader.resources import shipped_profile
from mrecist_reader.session import ReadRepository, open_database
from mrecist_reader.storage.repository import Viewer
from mrecist_reader.storage.review import FinalRead
from mrecist_reader.transfer.columns import ROI_FILE, ReadRole
from mrecist_reader.transfer.csv_out import (
    EXPORT_FILES,
    UID_COLUMNS,
    RoleRead,
    Row,
    read_sort_key,
    rois_text,
    role_sort_key,
    rows_for_measurements,
    rows_for_responses,
    rows_for_rois,
    write_export_rows,
    write_rows,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ADJUDICATION_COLUMNS",
    "ADJUDICATION_FILE",
    "AUDIT_HEAD_FILE",
    "EXPORT_FILES",
    "DatabaseReads",
    "ExportFolderError",
    "ExportResult",
    "UidPseudonyms",
    "database_reads",
    "existing_export_files",
    "export_reads",
    "is_blinded",
]


class ExportFolderError(MrecistError):
    """The export's folder cannot be used (a file, or not creatable): a usage error."""

    exit_status = 2


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    paths
        measurements.csv and responses.csv, in that order.
    reads
        How many reads were exported.
    measurement_rows, response_rows
        How many rows each file has (headers not counted).
    blinded_reads
        How many of the reads were exported blinded.
    without_response
        Each timepoint left without a response row, and why, e.g.
        ``S01 FU2: T2 (target) not assessed`` (subject, timepoint, reason; the reader
        is named too when the export holds more than one read of the subject).
    final_reads
        How many final reads were exported besides ``reads`` (``read_role`` ``final``).
    key_images
        How many key-image PNGs were written into ``key_images/`` (issue 15, item 8).
    key_images_without_images
        How many key images were not drawn: their series is not in the worklist.

    """

    paths: tuple[Path, Path]
    reads: int
    measurement_rows: int
    response_rows: int
    blinded_reads: int
    without_response: tuple[str, ...]
    final_reads: int = 0
    key_images: int = 0
    key_images_without_images: int = 0
    withdrawn_reads: int = 0

    @property
    def folder(self) -> Path:
        """Return the folder the files were written to."""
        return self.paths[0].parent

    def summary(self) -> str:
        """Say what was written, in lines for a reader (the last lines: the gaps)."""
        if self.reads and self.blinded_reads == self.reads:
            blinding = " (blinded)"
        elif self.blinded_reads:
            blinding = f" ({self.blinded_reads} blinded)"
        else:
            blinding = ""
        finals = f" and {self.final_reads} final read(s)" if self.final_reads else ""
        lines = [
            f"exported {self.reads} read(s){finals} to {self.folder}{blinding}: "
            f"{self.measurement_rows} measurement row(s), "
            f"{self.response_rows} response row(s)"
        ]
        if self.withdrawn_reads:
            lines.append(
                f"{self.withdrawn_reads} withdrawn read(s) not exported (kept in the "
                "database and its audit trail)"
            )
        if self.key_images:
            lines.append(f"{self.key_images} key image(s) in {KEY_IMAGE_FOLDER}/")
        if self.key_images_without_images:
            lines.append(
                f"{self.key_images_without_images} key image(s) not drawn: their "
                "series is not open in the worklist"
            )
        if self.without_response:
            lines.append(
                f"no response for {len(self.without_response)} timepoint(s) that are "
                "not complete:"
            )
            lines += [f"  {gap}" for gap in self.without_response]
        return "\n".join(lines)


def is_blinded(read: Read, *, blinded: bool) -> bool:
    """Return whether a read's rows are exported blinded (no scan date, no site).

    The one blinding rule of every export: a central read (blinded independent
    review) always; a local read when the export is blinded (``blinded``: the
    command line's ``--blinded``, else the settings' ``blinded_export``).
    """
    return blinded or read.key.read_type is ReadType.CENTRAL


def existing_export_files(folder: Path) -> tuple[str, ...]:
    """Return the names of the export files already in ``folder`` (ask before replacing)."""
    names = (*EXPORT_FILES, KEY_IMAGE_FOLDER)
    return tuple(name for name in names if (Path(folder) / name).exists())


ADJUDICATION_FILE = "adjudication.csv"

ADJUDICATION_COLUMNS: tuple[str, ...] = (
    "subject_id",
    "cut",
    "reader_1",
    "reader_2",
    "status",
    "discordant_variables",
    "adjudicator",
    "chosen_reader",
    "reason",
    "rationale",
    "signed_at",
)
"""adjudication.csv's columns (central-review.md §Exports)."""


class UidPseudonyms(Protocol):
    """What gives a blinded export its UID pseudonyms: the reads database.

    :class:`~mrecist_reader.storage.repository.ReadRepository` is one.
    """

    def pseudonymous_uids(self, uids: Iterable[str]) -> dict[str, str]:
        """Return each UID's keyed pseudonym, keeping the mapping."""
        ...  # pragma: no cover - a protocol


class DatabaseReads(tuple[Read, ...]):
    """Reads read from a database, with the audit trail's head at that moment.

    ``adjudication`` holds the read cuts (empty for a primary reader, or without
    assignments); :func:`export_reads` writes them as adjudication.csv. ``finals``
    holds each assigned subject's final read (empty for a primary reader, without
    assignments, and for the endpoints' ``final=True``, whose reads already are the
    final ones); :func:`export_reads` writes them with ``read_role`` ``final``.
    """

    audit_head: AuditHead | None = None
    db_url: str | None = None
    adjudication: tuple[AdjudicationCase, ...] = ()
    finals: tuple[FinalRead, ...] = ()
    profiles: Mapping[ReadKey, ProtocolProfile] = {}
    integrity_problems: tuple[str, ...] = ()


def database_reads(
    db_url: str,
    *,
    subject_id: str | None = None,
    reader_id: str | None = None,
    final: bool = False,
    verify: bool = False,
) -> DatabaseReads:
    """Return every read in a reads database (or every read of one subject).

    For the command line and audit tools: every reader's reads, unless ``reader_id``
    is a primary reader of assigned subjects; then only that reader's own reads
    (central-review.md §Independence). A reader's window exports the reads it may
    see (``session.stored_reads``) instead. The result carries the trail's head
    (``audit_head``) and the read cuts (``adjudication``), which
    :func:`export_reads` writes.

    Parameters
    ----------
    db_url
        The database's SQLAlchemy URL.
    subject_id
        Only this subject's reads (``None``: every subject).
    reader_id
        Who asks (``--reader``, else the settings' reader ID; empty or ``None``: a
        caller without a reader ID, who gets everything).
    final
        For the endpoints (endpoints.md §Inputs): each assigned subject's final read
        only (none while it awaits adjudication), named by its source reader; the
        reads of subjects without an assignment as they are.
    verify
        Also verify the database (the result's ``integrity_problems``: every sign
        of a change outside the application; empty when it verifies).

    """
    cases: tuple[AdjudicationCase, ...] = ()
    finals: tuple[FinalRead, ...] = ()
    with open_database(db_url) as repository:
        if reader_id and repository.is_primary_reader(reader_id):
            reads = _own_reads(repository, reader_id)
        else:
            reads = repository.all_reads()
            cases = repository.adjudication_cases()
            if final:
                reads = final_reads(repository, reads)
            else:
                finals = repository.final_reads()
        head = repository.audit_head()
        profiles = repository.stored_profiles()
        problems = repository.integrity_problems() if verify else ()
    if subject_id is not None:
        reads = tuple(read for read in reads if read.key.subject_id == subject_id)
        cases = tuple(case for case in cases if case.subject_id == subject_id)
        finals = tuple(f for f in finals if f.read.key.subject_id == subject_id)
    result = DatabaseReads(reads)
    result.audit_head = head
    result.db_url = db_url
    result.adjudication = cases
    result.finals = finals
    result.profiles = profiles
    result.integrity_problems = problems
    return result


def final_reads(
    repository: ReadRepository, reads: tuple[Read, ...]
) -> tuple[Read, ...]:
    """Return the final reads of assigned subjects and every read of the others."""
    assigned = {a.subject_id for a in repository.assignments()}
    finals = tuple(final.read for final in repository.final_reads())
    others = tuple(r for r in reads if r.key.subject_id not in assigned)
    return tuple(sorted((*finals, *others), key=lambda r: read_sort_key(r.key)))


def _own_reads(repository: ReadRepository, reader_id: str) -> tuple[Read, ...]:
    """Return a primary reader's own reads of every read type (never another's)."""
    found: list[Read] = []
    for read_type in ReadType:
        viewer = Viewer(reader_id, read_type)
        keys: tuple[ReadKey, ...] = repository.list_reads(viewer)
        found += [
            read
            for key in keys
            if (read := repository.load(key, viewer=viewer)) is not None
        ]
    return tuple(found)


def adjudication_text(cases: Iterable[AdjudicationCase]) -> str:
    """Return adjudication.csv: one row per read cut, by subject and cut."""
    rows = [
        {
            "subject_id": case.subject_id,
            "cut": case.cut,
            "reader_1": case.reader_1,
            "reader_2": case.reader_2,
            "status": str(case.status),
            "discordant_variables": "; ".join(case.discordant_variables),
            "adjudicator": case.adjudicator,
            "chosen_reader": case.chosen_reader,
            "reason": case.reason,
            "rationale": case.rationale,
            "signed_at": "" if case.signed_at is None else _utc(case.signed_at),
        }
        for case in cases
    ]
    stream = io.StringIO()
    write_rows(stream, ADJUDICATION_COLUMNS, rows, numeric=())
    return stream.getvalue()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_reads(
    reads: Iterable[Read],
    folder: Path,
    *,
    blinded: bool = False,
    profile: ProtocolProfile | None = None,
    audit_head: AuditHead | None = None,
    uids: UidPseudonyms | str | None = None,
    stored_profiles: Mapping[ReadKey, ProtocolProfile] | None = None,
    unverified: tuple[str, ...] | None = None,
    key_image_volumes: Callable[[str], Volume | None] | None = None,
) -> ExportResult:
    """Write measurements.csv and responses.csv of ``reads`` into ``folder``.

    Parameters
    ----------
    reads
        The reads to export (the open one, one subject's, or every one); each is
        written with its role (``primary`` or ``local``). When they come from
        :func:`database_reads`, the final reads they carry follow, with their role
        ``final`` (not counted among :attr:`ExportResult.reads`).
    folder
        The folder; created when missing. Files already there are replaced (ask the
        reader first: :func:`existing_export_files`).
    blinded
        Blind local reads too (central reads are always blinded: :func:`is_blinded`).
    profile
        The profile of reads stored without their profile text (before schema 7)
        made with a profile of that name (e.g. one loaded from a file); other such
        reads are assessed with the shipped profile of their name.
    stored_profiles
        The profile text stored with each read (issue 21, item 3): a read is always
        assessed with it when it has one, never with a file read again (default:
        the ones ``reads`` carry when they come from :func:`database_reads`).
    unverified
        Why the database fails verification when it is exported all the same
        (``export --allow-unverified``, a read-only window): ``audit_head.txt``
        then says so with every problem (default: the ``integrity_problems``
        ``reads`` carry when they come from :func:`database_reads`).
    audit_head
        The database's audit head, written as ``audit_head.txt`` beside the CSV files
        (default: the head ``reads`` carries when they come from
        :func:`database_reads`; none: no ``audit_head.txt``).
    uids
        The reads database (an open repository or its URL) that gives blinded reads'
        UIDs their keyed pseudonyms and keeps the mapping (default: the database
        ``reads`` come from when they come from :func:`database_reads`).
    key_image_volumes
        The volume of a series by its UID (``None``: not available): the reads' key
        images are then drawn as PNGs (calipers and labels burned in) into
        ``key_images/``, all rendered before anything is written (default: none).

    Returns
    -------
    ExportResult
        The files, the counts and the timepoints left without a response.

    Raises
    ------
    ExportFolderError
        When ``folder`` is a file or cannot be created (nothing written).
    MrecistError
        When a read's protocol profile cannot be loaded (nothing written).

    """
    finals: tuple[FinalRead, ...] = getattr(reads, "finals", ())
    given = list(reads)
    # a withdrawn read is no trial data (it stays in the database and its audit trail)
    ordered = sorted(
        (r for r in given if not is_withdrawn_reader_id(r.key.reader_id)),
        key=lambda read: read_sort_key(read.key),
    )
    items = sorted(
        (
            *(RoleRead.of(read) for read in ordered),
            *(RoleRead(f.read, ReadRole.FINAL, f.source_reader) for f in finals),
        ),
        key=role_sort_key,
    )
    stored = (
        stored_profiles
        if stored_profiles is not None
        else getattr(reads, "profiles", {})
    )
    profiles = _profiles(
        [item.read for item in items if item.read.key not in stored], profile
    )
    twice = Counter(read.key.subject_id for read in ordered)

    def profile_of(read: Read) -> ProtocolProfile:
        return stored.get(read.key) or profiles[read.protocol_profile]

    # Read by read, twice, holding no rows (issue 21, item 17: every row of every
    # read was held until the end). First the blinded reads' UIDs, whether any ROI
    # is kept and what has no response; then the rows go straight into the files.
    survey = _survey(items, profile_of, twice, blinded=blinded)
    found, has_rois, gaps = survey
    pseudonyms = _pseudonyms(found, uids or getattr(reads, "db_url", None))
    counted = Counter[str]()

    def rows(kind: str) -> Iterator[Row]:
        for item in items:
            blind = is_blinded(item.read, blinded=blinded)
            for row in _rows_of(kind, item, profile_of(item.read), blind=blind):
                counted[kind] += 1
                yield _with_pseudonyms(row, pseudonyms) if blind else row

    head = audit_head or getattr(reads, "audit_head", None)
    problems = (
        unverified
        if unverified is not None
        else getattr(reads, "integrity_problems", ())
    )
    extra: dict[str, str] = {}
    if has_rois:
        extra[ROI_FILE] = rois_text(rows("rois"))
    if isinstance(head, AuditHead):
        text = head.to_text_unverified(problems) if problems else head.to_text()
        extra[AUDIT_HEAD_FILE] = text
    cases = getattr(reads, "adjudication", ())
    if cases:
        extra[ADJUDICATION_FILE] = adjudication_text(cases)
    # A blinded export is readable by its owner only; otherwise the umask decides.
    private = any(is_blinded(item.read, blinded=blinded) for item in items)
    drawn = (
        None
        if key_image_volumes is None
        else render_for_export(ordered, key_image_volumes)
    )  # before anything is written: a picture that fails stops the export
    usable = _usable_folder(Path(folder))
    paths = write_export_rows(
        usable,
        rows("measurements"),
        rows("responses"),
        extra=extra,
        private=private,
    )
    if drawn is not None and (drawn.pngs or (usable / KEY_IMAGE_FOLDER).exists()):
        write_png_folder(usable, drawn.pngs, private=private)  # none: an older goes
    result = ExportResult(
        paths=paths,
        reads=len(ordered),
        measurement_rows=counted["measurements"],
        response_rows=counted["responses"],
        blinded_reads=sum(is_blinded(read, blinded=blinded) for read in ordered),
        without_response=tuple(gaps),
        final_reads=len(finals),
        key_images=0 if drawn is None else len(drawn.pngs),
        key_images_without_images=0 if drawn is None else drawn.without_images,
        withdrawn_reads=len(given) - len(ordered),
    )
    logger.info(
        "exported %d reads, %d timepoints without a response",
        result.reads,
        len(gaps),
    )
    return result


def _survey(
    items: Sequence[RoleRead],
    profile_of: Callable[[Read], ProtocolProfile],
    twice: Counter[str],
    *,
    blinded: bool,
) -> tuple[set[str], bool, list[str]]:
    """Return the blinded reads' UIDs, whether any ROI is kept, and the gaps."""
    found: set[str] = set()
    has_rois = False
    gaps: list[str] = []
    for item in items:
        read = item.read
        kept = list(rows_for_rois([item], blinded=True))
        has_rois = has_rois or bool(kept)
        if is_blinded(read, blinded=blinded):
            found |= _uids_in([*rows_for_measurements([item], blinded=True), *kept])
        if item.role is ReadRole.FINAL:
            continue  # its timepoints are its source read's, already listed
        who = read.key.subject_id
        if twice[who] > 1:
            who += f" ({read.key.reader_id}, {read.key.read_type})"
        gaps += [
            f"{who} {timepoint.label}: {why}"
            for timepoint, why in without_response(read, profile_of(read))
        ]
    return found, has_rois, gaps


def _rows_of(
    kind: str, item: RoleRead, profile: ProtocolProfile, *, blind: bool
) -> Iterator[Row]:
    """Yield one read's rows of measurements.csv, responses.csv or rois.csv."""
    if kind == "measurements":
        yield from rows_for_measurements([item], blinded=blind)
    elif kind == "rois":
        yield from rows_for_rois([item], blinded=blind)
    else:
        assessment = assess_complete(item.read, profile)
        if assessment is not None:
            yield from rows_for_responses([(item, assessment)], blinded=blind)


def _uids_in(rows: Iterable[Row]) -> set[str]:
    return {row[c] for row in rows for c in UID_COLUMNS if row.get(c)}


def _with_pseudonyms(row: Row, pseudonyms: Mapping[str, str]) -> Row:
    """Return a blinded read's row with its UIDs replaced by their keyed pseudonyms."""
    return {
        column: pseudonyms[value] if column in UID_COLUMNS and value else value
        for column, value in row.items()
    }


def _pseudonyms(
    found: set[str], database: UidPseudonyms | str | None
) -> dict[str, str]:
    """Return the keyed pseudonym of each UID of the blinded reads.

    Done before anything is written: the mapping is stored first (the same UID always
    gets the same pseudonym, so a mapping kept for an export that then failed is
    harmless). Without a database the cells are emptied: a pseudonym nobody can
    resolve would be of no use, and the UID itself must not leave.
    """
    if not found:
        return {}
    if database is None:
        # No database to keep the mapping: a UID nobody could resolve is left out.
        logger.warning(
            "blinded export without its reads database: %d UID(s) left empty",
            len(found),
        )
        return dict.fromkeys(found, "")
    if isinstance(database, str):
        with open_database(database) as repository:
            return repository.pseudonymous_uids(found)
    return database.pseudonymous_uids(found)


def _profiles(
    reads: Sequence[Read], given: ProtocolProfile | None
) -> dict[str, ProtocolProfile]:
    """Return the profile of every read's profile name (each loaded once).

    For reads without a stored profile text: ``given``, else the shipped profile of
    that name. A name that is a path is never opened (issue 21, item 3).
    """
    profiles: dict[str, ProtocolProfile] = {}
    if given is not None:
        profiles[given.name] = given
    for read in reads:
        name = read.protocol_profile
        if name in profiles:
            continue
        try:
            found = shipped_profile(name)
        except (OSError, InvalidProfile) as error:
            found, why = None, f" ({error})"
        else:
            why = ""
        if found is None:
            raise MrecistError(
                f"the read of subject {read.key.subject_id} by {read.key.reader_id} "
                f"was made with protocol profile {name}, which is neither stored in "
                f"the database nor shipped{why}; nothing was written"
            )
        profiles[name] = found
    return profiles


def _usable_folder(folder: Path) -> Path:
    """Return ``folder``, created when missing; refuse a file or an unusable path."""
    if folder.exists() and not folder.is_dir():
        raise ExportFolderError(
            f"{folder}: is a file, expected the folder to write "
            f"{' and '.join(EXPORT_FILES)} into"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportFolderError(
            f"{folder}: cannot create the folder ({error.strerror or error})"
        ) from None
    return folder
