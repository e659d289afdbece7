"""Typed errors and problems of the rules core; the CLI and UI decide how to show them."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a read or a file, in words a reader understands.

    ``line`` is the source line when the problem came from a file (filled by ``transfer``);
    ``lesion_id``, ``timepoint_index`` and ``field`` say what it concerns when known.
    """

    message: str
    lesion_id: str | None = None
    timepoint_index: int | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return self.message


class MrecistError(Exception):
    """Base of every error the application expects and reports to the user.

    ``exit_status`` is the command line's status for it: 1, the input was read but is
    invalid; 2 for errors of usage or of reading (e.g. a database that cannot be opened).
    """

    exit_status: int = 1


class RuleViolation(MrecistError):
    """A single interactive command would break a rule of the protocol profile."""

    def __init__(
        self,
        message: str,
        *,
        lesion_id: str | None = None,
        value: str | None = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message)
        self.lesion_id = lesion_id
        self.value = value
        self.allowed = allowed


class InvalidRead(MrecistError):
    """A read (or a file of reads) breaks the rules; ``problems`` lists every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.message for p in self.problems))


class InvalidProfile(MrecistError):
    """A protocol profile file is invalid; ``problems`` lists every problem."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listed = "; ".join(p.message for p in self.problems)
        super().__init__(f"{source}: invalid protocol profile: {listed}")


class CytologyRequired(RuleViolation):
    """Progression of ascites or pleural effusion recorded without cytological proof.

    mrecist-rules.md §Non-target response: ascites or pleural effusion count as
    progression only with cytological confirmation.
    """


class IncompleteTimepoint(InvalidRead):
    """A timepoint cannot be signed: something is missing or wrong up to it.

    ``label`` names the timepoint; ``problems`` lists what is missing or wrong, each in
    words (``N1 (new, first seen at FU1): no status at FU2``).
    """

    def __init__(self, label: str, problems: Iterable[Problem]) -> None:
        super().__init__(problems)
        self.label = label
        listed = "; ".join(p.message for p in self.problems)
        self.args = (f"{label} cannot be signed yet: {listed}",)

    def __str__(self) -> str:
        return str(self.args[0])


class EarlierDrafts(MrecistError):
    """A follow-up would be signed while an earlier timepoint is still a draft."""

    def __init__(self, label: str, drafts: Iterable[str]) -> None:
        self.label = label
        self.drafts = tuple(drafts)
        listed = ", ".join(self.drafts)
        verb = "is" if len(self.drafts) == 1 else "are"
        super().__init__(
            f"{label} cannot be signed while {listed} {verb} a draft: sign "
            f"{listed} first, or sign {label} together with {listed}"
        )
