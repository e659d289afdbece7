"""Identifiers that cannot look alike (issue 21, item 4).

A subject ID with a zero-width space, a right-to-left override or a leading space
looks identical to another on screen and in a spreadsheet, yet would make a separate
subject. Identifiers are therefore normalised (Unicode NFC, surrounding white space
removed) and refused when they hold an invisible or direction-control character.
"""

import unicodedata

from mrecist_reader.core.errors import MrecistError

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
"""Controls, format characters (zero-width, bidi controls, BOM), private use,
surrogates, unassigned code points, line and paragraph separators."""


class InvalidIdentifier(MrecistError):
    """An identifier holds a character that makes it look like another one."""


def _character_name(character: str) -> str:
    return unicodedata.name(character, "unnamed character")


def identifier_problem(value: str, *, field: str = "subject_id") -> str | None:
    """Return why ``value`` (already normalised) is not a usable identifier, or ``None``."""
    for position, character in enumerate(value, start=1):
        category = unicodedata.category(character)
        hidden = category in _INVISIBLE_CATEGORIES
        if hidden or (category == "Zs" and character != " "):
            return (
                f"{field} {value!r} contains U+{ord(character):04X} "
                f"{_character_name(character)} at character {position}: an identifier "
                "holds visible characters only (no zero-width, direction-control or "
                "special space characters), so that two IDs that look the same are the "
                "same"
            )
    return None


def normalise_identifier(value: str, *, field: str = "subject_id") -> str:
    """Return ``value`` in NFC without surrounding white space; refuse hidden characters.

    Raises
    ------
    InvalidIdentifier
        Naming the field, the value, the character and its position.

    """
    normalised = unicodedata.normalize("NFC", value).strip()
    problem = identifier_problem(normalised, field=field)
    if problem is not None:
        raise InvalidIdentifier(problem)
    return normalised
