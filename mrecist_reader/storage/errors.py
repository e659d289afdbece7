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
