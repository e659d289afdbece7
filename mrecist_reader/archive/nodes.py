"""Where an archive is: a DIMSE node (AE title, host, port) or a DICOMweb base URL."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mrecist_reader.core.errors import MrecistError

DEFAULT_OUR_AE_TITLE = "MRECIST"
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # no backslash, no control


class InvalidNode(MrecistError):
    """An archive address or option is malformed (command line status 2)."""

    exit_status = 2


def check_ae_title(title: str, what: str) -> str:
    """Return ``title`` stripped, or raise :class:`InvalidNode` naming ``what``."""
    stripped = title.strip()
    if not _AE_TITLE.match(stripped):
        raise InvalidNode(
            f"{what} {title!r}: an AE title is 1 to 16 printable characters without "
            "backslash"
        )
    return stripped


def check_port(port: int, what: str) -> int:
    """Return ``port`` if it is a TCP port number (1-65535), else raise."""
    if not 0 < port < 65536:
        raise InvalidNode(f"{what} {port}: a port is a number from 1 to 65535")
    return port


@dataclass(frozen=True, slots=True)
class DimseNode:
    """A DICOM archive reached over DIMSE.

    ``move_port`` is the port of our own storage SCP for C-MOVE (``None``: no C-MOVE
    fallback); the archive must know ``our_ae_title`` at this machine and that port.
    ``move_bind`` is the address that SCP listens on. Timeouts are in seconds.
    """

    ae_title: str
    host: str
    port: int
    our_ae_title: str = DEFAULT_OUR_AE_TITLE
    move_port: int | None = None
    move_bind: str = "0.0.0.0"  # the archive connects to us for C-MOVE
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        check_ae_title(self.ae_title, "archive AE title")
        check_ae_title(self.our_ae_title, "our AE title")
        check_port(self.port, "archive port")
        if self.move_port is not None:
            check_port(self.move_port, "C-MOVE port")
        if not self.host.strip():
            raise InvalidNode("archive host: empty")

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"


def parse_dimse_address(text: str, **options: object) -> DimseNode:
    """Return the :class:`DimseNode` of ``AET@HOST:PORT`` (``[v6]`` hosts allowed).

    ``options`` are the other fields of :class:`DimseNode` (``our_ae_title``...).
    """
    match = re.fullmatch(
        r"(?P<aet>[^@]+)@(?P<host>\[[^\]]+\]|[^:@]+):(?P<port>\d+)", text
    )
    if match is None:
        raise InvalidNode(
            f"--dimse {text!r}: expected AET@HOST:PORT, e.g. ORTHANC@pacs.example:4242"
        )
    host = match["host"].strip("[]")
    return DimseNode(match["aet"], host, int(match["port"]), **options)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DicomwebNode:
    """A DICOMweb service (QIDO-RS, WADO-RS and STOW-RS under one base URL).

    Authentication is HTTP basic (``username`` and ``password``) or a bearer ``token``,
    never both. TLS certificates are always verified, against ``ca_bundle`` (a PEM file)
    when given, else the system's store. Timeouts are in seconds; a request that fails
    (no connection, timeout, HTTP 429/503/504) is tried ``attempts`` times in all.
    """

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    attempts: int = 3

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidNode(
                f"--dicomweb {self.url!r}: expected an http:// or https:// base URL, e.g. "
                "https://pacs.example/dicom-web"
            )
        if self.token is not None and self.username is not None:
            raise InvalidNode(
                "DICOMweb: give a user name and password or a token, not both"
            )
        if (self.username is None) != (self.password is None):
            raise InvalidNode(
                "DICOMweb: basic authentication needs a user name and a password"
            )

    def __str__(self) -> str:
        return self.url
