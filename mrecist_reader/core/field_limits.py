"""How long each stored text field may be, and what no text may hold (issue 21, 16).

One source of truth for the CSV reader, the repository's checks and the schema.
PostgreSQL refuses a longer value (SQLite would keep it), and every database refuses NUL
in text: both are checked before the database, with a message naming the field.
"""

MAX_LENGTHS: dict[str, int] = {
    "study_id": 64,
    "site_id": 64,
    "subject_id": 64,
    "reader_id": 64,
    "protocol_profile": 128,
    "timepoint": 64,
    "lesion_id": 32,
    "series_instance_uid": 64,
    "sop_instance_uid": 64,
}
"""Characters allowed per field; free text (location, comment) has no limit."""


def field_problem(field: str, value: str) -> str | None:
    """Return why ``value`` cannot be stored in ``field`` (too long, NUL), or ``None``."""
    if "\x00" in value:
        position = value.index("\x00") + 1
        return (
            f"{field} contains the NUL character (U+0000) at character {position}; "
            "text cannot hold it"
        )
    limit = MAX_LENGTHS.get(field)
    if limit is not None and len(value) > limit:
        return (
            f"{field} is {len(value)} characters long ({value[:20]!r}...); at most "
            f"{limit} are allowed"
        )
    return None
