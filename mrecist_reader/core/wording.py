"""What readers read: the display words of the model's tokens, in one place.

The enums of :mod:`mrecist_reader.core.model` hold the exact CSV tokens of
``shared/spec/data-transfer.md`` (``IR_SD``, ``non_target``, ``semi_automatic_edited``);
those tokens are for files, never for the screen. Every widget that shows a token asks
:func:`word` (or the helpers below) for its words, so a response reads the same in the
response panel, the lesion table, the dialogs and the status bar.

Qt-free and pure: the command line and the tests use it too.
"""

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from mrecist_reader.core.model import (
    LesionType,
    Method,
    NewLesions,
    NewLesionStatus,
    NonTargetResponse,
    NonTargetStatus,
    Organ,
    ReadStatus,
    ReadType,
    Response,
    TargetStatus,
)

RESPONSE_WORDS: dict[Response, str] = {
    Response.CR: "CR",
    Response.PR: "PR",
    Response.SD: "SD",
    Response.PD: "PD",
    Response.NE: "NE",
}
"""Target and overall responses: the abbreviations every reader knows."""

NON_TARGET_RESPONSE_WORDS: dict[NonTargetResponse, str] = {
    NonTargetResponse.CR: "CR",
    NonTargetResponse.IR_SD: "Non-CR/Non-PD",
    NonTargetResponse.PD: "PD",
    NonTargetResponse.NE: "NE",
    NonTargetResponse.NA: "none at baseline",
}
"""Non-target responses (``IR_SD`` is mRECIST's "Non-CR/Non-PD")."""

NEW_LESIONS_WORDS: dict[NewLesions, str] = {
    NewLesions.YES: "yes",
    NewLesions.NO: "no",
    NewLesions.EQUIVOCAL: "equivocal",
}

LESION_TYPE_WORDS: dict[LesionType, str] = {
    LesionType.TARGET: "target",
    LesionType.NON_TARGET: "non-target",
    LesionType.NEW: "new lesion",
}

LESION_TYPE_TITLES: dict[LesionType, str] = {
    LesionType.TARGET: "Target",
    LesionType.NON_TARGET: "Non-target",
    LesionType.NEW: "New lesion",
}
"""A lesion type at the start of a sentence, a column or a list entry."""

ORGAN_WORDS: dict[Organ, str] = {
    Organ.LIVER: "liver",
    Organ.LYMPH_NODE: "lymph node",
    Organ.LUNG: "lung",
    Organ.PERITONEUM: "peritoneum",
    Organ.PORTAL_VEIN: "portal vein",
    Organ.OTHER: "other",
}

TARGET_STATUS_WORDS: dict[TargetStatus, str] = {
    TargetStatus.MEASURED: "measured",
    TargetStatus.TOO_SMALL: "too small",
    TargetStatus.ABSENT: "absent",
    TargetStatus.NOT_EVALUABLE: "not evaluable",
}

NON_TARGET_STATUS_WORDS: dict[NonTargetStatus, str] = {
    NonTargetStatus.PRESENT: "present",
    NonTargetStatus.ABSENT: "absent",
    NonTargetStatus.PROGRESSION: "progression",
    NonTargetStatus.NOT_EVALUABLE: "not evaluable",
}

NEW_LESION_STATUS_WORDS: dict[NewLesionStatus, str] = {
    NewLesionStatus.PRESENT: "unequivocal",
    NewLesionStatus.EQUIVOCAL: "equivocal",
}
"""A new lesion is "present" in the files; on screen it is unequivocal (progression)."""

METHOD_WORDS: dict[Method, str] = {
    Method.MANUAL: "manual",
    Method.SEMI_AUTOMATIC: "semi-auto",
    Method.SEMI_AUTOMATIC_EDITED: "semi-auto, edited",
}

READ_STATUS_WORDS: dict[ReadStatus, str] = {
    ReadStatus.DRAFT: "draft",
    ReadStatus.SIGNED: "signed",
}

READ_TYPE_WORDS: dict[ReadType, str] = {
    ReadType.CENTRAL: "central (blinded)",
    ReadType.LOCAL: "local",
}


def _entries(words: Mapping[Any, str]) -> dict[StrEnum, str]:
    return dict(words)


_WORDS: dict[type[StrEnum], dict[StrEnum, str]] = {
    Response: _entries(RESPONSE_WORDS),
    NonTargetResponse: _entries(NON_TARGET_RESPONSE_WORDS),
    NewLesions: _entries(NEW_LESIONS_WORDS),
    LesionType: _entries(LESION_TYPE_WORDS),
    Organ: _entries(ORGAN_WORDS),
    TargetStatus: _entries(TARGET_STATUS_WORDS),
    NonTargetStatus: _entries(NON_TARGET_STATUS_WORDS),
    NewLesionStatus: _entries(NEW_LESION_STATUS_WORDS),
    Method: _entries(METHOD_WORDS),
    ReadStatus: _entries(READ_STATUS_WORDS),
    ReadType: _entries(READ_TYPE_WORDS),
}
"""Each enum's words, looked up by the member's own type.

By type, never by value: ``TargetStatus.ABSENT == NonTargetStatus.ABSENT == "absent"``
(they are strings), and ``NewLesionStatus.PRESENT`` reads differently from
``NonTargetStatus.PRESENT``.
"""


def word(member: StrEnum | None, none: str = "—") -> str:
    """Return the words a reader sees for one token of the model (``none`` for None).

    Raises
    ------
    KeyError
        For a member of an enum this module does not know (a new enum must get its
        words here, not fall back to its token).

    """
    if member is None:
        return none
    return _WORDS[type(member)][member]


def capitalised(text: str) -> str:
    """Return ``text`` with its first letter upper case ("non-target" -> "Non-target")."""
    return text[:1].upper() + text[1:]


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """Return "1 file", "2 files", "0 files" (``plural`` for irregular nouns)."""
    many = plural if plural is not None else f"{noun}s"
    return f"{count} {noun if count == 1 else many}"


def _token_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """Return a pattern of the tokens that never pass for words, and their words.

    Only tokens with an underscore: "IR_SD", "non_target", "not_evaluable"... A token
    that is an ordinary word ("present", "PD") reads well as it is.
    """
    words: dict[str, str] = {}
    for members in _WORDS.values():
        for member, text in members.items():
            if "_" in str(member):
                words.setdefault(str(member), text)
    tokens = sorted(words, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, tokens)) + r")\b"), words


_TOKEN_PATTERN, _TOKEN_WORDS = _token_pattern()


def readable(text: str) -> str:
    """Return ``text`` (e.g. a rule's reason) with every raw token put in words.

    "enhancement persists in NT1: IR_SD" reads "... NT1: Non-CR/Non-PD".
    """
    return _TOKEN_PATTERN.sub(lambda match: _TOKEN_WORDS[match.group(1)], text)


def known_enums() -> tuple[type[StrEnum], ...]:
    """Return the enums whose tokens have display words here."""
    return tuple(_WORDS)
