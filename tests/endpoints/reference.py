"""An independent reading of endpoints.md §Per subject, written from the spec alone.

Plain tuples and loops, no code shared with ``mrecist_reader.core.endpoints``: the
differential test runs generated subjects through both and compares every field.
A scan is ``(index, label, day, target, overall, signed, backdated_to)``.
"""

from typing import NamedTuple

Scan = tuple[int, str, int, str | None, str | None, bool, str | None]

KINDS = {
    "objective": ("CR", "PR"),
    "disease_control": ("CR", "PR", "SD"),
    "complete": ("CR",),
}


def _response(s: Scan, column: int) -> str | None:
    value = s[column]
    return value if isinstance(value, str) else None


class Expected(NamedTuple):
    anchor_day: int | None
    target_day: int | None
    timepoint: str | None
    study_day: int | None
    basis_response: str | None
    endpoint_response: str | None
    responder: bool | None
    status: str


NOTHING = Expected(None, None, None, None, None, None, None, "missing")


def _earliest(scans: list[Scan]) -> Scan | None:
    best = None
    for s in scans:
        if best is None or s[2] < best[2]:
            best = s
    return best


def _progression(follow_ups: list[Scan], column: int, overall: bool) -> Scan | None:
    events = [s for s in follow_ups if _response(s, column) == "PD"]
    if overall:
        labels = {s[6] for s in follow_ups if s[6] is not None}
        events += [s for s in follow_ups if s[1] in labels]
    return _earliest(events)


def _nearest(scans: list[Scan], target: int) -> Scan | None:
    chosen = None
    for s in scans:
        if chosen is None:
            chosen = s
            continue
        distance, best = abs(s[2] - target), abs(chosen[2] - target)
        if distance < best or (distance == best and s[2] < chosen[2]):
            chosen = s
    return chosen


def _anchor(session_days: list[int], anchor: object) -> int | None:
    if anchor == "baseline":
        return 0
    if not session_days:
        return None
    return min(session_days) if anchor == "first_treatment" else max(session_days)


def reference(
    scans: list[Scan],
    session_days: list[int],
    endpoint: dict[str, object],
    sd_min_days: int,
) -> Expected:
    signed = [s for s in scans if s[5]]
    if not signed:
        return NOTHING
    anchor_day = _anchor(session_days, endpoint["anchor"])
    if anchor_day is None:
        return NOTHING._replace(status="not_treated")
    target = anchor_day + int(str(endpoint["offset_days"]))
    low = target - int(str(endpoint["window_before_days"]))
    high = target + int(str(endpoint["window_after_days"]))
    column = 3 if endpoint["basis"] == "target" else 4
    follow_ups = [s for s in signed if s[0] > 0]
    progression = _progression(follow_ups, column, endpoint["basis"] == "overall")
    candidates = [s for s in follow_ups if s[2] > anchor_day and low <= s[2] <= high]
    answered = [s for s in candidates if _response(s, column) != "NE"]
    chosen = _nearest(answered, target) or _nearest(candidates, target)
    base = NOTHING._replace(anchor_day=anchor_day, target_day=target)
    if chosen is None:
        if progression is None or progression[2] > target:
            return base
        chosen, cut = progression, target
    else:
        cut = chosen[2]
    response = _response(chosen, column)
    found = base._replace(
        timepoint=chosen[1], study_day=chosen[2], basis_response=response,
        status="assessed",
    )  # fmt: skip
    if progression is not None and progression[2] <= cut:
        return found._replace(endpoint_response="PD", responder=False)
    responder = response in KINDS[str(endpoint["kind"])]
    if response == "SD" and chosen[2] < sd_min_days:
        responder = False
    return found._replace(endpoint_response=response, responder=responder)
