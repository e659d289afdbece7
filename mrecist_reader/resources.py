"""Files shipped with the application (``resources/``) and the protocol profiles in it.

:func:`resource_path` looks in three places, in order (architecture.md §Resources):

1. ``sys._MEIPASS/resources`` when frozen by PyInstaller;
2. ``mrecist_reader/resources`` inside an installed wheel (hatchling ``force-include``);
3. ``<checkout>/resources`` when running from a source checkout.
"""

import logging
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mrecist_reader.core.errors import InvalidProfile, Problem
from mrecist_reader.core.model import Read
from mrecist_reader.core.protocol import ProtocolProfile, parse_profile

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_PROFILE_SUFFIX = ".toml"
MAX_PROFILE_BYTES = 1 << 20
"""No profile file is larger (1 MiB; the shipped ones are a few kB)."""
_SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


def resource_roots() -> tuple[Path, ...]:
    """Return the folders that may hold the resources, in the order they are tried."""
    roots: list[Path] = []
    frozen_dir = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_dir:
        roots.append(Path(frozen_dir) / "resources")
    roots.append(_PACKAGE_DIR / "resources")
    roots.append(_PACKAGE_DIR.parent / "resources")
    return tuple(roots)


def resource_path(*parts: str) -> Path:
    """Return the path of a shipped resource file or folder.

    Parameters
    ----------
    *parts
        Path components below ``resources/``, e.g. ``("protocols", "mrecist.toml")``.

    Returns
    -------
    Path
        The first existing match among :func:`resource_roots`.

    Raises
    ------
    FileNotFoundError
        When no root has it; the message lists the names that do exist there.

    """
    for root in resource_roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    known = _known_names(parts[:-1])
    raise FileNotFoundError(
        f"no resource {'/'.join(parts)!r}; known: {', '.join(known) or '(none)'}"
    )


def _known_names(folder_parts: tuple[str, ...]) -> list[str]:
    names: set[str] = set()
    for root in resource_roots():
        folder = root.joinpath(*folder_parts)
        if folder.is_dir():
            names.update(child.name for child in folder.iterdir())
    return sorted(names)


def profile_names() -> tuple[str, ...]:
    """Return the names of the shipped protocol profiles, sorted."""
    folder = resource_path("protocols")
    return tuple(
        sorted(p.stem for p in folder.iterdir() if p.suffix == _PROFILE_SUFFIX)
    )


def load_profile(name_or_file: str) -> ProtocolProfile:
    """Load a shipped profile by name, or a profile file by path.

    Parameters
    ----------
    name_or_file
        A shipped profile's name (``nct06779461``) or the path of a ``.toml`` file.

    Returns
    -------
    ProtocolProfile
        The validated profile.

    Raises
    ------
    FileNotFoundError
        When it is neither a shipped profile nor an existing file (lists the names).
    InvalidProfile
        When the file is not a valid profile (lists every problem).

    """
    if is_profile_path(name_or_file):
        path = Path(name_or_file)
        text = read_profile_file(path)
    elif name_or_file in profile_names():
        path = resource_path("protocols", name_or_file + _PROFILE_SUFFIX)
        text = path.read_text(encoding="utf-8")
    else:
        raise FileNotFoundError(
            f"unknown protocol profile {name_or_file!r}; known profiles: "
            f"{', '.join(profile_names())} (or give the path of a .toml file)"
        )
    profile = parse_profile(text, source=str(path))
    if path.parent.name == "protocols" and path.stem != profile.name:
        message = f"name: {profile.name!r} differs from the file name {path.stem!r}"
        raise InvalidProfile(str(path), [Problem(message, field="name")])
    return profile


def is_profile_path(name_or_file: str) -> bool:
    """Return whether a profile is given as a file (a ``.toml`` suffix or a folder)."""
    as_path = Path(name_or_file)
    return as_path.suffix == _PROFILE_SUFFIX or as_path.parent != Path()


def shipped_profile(name: str) -> ProtocolProfile | None:
    """Return the shipped profile of this name (``None``: no such shipped profile)."""
    if is_profile_path(name) or name not in profile_names():
        return None
    return load_profile(name)


