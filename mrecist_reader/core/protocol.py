"""Protocol profiles: the settings where the published criteria leave a choice.

See mrecist-rules.md §Profiles. Profiles are data files (``resources/protocols/*.toml``)
parsed and validated by :func:`parse_profile`.
"""

from dataclasses import dataclass

from mrecist_reader.core.model import Criteria
from mrecist_reader.core.units import Tenths


@dataclass(frozen=True, slots=True)
class ProtocolProfile:
    """A validated protocol profile; every length in tenths of a millimetre.

    Attributes
    ----------
    name
        The profile's name as exported in ``protocol_profile`` (e.g. ``nct06779461``).
    target_min_baseline
        Every target's minimum viable diameter at baseline (inclusive).
    target_max_baseline
        Every target's maximum viable diameter at baseline (inclusive), or ``None``.
    at_least_one_target_min
        At least one target must reach this baseline diameter, or ``None``.
    max_targets_per_organ, max_targets_total
        Target limits (lymph nodes together count as one organ).
    lymph_node_targets_allowed
        Whether lymph nodes may be targets.
    node_min_short_axis
        Minimum short axis of a node target at baseline, when nodes are allowed.
    too_small_value
        The value recorded for ``too_small``.
    pd_min_absolute_increase
        PD also needs a sum increase over the nadir of at least this much.
    confirmation_required, confirmation_interval_days
        Whether CR/PR need confirmation, and after how many days at least.
    sd_min_days
        Minimum days from baseline for SD to count as best response.

    """

    name: str
    criteria: Criteria
    target_min_baseline: Tenths
    target_max_baseline: Tenths | None
    at_least_one_target_min: Tenths | None
    max_targets_per_organ: int
    max_targets_total: int
    lymph_node_targets_allowed: bool
    node_min_short_axis: Tenths | None
    too_small_value: Tenths
    pd_min_absolute_increase: Tenths
    confirmation_required: bool
    confirmation_interval_days: int | None
    sd_min_days: int
    description: str = ""
