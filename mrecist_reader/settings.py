"""User settings: defaults < ``settings.toml`` in the user config dir < environment.

:func:`load_settings` is pure (it is given the environment and the file's text), so every
layer is testable; :func:`read_settings_file` and :func:`save_settings` do the file I/O.
Command-line flags override the result at the entry point.
"""

import json
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

import platformdirs

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import ReadType

logger = logging.getLogger(__name__)

APP_NAME = "mrecist_reader"
SETTINGS_SCHEMA_VERSION = 1
ENV_PREFIX = "MRECIST_READER_"
DEFAULT_PROFILE = "nct06779461"
DEFAULT_ZIP_CACHE_MB = 5120
"""Default size limit of the zip cache (5 GiB; ``imaging.zip_cache`` has the same)."""
DEFAULT_ZIP_CACHE_DAYS = 7
"""Default age limit of the zip cache's extractions (``imaging.zip_cache`` has the same)."""


class InvalidSettings(MrecistError):
    """A settings file or environment variable holds a value that cannot be used."""


class InvalidZipCacheSize(InvalidSettings):
    """The zip cache limit is not a whole number of MiB (a usage error: exit 2)."""

    exit_status = 2


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings of a run.

    Attributes
    ----------
    db_url
        SQLAlchemy URL of the reads database (default: ``reads.db`` in the user data dir).
    reader_id
        The reader's ID recorded with every read and audit entry (empty: not set yet).
    read_type
        ``central`` (blinded independent review) or ``local``.
    protocol_profile
        Name or file of the protocol profile for new reads.
    blinded_export
        Whether ``export`` blinds by default (no scan dates, no hidden site).
    zip_cache_dir
        Folder where zip archives are extracted (empty: the user's cache folder);
        ``$MRECIST_READER_ZIP_CACHE_DIR``.
    zip_cache_mb
        Size limit of that zip cache in whole MiB, 0 or more (0 keeps only the archive
        just opened); ``$MRECIST_READER_ZIP_CACHE_MB``.
    zip_cache_days
        Extractions unused for longer than this many days are removed from the zip
        cache (it holds identifiable copies), 0 or more; ``$MRECIST_READER_ZIP_CACHE_DAYS``.
    scan_index_dir
        Folder where each scanned folder's scan index is kept (file sizes, times and
        what the scan found, no patient identity; a folder opened again re-reads only
        what changed); empty: the user's cache folder (``scan-index``);
        ``$MRECIST_READER_SCAN_INDEX_DIR``.
    schema_version
        Version of the settings file format.

    """

    db_url: str
    reader_id: str = ""
    read_type: ReadType = ReadType.CENTRAL
    protocol_profile: str = DEFAULT_PROFILE
    blinded_export: bool = False
    zip_cache_dir: str = ""
    zip_cache_mb: int = DEFAULT_ZIP_CACHE_MB
    zip_cache_days: int = DEFAULT_ZIP_CACHE_DAYS
    scan_index_dir: str = ""
    schema_version: int = SETTINGS_SCHEMA_VERSION

    @property
    def zip_cache_path(self) -> Path | None:
        """Return the zip cache folder, None for the default (the user's cache)."""
        return Path(self.zip_cache_dir).expanduser() if self.zip_cache_dir else None

    @property
    def scan_index_path(self) -> Path | None:
        """Return the scan index folder, None for the default (the user's cache)."""
        return Path(self.scan_index_dir).expanduser() if self.scan_index_dir else None


def default_database_url() -> str:
    """Return the URL of the user's default local database (``reads.db``, SQLite)."""
    path = platformdirs.user_data_path(APP_NAME, appauthor=False) / "reads.db"
    return f"sqlite:///{path}"


def settings_path() -> Path:
    """Return the path of the user's ``settings.toml``."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "settings.toml"


def load_settings(env: Mapping[str, str], file_text: str | None) -> Settings:
    """Combine defaults, the settings file's text and ``MRECIST_READER_*`` variables.

    Parameters
    ----------
    env
        The environment (``os.environ`` in the application).
    file_text
        The text of ``settings.toml``, or ``None`` when there is no file.

    Returns
    -------
    Settings
        The effective settings.

    Raises
    ------
    InvalidSettings
        Naming the file or variable, the key and what was expected.

    """
    values: dict[str, object] = {}
    if file_text is not None:
        values.update(_parse_file(file_text))
    for name in _field_names():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw, f"${ENV_PREFIX}{name.upper()}")
    values.setdefault("db_url", default_database_url())
    values["schema_version"] = SETTINGS_SCHEMA_VERSION
    return Settings(**values)  # type: ignore[arg-type]


_DEFAULTS: dict[str, object] = {f.name: f.default for f in fields(Settings)}


def _field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Settings) if f.name != "schema_version")


def _parse_file(text: str) -> dict[str, object]:
    source = str(settings_path())
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidSettings(f"{source}: not valid TOML: {error}") from error
    version = data.pop("schema_version", SETTINGS_SCHEMA_VERSION)
    if not isinstance(version, int) or version > SETTINGS_SCHEMA_VERSION:
        raise InvalidSettings(
            f"{source}: schema_version {version!r} is newer than this application "
            f"understands ({SETTINGS_SCHEMA_VERSION})"
        )
    unknown = sorted(set(data) - set(_field_names()))
    if unknown:
        logger.warning("ignoring unknown settings %s in %s", ", ".join(unknown), source)
    return {
        name: _coerce(name, data[name], f"{source}: {name}")
        for name in _field_names()
        if name in data
    }


def _coerce(name: str, raw: object, where: str) -> object:
    if name == "read_type":
        try:
            return ReadType(str(raw))
        except ValueError:
            raise InvalidSettings(
                f"{where}: {raw!r} is not a read type; expected central or local"
            ) from None
    if name == "blinded_export":
        return _coerce_bool(raw, where)
    if name == "zip_cache_mb":
        return _coerce_mib(raw, where)
    if name == "zip_cache_days":
        return _coerce_days(raw, where)
    if not isinstance(raw, str):
        raise InvalidSettings(f"{where}: expected text, got {raw!r}")
    return raw.strip()


def _coerce_mib(raw: object, where: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isdecimal():
        raise InvalidZipCacheSize(
            f"{where}: {raw!r} is not a size; expected a whole number of MiB, 0 or "
            f"more (e.g. {DEFAULT_ZIP_CACHE_MB})"
        )
    return int(text)


def _coerce_days(raw: object, where: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isdecimal():
        raise InvalidZipCacheSize(
            f"{where}: {raw!r} is not an age; expected a whole number of days, 0 or "
            f"more (e.g. {DEFAULT_ZIP_CACHE_DAYS})"
        )
    return int(text)


def _coerce_bool(raw: object, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidSettings(
        f"{where}: {raw!r} is not a yes/no value; expected true or false"
    )


def read_settings_file(path: Path | None = None) -> str | None:
    """Return the text of the settings file (``None`` when there is none)."""
    target = path or settings_path()
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def load_user_settings(path: Path | None = None) -> Settings:
    """Return the settings of this user: file and ``os.environ`` layered on defaults."""
    return load_settings(os.environ, read_settings_file(path))


def format_settings(settings: Settings) -> str:
    """Return the TOML text of ``settings`` (strings quoted as TOML basic strings)."""
    lines = [f"schema_version = {SETTINGS_SCHEMA_VERSION}"]
    for name in _field_names():
        value = getattr(settings, name)
        if name == "db_url" and value == default_database_url():
            continue  # follow the default location rather than pin today's path
        if name.startswith(("zip_cache", "scan_index")) and value == _DEFAULTS[name]:
            continue  # unset: keep following the default
        if isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{name} = {value}")
        else:  # JSON string escapes are valid TOML basic-string escapes
            lines.append(f"{name} = {json.dumps(str(value), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` to the settings file atomically and return its path."""
    target = path or settings_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(format_settings(settings), encoding="utf-8")
    os.replace(temporary, target)
    return target


def remember_reader(
    reader_id: str, read_type: ReadType, path: Path | None = None
) -> Settings:
    """Store the reader's ID and read type in the settings file (the UI calls this).

    Only the file's own values and these two are written, never values that came from
    environment variables.
    """
    current = load_settings({}, read_settings_file(path))
    updated = replace(current, reader_id=reader_id.strip(), read_type=read_type)
    save_settings(updated, path)
    return updated