def read_profile_file(path: Path) -> str:
    """Return the text of a profile file the user chose, opening nothing else.

    Only a regular file with a ``.toml`` suffix, of at most :data:`MAX_PROFILE_BYTES`,
    outside ``/proc``, ``/sys`` and ``/dev`` (after following links) is read: never a
    device, a FIFO (which would hang) or a system file (issue 21, item 3).

    Raises
    ------
    FileNotFoundError
        When it does not exist.
    InvalidProfile
        When it is not such a file, or not UTF-8 text.

    """
    shown = str(path)
    if path.suffix != _PROFILE_SUFFIX:
        raise InvalidProfile(
            shown,
            [
                Problem(
                    f"not a protocol profile file (expected a {_PROFILE_SUFFIX} file)"
                )
            ],
        )
    try:
        info = path.stat()
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"protocol profile file {shown} not found") from None
    except (OSError, RuntimeError) as error:  # RuntimeError: a link loop
        raise InvalidProfile(shown, [Problem(f"cannot be read ({error})")]) from None
    if any(real.is_relative_to(tree) for tree in _SYSTEM_TREES):
        raise InvalidProfile(
            shown, [Problem(f"is a system file ({real}), not a protocol profile")]
        )
    if not stat.S_ISREG(info.st_mode):
        raise InvalidProfile(
            shown, [Problem("is not a regular file (a folder, device or FIFO)")]
        )
    if info.st_size > MAX_PROFILE_BYTES:
        raise InvalidProfile(
            shown,
            [
                Problem(
                    f"is {info.st_size} bytes; a profile is at most {MAX_PROFILE_BYTES}"
                )
            ],
        )
    try:
        descriptor = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            data = stream.read(MAX_PROFILE_BYTES + 1)
    except OSError as error:
        raise InvalidProfile(
            shown, [Problem(f"cannot be read ({error.strerror})")]
        ) from None
    if len(data) > MAX_PROFILE_BYTES:  # it grew after stat()
        raise InvalidProfile(
            shown, [Problem(f"is larger than {MAX_PROFILE_BYTES} bytes")]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidProfile(shown, [Problem("is not UTF-8 text")]) from None


class ProfileResolver:
    """The profile a CSV's ``protocol_profile`` cell names (``import``, ``assess``).

    A cell is data from elsewhere: a path in it is never opened (``/etc/passwd``,
    ``/proc/...``; issue 21, item 3). Accepted: the name (or the very path) of the
    profile file given with ``--protocol``, a profile already stored in the database
    under that name (when exactly one text has it), or a shipped profile's name, in
    that order. :attr:`used` holds each name's profile, whose text the import copies
    into the database.
    """

    def __init__(
        self,
        chosen: ProtocolProfile | None,
        chosen_path: str | None,
        stored: Callable[[str], tuple[ProtocolProfile, ...]],
    ) -> None:
        self._chosen = chosen
        self._chosen_path = chosen_path
        self._stored = stored
        self.used: dict[str, ProtocolProfile] = {}
        self._by_cell: dict[str, ProtocolProfile] = {}

    def __call__(self, cell: str) -> ProtocolProfile:
        """Return the profile ``cell`` names; ``LookupError`` (in words) when none."""
        if cell not in self._by_cell:
            profile = self._resolve(cell)
            self._by_cell[cell] = profile
            self.used[profile.name] = profile
        return self._by_cell[cell]

    def named(self, reads: tuple[Read, ...]) -> tuple[Read, ...]:
        """Return ``reads`` naming their profile by its name (never by a file's path)."""
        return tuple(
            replace(read, protocol_profile=self._by_cell[read.protocol_profile].name)
            if read.protocol_profile in self._by_cell
            else read
            for read in reads
        )

    def _resolve(self, cell: str) -> ProtocolProfile:
        from mrecist_reader.resources import (
            is_profile_path,
            profile_names,
            shipped_profile,
        )

        chosen = self._chosen
        if chosen is not None and (cell == chosen.name or self._is_chosen_file(cell)):
            return chosen
        if not is_profile_path(cell):
            stored = self._stored(cell)
            if len(stored) == 1:
                return stored[0]
            if len(stored) > 1:
                raise LookupError(
                    f"the database holds {len(stored)} different texts of protocol "
                    f"profile {cell}; give the one meant with --protocol FILE"
                )
            shipped = shipped_profile(cell)
            if shipped is not None:
                return shipped
        given = f" or {chosen.name} (--protocol)" if chosen is not None else ""
        raise LookupError(
            f"not a shipped protocol profile ({', '.join(profile_names())}), nor one "
            f"stored in the database{given}; a profile from a file is given with "
            "--protocol FILE, never by a path in the CSV"
        )

    def _is_chosen_file(self, cell: str) -> bool:
        """Return whether ``cell`` is the path given with ``--protocol`` (not opened)."""
        if self._chosen_path is None:
            return False
        try:
            return Path(cell).resolve() == Path(self._chosen_path).resolve()
        except (OSError, RuntimeError, ValueError):
            return False
