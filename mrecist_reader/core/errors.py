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
