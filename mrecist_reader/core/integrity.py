"""Content hashes of reads and the audit trail's anchor (issue 21, item 1).

The audit trail's hash chain proves that its entries were not changed; it says nothing
about the reads themselves. Each entry that changes a read therefore records the hash of
the read's content *after* the change (:func:`content_hashes`): one hash per timepoint
(its label, dates, lock state, sign-off time, every observation with its lesion and
the click's evidence, and the ROIs kept there; the last two only when present, so the
hashes of reads recorded before them are unchanged) and
one for the whole read (its key, criteria, profile name, the SHA-256 of the stored profile
text once recorded, lesions and the timepoint hashes).
Verification recomputes them from the database and names the timepoint that no longer
matches its last entry.

The serialisation is canonical: JSON with sorted keys, no spaces, ``ensure_ascii=False``,
lesions and observations sorted by their IDs, times in UTC to the microsecond, floats by
``repr`` (the shortest text that reads back to the same double).

:class:`AuditHead` is what an export writes to ``audit_head.txt`` (entry count and the
last entry's hash): whoever holds it can later prove that the trail still extends it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import (
    KeptRoi,
    KeyImage,
    Lesion,
    Observation,
    Read,
    Timepoint,
)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(value: object) -> str:
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lesion(lesion: Lesion) -> dict[str, object]:
    return {
        "lesion_id": lesion.lesion_id,
        "lesion_type": str(lesion.lesion_type),
        "organ": str(lesion.organ),
        "location": lesion.location,
    }


def canonical_observation(obs: Observation) -> dict[str, object]:
    """Return the canonical content of one observation (every recorded field)."""
    caliper = None
    if obs.caliper is not None:
        caliper = [float(v) for v in (*obs.caliper.p1_mm, *obs.caliper.p2_mm)]
    content: dict[str, object] = {
        "lesion_id": obs.lesion_id,
        "status": str(obs.status),
        "diameter_tenths": obs.diameter,
        "caliper_mm": caliper,
        "series_instance_uid": obs.series_instance_uid,
        "sop_instance_uid": obs.sop_instance_uid,
        "method": None if obs.method is None else str(obs.method),
        "comment": obs.comment,
    }
    if obs.evidence is not None:  # only when present: older hashes stay valid
        content["evidence"] = {
            "whole_diameter_tenths": obs.evidence.whole_diameter,
            "perpendicular_tenths": obs.evidence.perpendicular,
            "checks": list(obs.evidence.checks),
        }
    return content


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def canonical_roi(roi: KeptRoi) -> dict[str, object]:
    """Return the canonical content of one kept ROI (every recorded field)."""
    stats = roi.stats
    return {
        "lesion_id": roi.lesion_id,
        "label": roi.label,
        "shape": str(roi.shape),
        "points_mm": [[float(v) for v in point] for point in roi.points_mm],
        "series_instance_uid": roi.series_instance_uid,
        "sop_instance_uid": roi.sop_instance_uid,
        "pixel_count": stats.pixel_count,
        "area_mm2": float(stats.area_mm2),
        "mean": _number(stats.mean),
        "sd": _number(stats.sd),
        "minimum": _number(stats.minimum),
        "maximum": _number(stats.maximum),
        "unit": stats.unit,
        "created_at": _utc(roi.created_at),
    }


def canonical_key_image(key: KeyImage) -> dict[str, object]:
    """Return the canonical content of one key image (every recorded field)."""
    return {
        "lesion_id": key.lesion_id,
        "series_instance_uid": key.series_instance_uid,
        "sop_instance_uid": key.sop_instance_uid,
        "slice_index": key.slice_index,
        "created_at": _utc(key.created_at),
    }


def canonical_timepoint(read: Read, timepoint: Timepoint) -> dict[str, object]:
    """Return the canonical content of one timepoint: its state and its observations."""
    observations = sorted(
        read.observations_at(timepoint.index), key=lambda o: o.lesion_id
    )
    content: dict[str, object] = {
        "index": timepoint.index,
        "label": timepoint.label,
        "scan_date": _day(timepoint.scan_date),
        "study_day": timepoint.study_day,
        "read_status": str(timepoint.read_status),
        "signed_at": _utc(timepoint.signed_at),
        "observations": [canonical_observation(obs) for obs in observations],
    }
    rois = read.rois_at(timepoint.index)
    if rois:  # only when present: older hashes stay valid
        content["rois"] = sorted((canonical_roi(roi) for roi in rois), key=_canonical)
    keys = read.key_images_at(timepoint.index)
    if keys:  # only when present: older hashes stay valid
        content["key_images"] = sorted(
            (canonical_key_image(key) for key in keys), key=_canonical
        )
    return content


@dataclass(frozen=True, slots=True)
class ContentHashes:
    """SHA-256 hex digests of a read's content: the whole read and each timepoint.

    ``timepoints`` maps ``"<index>"`` to ``(label, digest)``.
    """

    read: str
    timepoints: dict[str, tuple[str, str]]

    def to_text(self) -> str:
        """Return the hashes as the canonical JSON text stored in an audit entry."""
        return _canonical(
            {
                "read": self.read,
                "timepoints": {k: list(v) for k, v in self.timepoints.items()},
            }
        )

    @classmethod
    def from_text(cls, text: str) -> "ContentHashes | None":
        """Parse :meth:`to_text`'s output; ``None`` when ``text`` is not such a record."""
        try:
            data = json.loads(text)
            timepoints = {
                str(k): (str(v[0]), str(v[1])) for k, v in data["timepoints"].items()
            }
            return cls(str(data["read"]), timepoints)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return None


