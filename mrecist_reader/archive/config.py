"""The archive node of the application: ``archive.toml`` beside ``settings.toml``.

::

    [node]
    dicomweb = "https://pacs.example/dicom-web"  # or: dimse = "ORTHANC@pacs:4242"
    username = "reader"  # DICOMweb basic authentication (or token = "...")
    password = "secret"
    our_ae_title = "MRECIST"  # DIMSE
    move_port = 11113  # DIMSE: our storage SCP for C-MOVE (optional)

    [sign_off]
    send_sr = true  # the SR of a signed timepoint goes to the archive

Parsed without touching the network; a mistake is an :class:`InvalidNode` naming the
file and the key.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mrecist_reader.archive.nodes import (
    DicomwebNode,
    DimseNode,
    InvalidNode,
    parse_dimse_address,
)

if TYPE_CHECKING:  # the clients (requests, pynetdicom) load when first connected
    from mrecist_reader.archive.dicomweb import DicomwebArchive
    from mrecist_reader.archive.dimse import DimseArchive

ARCHIVE_FILE = "archive.toml"

_DICOMWEB_KEYS = ("username", "password", "token", "ca_bundle")


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """Where the archive is, and whether signed timepoints' SRs are sent to it."""

    node: DicomwebNode | DimseNode
    send_sr_on_sign: bool = True

    def connect(self) -> "DicomwebArchive | DimseArchive":
        """Return a client of the node (no connection is made yet)."""
        from mrecist_reader.archive.dicomweb import DicomwebArchive
        from mrecist_reader.archive.dimse import DimseArchive

        if isinstance(self.node, DicomwebNode):
            return DicomwebArchive(self.node)
        return DimseArchive(self.node)


def parse_archive_config(text: str, where: str) -> ArchiveConfig | None:
    """Return the configuration in ``text`` (``None``: no node configured).

    ``where`` names the file in messages.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidNode(f"{where}: not TOML ({error})") from error
    node_table = _table(data, "node", where)
    sign_off = _table(data, "sign_off", where)
    send = sign_off.get("send_sr", True)
    if not isinstance(send, bool):
        raise InvalidNode(f"{where}: [sign_off] send_sr: expected true or false")
    node = _node(node_table, where)
    return None if node is None else ArchiveConfig(node, send)


def read_archive_config(folder: Path) -> ArchiveConfig | None:
    """Return the configuration of ``folder/archive.toml`` (``None``: no such file)."""
    path = folder / ARCHIVE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidNode(f"{path}: not readable ({error})") from error
    return parse_archive_config(text, str(path))


def _table(data: Mapping[str, object], name: str, where: str) -> dict[str, object]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise InvalidNode(f"{where}: [{name}] must be a table")
    return {str(k): v for k, v in table.items()}


def _node(table: Mapping[str, object], where: str) -> DicomwebNode | DimseNode | None:
    url, address = table.get("dicomweb"), table.get("dimse")
    if url is not None and address is not None:
        raise InvalidNode(f"{where}: [node] give dicomweb or dimse, not both")
    if url is None and address is None:
        return None
    try:
        if url is not None:
            given = {k: _text(table, k, where) for k in _DICOMWEB_KEYS if k in table}
            return DicomwebNode(
                _text(table, "dicomweb", where),
                username=given.get("username"),
                password=given.get("password"),
                token=given.get("token"),
                ca_bundle=given.get("ca_bundle"),
            )
        dimse: dict[str, object] = {}
        if "our_ae_title" in table:
            dimse["our_ae_title"] = _text(table, "our_ae_title", where)
        if "move_port" in table:
            port = table["move_port"]
            if not isinstance(port, int) or isinstance(port, bool):
                raise InvalidNode(f"{where}: [node] move_port: expected a number")
            dimse["move_port"] = port
        return parse_dimse_address(_text(table, "dimse", where), **dimse)
    except InvalidNode as error:
        message = str(error)
        raise InvalidNode(
            message if message.startswith(where) else f"{where}: {message}"
        ) from error


def _text(table: Mapping[str, object], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise InvalidNode(f"{where}: [node] {key}: expected a non-empty text")
    return value.strip()
