"""The cytology rule for fluid collections (mrecist-rules.md §Non-target response).

Ascites or pleural effusion count as progression only with cytological confirmation:
recording ``progression`` for such a non-target lesion is refused without it, and a
confirmed one carries a note in its comment.
"""

import re

from mrecist_reader.core.errors import CytologyRequired
from mrecist_reader.core.model import Lesion, LesionStatus, NonTargetStatus

CYTOLOGY_NOTE = "cytology confirmed"
"""The note added to the comment of a progression confirmed by cytology."""

_FLUID_WORDS = re.compile(r"ascites|pleural|effusion", re.IGNORECASE)


def is_fluid(lesion: Lesion) -> bool:
    """Return whether the lesion's location names ascites or a pleural effusion."""
    return bool(_FLUID_WORDS.search(lesion.location))


def check_fluid_progression(
    lesion: Lesion, status: LesionStatus, cytology_confirmed: bool, comment: str
) -> str:
    """Refuse unconfirmed progression of ascites or pleural effusion; note a confirmed one.

    Parameters
    ----------
    lesion
        The non-target lesion.
    status
        The status about to be recorded.
    cytology_confirmed
        Whether the reader confirmed the cytology.
    comment
        The observation's comment.

    Returns
    -------
    str
        The comment, with :data:`CYTOLOGY_NOTE` added for a confirmed fluid progression.

    Raises
    ------
    CytologyRequired
        For fluid progression without cytological confirmation.

    """
    if status is not NonTargetStatus.PROGRESSION or not is_fluid(lesion):
        return comment
    if not cytology_confirmed:
        raise CytologyRequired(
            f"{lesion.lesion_id} ({lesion.location}): ascites or pleural effusion counts "
            "as progression only with cytological confirmation; confirm the cytology or "
            "record another status",
            lesion_id=lesion.lesion_id,
            value=str(status),
            allowed="progression with cytology_confirmed",
        )
    if CYTOLOGY_NOTE in comment:
        return comment
    return f"{comment}; {CYTOLOGY_NOTE}" if comment else CYTOLOGY_NOTE
