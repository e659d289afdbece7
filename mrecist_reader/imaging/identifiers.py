"""Stand-in identifiers for images whose UIDs or PatientID are empty.

Anonymisation tools often blank SOP, Series and Study Instance UIDs and PatientID
instead of replacing them. The viewer, the recorded calipers and the worklist key on
those values, so an empty one would make every image look like a filled gap and every
patient one blank subject. Here each empty UID gets a stand-in made by
:func:`pydicom.uid.generate_uid` from the files' contents (the same files give the same
UIDs in every scan and on every machine), and images without PatientID are grouped only
by what they provably share (study, frame of reference), never with other patients.

- SOP Instance UID: from the SHA-256 of the whole file (an exact copy of a file is the
  same image; any other file is a different one). Files whose contents differ but
  which carry one SOP Instance UID (an anonymiser that wrote one constant) get such
  stand-ins too; exact copies keep theirs and ``scan`` drops the extra copies.
- Study Instance UID: the images of one study are grouped by StudyDate, StudyTime,
  AccessionNumber and StudyID (with PatientID) when any of those is present, else by
  FrameOfReferenceUID, else by their folder; the UID comes from the group's SOP UIDs.
- Series Instance UID: grouped by study, frame of reference, series number, modality,
  description and folder; the UID comes from the group's SOP UIDs.

Every series that carries a stand-in says so in its warnings and in
``SeriesInfo.substituted_identifiers``.
"""

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from pydicom.uid import generate_uid

from mrecist_reader.imaging.files import open_regular
from mrecist_reader.imaging.volume import SeriesInfo

SOP = "SOPInstanceUID"
SERIES = "SeriesInstanceUID"
STUDY = "StudyInstanceUID"
PATIENT = "PatientID"
SHARED_SOP = "SOPInstanceUID (shared)"
"""Marks images whose SOP Instance UID another, different image also carries."""

IDENTIFIER_NAMES = {
    SOP: "SOP Instance UID",
    SERIES: "Series Instance UID",
    STUDY: "Study Instance UID",
    PATIENT: "PatientID",
    SHARED_SOP: "SOP Instance UID shared by different images",
}
"""How each substituted identifier is named to people."""

NO_PATIENT_PREFIX = "no PatientID: folder "
"""Start of the subject name given to images without PatientID (and trial subject ID)."""


def stand_in_uid(kind: str, sources: Iterable[str]) -> str:
    """Return a deterministic UID for ``kind`` ("sop", "series", "study") from ``sources``."""
    return str(generate_uid(entropy_srcs=[f"mrecist-reader stand-in {kind}", *sources]))


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (hex); only a regular file is read."""
    digest = hashlib.sha256()
    with open_regular(path) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sop_stand_in(path: Path) -> str:
    """Return the stand-in SOP Instance UID of a file (from its whole content)."""
    return stand_in_uid("sop", [file_digest(path)])


def identifier_warnings(substituted: Sequence[str]) -> tuple[str, ...]:
    """Return the warnings a series with stand-in identifiers shows.

    ``substituted`` lists the DICOM keywords (``SOPInstanceUID``...) that were empty.
    """
    warnings: list[str] = []
    uids = [IDENTIFIER_NAMES[k] for k in (SOP, SERIES, STUDY) if k in substituted]
    if uids:
        warnings.append(
            f"empty {', '.join(uids)} in the files: stand-in identifiers made from the "
            "image contents are used (measurements refer to them)"
        )
    if SHARED_SOP in substituted:
        warnings.append(
            "different images carry the same SOP Instance UID in the files: stand-ins "
            "made from each image's contents are used (measurements refer to them)"
        )
    if PATIENT in substituted:
        warnings.append(
            "no PatientID: subject named after its folder; images without PatientID "
            "are never joined to other patients"
        )
    return tuple(warnings)


def identifier_note(series: SeriesInfo) -> str:
    """Return a one-line note for an export's comment ('' when nothing was substituted)."""
    if not series.substituted_identifiers:
        return ""
    names = ", ".join(IDENTIFIER_NAMES[k] for k in series.substituted_identifiers)
    return f"stand-in identifiers (empty in the DICOM files): {names}"


def name_subjects_without_id(
    stacks: Sequence[SeriesInfo], folder_of: Callable[[SeriesInfo], str]
) -> list[SeriesInfo]:
    """Give stacks without a subject ID a subject per study / frame of reference.

    Stacks sharing a Study Instance UID (real or stand-in) or a real
    FrameOfReferenceUID are one subject; nothing else joins them, so images of
    different patients are never merged. Each subject is named
    ``no PatientID: folder <name>`` after the folder common to its images
    (``folder_of`` names a stack's folder as the user knows it), with a short code
    from its studies when two subjects would have the same name.
    """
    groups = _linked_groups(stacks)
    names = {
        root: NO_PATIENT_PREFIX
        + _common_folder_name([folder_of(stacks[k]) for k in members])
        for root, members in groups.items()
    }
    counts = Counter(names.values())
    result = list(stacks)
    for root, members in groups.items():
        name = names[root]
        if counts[name] > 1:
            studies = sorted({stacks[k].study_instance_uid for k in members})
            name += " #" + hashlib.sha256("\n".join(studies).encode()).hexdigest()[:6]
        for k in members:
            stack = stacks[k]
            result[k] = replace(
                stack,
                subject_id=name,
                substituted_identifiers=(*stack.substituted_identifiers, PATIENT),
                warnings=(*stack.warnings, *identifier_warnings((PATIENT,))),
            )
    return result


def _linked_groups(stacks: Sequence[SeriesInfo]) -> dict[int, list[int]]:
    """Group the stacks without subject ID that share a study or frame of reference."""
    blank = [k for k, s in enumerate(stacks) if not s.subject_id]
    parent = {k: k for k in blank}

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_with: dict[str, int] = {}
    for k in blank:
        stack = stacks[k]
        keys = ["study:" + stack.study_instance_uid]
        if stack.frame_of_reference_uid:
            keys.append("frame:" + stack.frame_of_reference_uid)
        for key in keys:
            parent[find(k)] = find(first_with.setdefault(key, k))
    groups: dict[int, list[int]] = defaultdict(list)
    for k in blank:
        groups[find(k)].append(k)
    return groups


def display_folder(display_path: str) -> str:
    """Return the folder of a file as the user knows it (``archive.zip!a/b.dcm`` -> a)."""
    archive, bang, member = display_path.partition("!")
    if bang:
        member_folder = PurePosixPath(member).parent
        if str(member_folder) in ("", "."):
            return archive
        return f"{archive}!{member_folder.as_posix()}"
    return str(PurePosixPath(Path(display_path).as_posix()).parent)


def _common_folder_name(folders: Sequence[str]) -> str:
    """Return the last component of the folders' common path ('?' when there is none)."""
    split = [_parts(f) for f in folders]
    common: list[str] = []
    for level in zip(*split, strict=False):
        if any(part != level[0] for part in level):
            break
        common.append(level[0])
    name = common[-1] if common else ""
    return name.strip() or "?"


def _parts(folder: str) -> list[str]:
    archive, bang, member = folder.partition("!")
    path = Path(archive)
    parts = [p for p in path.parts if p != path.anchor]
    if bang:
        parts.extend(p for p in PurePosixPath(member).parts if p != "/")
    return parts
