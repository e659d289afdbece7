"""The archive node as the settings dialog edits it: form, check, test, save (no Qt).

What the reader types (:class:`ArchiveForm`) becomes ``archive.toml`` beside
``settings.toml`` (:mod:`mrecist_reader.archive.config` reads it); it is checked by
reading it back before it is written, so a mistake is named and nothing is saved.
"Test connection" runs a C-ECHO or a one-study QIDO-RS search and says what failed
(refused, timeout, unknown AE, HTTP 401/404) in words.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mrecist_reader.archive.config import (
    ARCHIVE_FILE,
    ArchiveConfig,
    parse_archive_config,
)
from mrecist_reader.archive.errors import ArchiveError
from mrecist_reader.archive.nodes import DEFAULT_OUR_AE_TITLE, DicomwebNode

PROTOCOLS = ("dicomweb", "dimse")


@dataclass(frozen=True, slots=True)
class ArchiveForm:
    """The fields of the archive settings, as text (``protocol`` empty: no archive)."""

    protocol: str = ""
    address: str = ""
    username: str = ""
    password: str = ""
    token: str = ""
    ca_bundle: str = ""
    our_ae_title: str = DEFAULT_OUR_AE_TITLE
    move_port: str = ""
    send_sr: bool = True


def form_of(config: ArchiveConfig | None) -> ArchiveForm:
    """Return the form showing ``config`` (an empty form without one)."""
    if config is None:
        return ArchiveForm()
    node = config.node
    if isinstance(node, DicomwebNode):
        return ArchiveForm(
            "dicomweb",
            node.url,
            node.username or "",
            node.password or "",
            node.token or "",
            node.ca_bundle or "",
            send_sr=config.send_sr_on_sign,
        )
    return ArchiveForm(
        "dimse",
        str(node),
        our_ae_title=node.our_ae_title,
        move_port="" if node.move_port is None else str(node.move_port),
        send_sr=config.send_sr_on_sign,
    )


def toml_text(form: ArchiveForm) -> str:
    """Return ``archive.toml`` of the form (strings quoted as TOML basic strings)."""
    lines = ["[node]"]
    if form.protocol == "dicomweb":
        fields = {
            "dicomweb": form.address,
            "username": form.username,
            "password": form.password,
            "token": form.token,
            "ca_bundle": form.ca_bundle,
        }
    elif form.protocol == "dimse":
        fields = {"dimse": form.address, "our_ae_title": form.our_ae_title}
    else:
        fields = {}
    lines += [
        f"{key} = {json.dumps(value.strip())}"
        for key, value in fields.items()
        if value.strip()
    ]
    if form.protocol == "dimse" and form.move_port.strip():
        port = form.move_port.strip()
        lines.append(f"move_port = {port if port.isdigit() else json.dumps(port)}")
    lines += ["", "[sign_off]", f"send_sr = {'true' if form.send_sr else 'false'}", ""]
    return "\n".join(lines)


def config_of(form: ArchiveForm) -> ArchiveConfig | None:
    """Return the configuration of the form; raise ``InvalidNode`` naming the mistake."""
    return parse_archive_config(toml_text(form), "archive settings")


def save(form: ArchiveForm, folder: Path) -> Path:
    """Check the form, then write ``folder/archive.toml`` (owner only: it may hold a password)."""
    config_of(form)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ARCHIVE_FILE
    temporary = folder / f".{ARCHIVE_FILE}.part"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(toml_text(form))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def try_connection(form: ArchiveForm) -> str:
    """Try the archive (C-ECHO or QIDO-RS); return what happened, in words."""
    config = config_of(form)
    if config is None:
        return "no archive: choose DICOMweb or DIMSE and give its address"
    try:
        return config.connect().check()
    except ArchiveError as error:
        return f"failed: {error}"
