"""Errors of the reads database, in words a reader understands."""

from mrecist_reader.core.errors import MrecistError


class DatabaseBusy(MrecistError):
    """Another program kept the database locked longer than the retries allowed."""


class ReadNotFound(MrecistError):
    """No read with this key is stored, or the current reader may not see it."""


class SignedReadConflict(MrecistError):
    """Stored signed timepoints would be overwritten; ``conflicts`` names each one."""

    def __init__(self, conflicts: tuple[str, ...]) -> None:
        self.conflicts = conflicts
        super().__init__("\n".join(conflicts))


class SchemaTooNew(MrecistError):
    """The database was written by a newer version of the application."""


class DatabaseUnavailable(MrecistError):
    """The database cannot be opened: bad URL, server unreachable, refused login."""

    exit_status = 2


class DatabaseTampered(MrecistError):
    """The database fails verification: changed outside the application.

    ``problems`` names each sign (a broken chain entry, a read and timepoint whose
    content no longer matches its history). Nothing may be added to such a database;
    it can still be opened read-only to look at it.
    """

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__(
            "the reads database fails verification (changed outside the "
            "application); nothing was written:\n" + "\n".join(problems)
        )


class DatabaseRefused(MrecistError):
    """The database refused a change (a constraint); the message holds no row values."""


class ValueNotStorable(MrecistError):
    """A value cannot be stored (too long for its field, or holding NUL); nothing is."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__("nothing was written:\n" + "\n".join(problems))
