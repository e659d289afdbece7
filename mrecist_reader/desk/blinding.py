"""What a blinded (central) read hides: folder-named subjects, file paths, arm names.

Qt-free rules the desk and the window apply in a blinded read: a subject named after
its folder (no PatientID) gets a pseudonym, messages shown to the reader lose their
file paths (a folder is often named after the patient), and a free-text DICOM
description naming an arm or product (the profile's ``unblinding_words``) is shown as
its phase instead (issue 21, item 8).
"""

import re
from collections.abc import Sequence
from dataclasses import replace

from mrecist_reader.core.protocol import (
    ProtocolProfile,
    unblinding_pattern,
    unblinding_word_in,
)
from mrecist_reader.imaging.volume import Phase, SeriesInfo, pseudonymous_subject_id
from mrecist_reader.imaging.worklist import SubjectEntry

HIDDEN_PATH = "<file>"
"""What a file path becomes in a message shown in a blinded read."""

FOLDER_NAMED = "subject named after its folder"
"""The scanner's words for a subject without PatientID (imaging.identifiers)."""

PSEUDONYM_NAMED = "subject shown by a pseudonym"
"""What a blinded read says instead: the subject is not shown by its folder."""

_SEGMENT = r"[^\s:;,'\"()\\/]+"
_PATH = re.compile(
    r"\S+\.zip!\S*"  # a zip member
    r"|(?<![\w.])(?:"  # a path starts after a space, quote, bracket or colon
    r"(?:[A-Za-z]:)?[\\/][^\s:;,'\"()]+"  # absolute: /a/b, C:\a
    rf"|{_SEGMENT}(?:[\\/]{_SEGMENT}){{2,}}[\\/]?"  # relative, two separators or more
    rf"|{_SEGMENT}[\\/]{_SEGMENT}\.\w+"  # relative to a file: a/b.dcm
    r")"
)
"""A file path in a message ("I/O" and "and/or" are words, not paths)."""


def blinded_subject_id(subject_id: str) -> str:
    """Return the subject ID a blinded read shows for a subject of the scan.

    A subject without PatientID is named after its folder (``no PatientID: folder
    <name>``), and a folder is often named after the patient. In a blinded read it is
    shown, stored and exported as a pseudonym made as a PatientID's is
    (:func:`~mrecist_reader.imaging.volume.pseudonymous_subject_id`: the same folder
    gives the same pseudonym in every scan). Other subject IDs are kept.
    """
    # imported here: this module is imported at start-up before pydicom is
    from mrecist_reader.imaging.identifiers import NO_PATIENT_PREFIX

    if subject_id.startswith(NO_PATIENT_PREFIX):
        return pseudonymous_subject_id(subject_id)
    return subject_id


def blinded_subjects(subjects: Sequence[SubjectEntry]) -> tuple[SubjectEntry, ...]:
    """Return the subjects with folder-named ones renamed by :func:`blinded_subject_id`.

    Their series are renamed too (a caliper names the subject of its series).
    """
    return tuple(_blinded_subject(subject) for subject in subjects)


def _blinded_subject(subject: SubjectEntry) -> SubjectEntry:
    return renamed_subject(subject, blinded_subject_id(subject.subject_id))


def renamed_subject(subject: SubjectEntry, name: str) -> SubjectEntry:
    """Return ``subject`` named ``name``, its series and localizers too.

    A caliper names the subject of the series it was drawn on, so every series
    carries the name the worklist shows.
    """
    if name == subject.subject_id:
        return subject
    timepoints = tuple(
        replace(
            timepoint,
            series=tuple(replace(s, subject_id=name) for s in timepoint.series),
            localizers=tuple(replace(s, subject_id=name) for s in timepoint.localizers),
        )
        for timepoint in subject.timepoints
    )
    return replace(subject, subject_id=name, timepoints=timepoints)


def blinded_warnings(warnings: Sequence[str]) -> tuple[str, ...]:
    """Return a series' warnings as a blinded read shows them.

    "subject named after its folder" would send the reader looking for the folder
    (often the patient's name); the subject is shown by a pseudonym instead.
    """
    return tuple(warning.replace(FOLDER_NAMED, PSEUDONYM_NAMED) for warning in warnings)


def without_paths(text: str) -> str:
    r"""Return ``text`` with every file path replaced by :data:`HIDDEN_PATH`.

    Absolute paths (``/a/b``, ``C:\a``), relative ones with two separators or to a
    file (``a/b/c``, ``a/b.dcm``) and zip members (``x.zip!member``) are replaced; a
    path with spaces loses each part that has a separator; "I/O" stays a word.
    """
    return _PATH.sub(HIDDEN_PATH, text)


def phase_label(phase: Phase) -> str:
    """Return the words a blinded read shows for a series' phase (``portal venous``)."""
    if phase is Phase.UNKNOWN:
        return "phase unknown"
    return str(phase).replace("_", " ")


def blinded_description(
    series: SeriesInfo, profile: ProtocolProfile, *, blinded: bool
) -> SeriesInfo:
    """Return ``series`` with an unblinding description replaced by its phase label.

    In a blinded read, a SeriesDescription holding one of the profile's
    ``unblinding_words`` (case-insensitive, whole words:
    :func:`~mrecist_reader.core.protocol.unblinding_word_in`), e.g. ``ARTERIAL
    TACE+Mg ARM B``, becomes the phase label (``arterial``), and so does each place
    the series' warnings quote it; a warning that itself names such a word loses the
    word. An unblinded read, or a description without such a word, is kept as it is.
    """
    words = profile.unblinding_words
    if not blinded or not words:
        return series
    description = series.series_description
    label = phase_label(series.phase)
    changed = unblinding_word_in(description, words) is not None
    shown = label if changed else description
    pattern = unblinding_pattern(words)
    warnings = tuple(
        pattern.sub(
            HIDDEN_WORD,
            warning.replace(description, shown) if changed and description else warning,
        )
        for warning in series.warnings
    )
    stack_label = pattern.sub(HIDDEN_WORD, series.stack_label)
    if (
        not changed
        and warnings == series.warnings
        and stack_label == series.stack_label
    ):
        return series
    return replace(
        series,
        series_description=shown,
        warnings=warnings,
        stack_label=stack_label,
    )


HIDDEN_WORD = "<hidden>"
"""What an unblinding word becomes inside a message of a blinded read."""
