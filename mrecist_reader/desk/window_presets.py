"""The reader's own window/level presets, kept in a small TOML file of the user's.

The presets are the reader's, not the trial's: they live in ``window_presets.toml``
beside ``settings.toml`` in the user's settings folder (readable by the owner only),
never in the reads database. The first five take the keys 5-9 (1-4 are the built-in
CT windows). A file that cannot be read is reported with its name and line, and the
reader starts with no presets rather than a traceback.

File format::

    [[preset]]
    name = "Liver narrow"
    width = 120
    level = 80
"""

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mrecist_reader.settings import settings_path

PRESETS_FILE = "window_presets.toml"
PRESET_KEYS = ("5", "6", "7", "8", "9")
MAX_NAME = 40


class PresetError(ValueError):
    """The presets file cannot be read; the message names the file and the place."""


@dataclass(frozen=True)
class UserPreset:
    """A window the reader named: width and level in the image's units."""

    name: str
    width: float
    level: float


def presets_path() -> Path:
    """Return the user's presets file (beside ``settings.toml``)."""
    return settings_path().with_name(PRESETS_FILE)


def clean_name(name: str) -> str:
    """Return a preset name trimmed, on one line and at most 40 characters.

    >>> clean_name("  Liver  narrow ")
    'Liver narrow'
    """
    return " ".join(name.split())[:MAX_NAME]


def parse_presets(text: str, where: str) -> list[UserPreset]:
    """Return the presets of a file's text; :class:`PresetError` names what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PresetError(f"{where}: not valid TOML ({error})") from None
    entries = data.get("preset", [])
    if not isinstance(entries, list):
        raise PresetError(f"{where}: 'preset' must be a list of [[preset]] tables")
    presets: list[UserPreset] = []
    for number, entry in enumerate(entries, start=1):
        place = f"{where}: preset {number}"
        if not isinstance(entry, dict):
            raise PresetError(f"{place}: not a table")
        name = clean_name(str(entry.get("name", "")))
        if not name:
            raise PresetError(f"{place}: field 'name' is missing or empty")
        width, level = entry.get("width"), entry.get("level")
        for field, value in (("width", width), ("level", level)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PresetError(f"{place} ({name}): field '{field}' must be a number")
        if float(width) < 1:  # type: ignore[arg-type]
            raise PresetError(f"{place} ({name}): field 'width' must be at least 1")
        presets.append(UserPreset(name, float(width), float(level)))  # type: ignore[arg-type]
    return presets


def format_presets(presets: list[UserPreset]) -> str:
    """Return the TOML text of ``presets`` (names as TOML basic strings)."""
    blocks = [
        f"[[preset]]\nname = {json.dumps(p.name, ensure_ascii=False)}\n"
        f"width = {p.width:g}\nlevel = {p.level:g}\n"
        for p in presets
    ]
    return "\n".join(blocks)


class PresetBook:
    """The reader's presets, read from and written to their file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or presets_path()
        self.presets: list[UserPreset] = []
        self.problem = ""
        """Why the file could not be read ("" when it could, or there is none)."""

    def load(self) -> list[UserPreset]:
        """Read the file (none: no presets; unreadable: none, and :attr:`problem`)."""
        self.problem = ""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.presets = []
            return self.presets
        except (OSError, UnicodeDecodeError) as error:
            self.problem = f"{self.path}: cannot be read ({error})"
            self.presets = []
            return self.presets
        try:
            self.presets = parse_presets(text, str(self.path))
        except PresetError as error:
            self.problem = str(error)
            self.presets = []
        return self.presets

    def save(self) -> Path:
        """Write the presets atomically, readable and writable by the owner only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(format_presets(self.presets))
        os.chmod(temporary, 0o600)  # an older temporary file may have kept wider rights
        os.replace(temporary, self.path)
        return self.path

    def add(self, name: str, width: float, level: float) -> UserPreset:
        """Keep a preset (a preset of the same name is replaced) and save the file."""
        preset = UserPreset(clean_name(name), max(float(width), 1.0), float(level))
        if not preset.name:
            raise PresetError("A preset needs a name")
        kept = [p for p in self.presets if p.name != preset.name]
        self.presets = [*kept, preset]
        self.save()
        return preset

    def remove(self, name: str) -> bool:
        """Forget the preset named ``name`` and save; return whether there was one."""
        kept = [p for p in self.presets if p.name != name]
        if len(kept) == len(self.presets):
            return False
        self.presets = kept
        self.save()
        return True

    def keyed(self) -> list[tuple[str, UserPreset]]:
        """Return the presets that have a key (5-9), with their key."""
        return list(zip(PRESET_KEYS, self.presets, strict=False))
