"""Errors of the archive clients, each naming the archive and what to check."""

from mrecist_reader.core.errors import MrecistError


class ArchiveError(MrecistError):
    """The archive could not be reached or refused a request (command line status 2)."""

    exit_status = 2


class ArchiveUnreachable(ArchiveError):
    """Nothing answers at the archive's address (connection refused, unknown host)."""


class ArchiveTimeout(ArchiveError):
    """The archive did not answer within the time allowed."""


class AssociationRejected(ArchiveError):
    """The DICOM archive rejected the association (e.g. unknown AE title)."""


class AuthenticationFailed(ArchiveError):
    """The archive refused our credentials (HTTP 401 or 403)."""


class ArchiveNotFound(ArchiveError):
    """The archive has no such resource (HTTP 404: wrong base URL or UID)."""


class ArchiveRequestFailed(ArchiveError):
    """The archive answered a request with a failure status."""


class UnsafeIdentifier(ArchiveError):
    """The archive sent a UID that cannot be a file name (it is not a DICOM UID)."""


class PullCancelled(ArchiveError):
    """The user cancelled a pull; what arrived stays, and a new pull resumes."""

    exit_status = 1
