"""Where each series' images were opened from, for the SR export (``export --sr``).

An SR needs the header of every image a caliper lies on. When the application opens a
study, :func:`remember` notes the folder of each series (by Series Instance UID) in
``image_places.json`` in the user's data folder (owner only; it is never shown,
logged or exported); ``export --sr`` without ``--images`` looks there. A folder that
has gone since (a zip's extraction cleaned up) is simply not found, and the export
names the series.
"""

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from mrecist_reader.imaging.volume import SeriesInfo
from mrecist_reader.settings import APP_NAME

logger = logging.getLogger(__name__)

PLACES_FILE = "image_places.json"
MAX_PLACES = 20000
"""Series remembered at most (the oldest are forgotten first)."""


def default_places() -> Path:
    """Return the file the places are kept in."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / PLACES_FILE


def _load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("image places not read (%s); starting afresh", error)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def remember(series: Iterable[SeriesInfo], path: Path | None = None) -> None:
    """Note the folder of each series' first file (never raises: it is only a help)."""
    target = path or default_places()
    places = _load(target)
    for info in series:
        if info.files:
            places.pop(info.series_instance_uid, None)  # most recent last
            places[info.series_instance_uid] = str(Path(info.files[0]).parent)
    kept = dict(list(places.items())[-MAX_PLACES:])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(kept, file)
        os.replace(temporary, target)
    except OSError as error:
        logger.warning("image places not saved (%s)", error)


def folders_for(series_uids: Iterable[str], path: Path | None = None) -> list[Path]:
    """Return the remembered folders (that still exist) of these series, each once."""
    places = _load(path or default_places())
    folders = {Path(places[uid]) for uid in series_uids if uid in places}
    return sorted(folder for folder in folders if folder.is_dir())