def content_hashes(read: Read, *, profile_digest: str | None = None) -> ContentHashes:
    """Return the content hashes of ``read`` (as stored: see the module docstring).

    ``profile_digest`` is the SHA-256 of the stored profile text the read is assessed
    with (issue 21, item 3), computed from that text; it is part of the whole read's
    hash only when given, so hashes recorded before reads stored their profile stay
    valid until the profile is recorded (an audited change).
    """
    timepoints = {
        str(tp.index): (tp.label, _digest(canonical_timepoint(read, tp)))
        for tp in sorted(read.timepoints, key=lambda tp: tp.index)
    }
    whole = {
        "study_id": read.key.study_id,
        "subject_id": read.key.subject_id,
        "reader_id": read.key.reader_id,
        "read_type": str(read.key.read_type),
        "criteria": str(read.criteria),
        "protocol_profile": read.protocol_profile,
        "lesions": [
            _lesion(lesion)
            for lesion in sorted(read.lesions, key=lambda lesion: lesion.lesion_id)
        ],
        "timepoints": {k: v[1] for k, v in timepoints.items()},
    }
    if profile_digest is not None:
        whole["profile_sha256"] = profile_digest
    return ContentHashes(_digest(whole), timepoints)


def content_differences(recorded: ContentHashes, now: ContentHashes) -> list[str]:
    """Name what differs between recorded and recomputed hashes, in readers' words."""
    if recorded.read == now.read:
        return []
    changes: list[str] = []
    for index in sorted(set(recorded.timepoints) | set(now.timepoints), key=int):
        before, after = recorded.timepoints.get(index), now.timepoints.get(index)
        if before is None and after is not None:
            changes.append(f"timepoint {after[0]} (index {index}) was added")
        elif after is None and before is not None:
            changes.append(f"timepoint {before[0]} (index {index}) was removed")
        elif before != after and before is not None:
            changes.append(f"timepoint {before[0]} (index {index}) was changed")
    return changes or ["its lesions, criteria or profile were changed"]


AUDIT_HEAD_FILE = "audit_head.txt"
"""The file an export writes beside its CSV files."""


class InvalidAuditHead(MrecistError):
    """An ``audit_head.txt`` that cannot be read (exit status 2: unreadable input)."""

    exit_status = 2


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The end of an audit trail: how many entries it had and the last entry's hash."""

    entries: int
    head_hash: str

    def to_text(self) -> str:
        """Return the content of ``audit_head.txt``."""
        return (
            "# mrecist_reader audit trail at export; check later with\n"
            "# mrecist-reader audit --verify --since audit_head.txt\n"
            f"audit_entries: {self.entries}\n"
            f"audit_head_sha256: {self.head_hash}\n"
        )

    def to_text_unverified(self, problems: tuple[str, ...]) -> str:
        """Return ``audit_head.txt`` saying that the database failed verification.

        For an export made all the same (``export --allow-unverified``): every
        problem is listed and ``verified: no`` added (readers of the file ignore both).
        """
        lines = [
            "# WARNING: exported with --allow-unverified from a database that FAILS",
            "# verification (changed outside the application):",
            *(f"#   {' '.join(problem.split())}" for problem in problems),
            "verified: no",
        ]
        return self.to_text() + "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, *, source: str) -> "AuditHead":
        """Parse ``audit_head.txt``; ``source`` names the file in messages."""
        values: dict[str, str] = {}
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, value = line.partition(":")
                values[name.strip()] = value.strip()
        count, digest = (
            values.get("audit_entries", ""),
            values.get("audit_head_sha256", ""),
        )
        is_hex = len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
        if not (count.isascii() and count.isdigit() and len(count) < 19 and is_hex):
            raise InvalidAuditHead(
                f"{source}: not an audit head (expected the lines 'audit_entries: N' "
                "and 'audit_head_sha256: <64 hex digits>' as an export writes them)"
            )
        return cls(int(count), digest)
