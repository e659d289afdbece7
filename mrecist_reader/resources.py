"""Files shipped with the application (``resources/``) and the protocol profiles in it.

:func:`resource_path` looks in three places, in order (architecture.md §Resources):

1. ``sys._MEIPASS/resources`` when frozen by PyInstaller;
2. ``mrecist_reader/resources`` inside an installed wheel (hatchling ``force-include``);
3. ``<checkout>/resources`` when running from a source checkout.
"""

import logging
import sys
from pathlib import Path

from mrecist_reader.core.errors import InvalidProfile, Problem
from mrecist_reader.core.protocol import ProtocolProfile, parse_profile

logger = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_PROFILE_SUFFIX = ".toml"


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
    as_path = Path(name_or_file)
    if as_path.suffix == _PROFILE_SUFFIX or as_path.parent != Path():
        if not as_path.is_file():
            raise FileNotFoundError(f"protocol profile file {name_or_file} not found")
        path = as_path
    elif name_or_file in profile_names():
        path = resource_path("protocols", name_or_file + _PROFILE_SUFFIX)
    else:
        raise FileNotFoundError(
            f"unknown protocol profile {name_or_file!r}; known profiles: "
            f"{', '.join(profile_names())} (or give the path of a .toml file)"
        )
    profile = parse_profile(path.read_text(encoding="utf-8"), source=str(path))
    if path.parent.name == "protocols" and path.stem != profile.name:
        message = f"name: {profile.name!r} differs from the file name {path.stem!r}"
        raise InvalidProfile(str(path), [Problem(message, field="name")])
    return profile
