"""The PR and PD thresholds of a profile, for views that draw them.

The rules engine compares exactly by cross-multiplying (mrecist-rules.md §Target
response, rules 2 and 4); a view that draws the PR line under the baseline sum and
the PD line over the nadir takes the same numbers from here instead of re-coding them.
"""

from dataclasses import dataclass
from fractions import Fraction

from mrecist_reader.core.protocol import ProtocolProfile
from mrecist_reader.core.rules import (
    PD_INCREASE_DEN,
    PD_INCREASE_NUM,
    PR_LIMIT_DEN,
    PR_LIMIT_NUM,
)
from mrecist_reader.core.units import Tenths


@dataclass(frozen=True, slots=True)
class ResponseThresholds:
    """Where PR and PD begin under a profile.

    Attributes
    ----------
    pr_fraction
        PR: the sum is at most this fraction of the baseline sum (7/10).
    pd_fraction
        PD: the sum is at least this fraction of the nadir (12/10) ...
    pd_min_absolute_increase
        ... and at least this much above it (tenths of a mm; 0: no minimum).

    """

    pr_fraction: Fraction
    pd_fraction: Fraction
    pd_min_absolute_increase: Tenths

    def pr_limit(self, baseline_sum: Tenths) -> Fraction:
        """Return the largest sum that is PR for a baseline sum (tenths of a mm)."""
        return self.pr_fraction * baseline_sum

    def pd_limit(self, nadir_sum: Tenths) -> Fraction:
        """Return the smallest sum that is PD for a nadir (tenths of a mm).

        With a nadir of 0 (after CR) any viable tumour is PD, at least the absolute
        minimum: the limit is that minimum (0 when there is none, i.e. any sum > 0).
        """
        return max(
            self.pd_fraction * nadir_sum,
            Fraction(nadir_sum + self.pd_min_absolute_increase),
        )


def response_thresholds(profile: ProtocolProfile) -> ResponseThresholds:
    """Return the PR and PD thresholds that apply under ``profile``.

    Parameters
    ----------
    profile
        The protocol profile (its absolute PD minimum applies).

    Returns
    -------
    ResponseThresholds
        The fractions of the baseline (PR) and nadir (PD) sums, and the PD minimum.

    """
    return ResponseThresholds(
        pr_fraction=Fraction(PR_LIMIT_NUM, PR_LIMIT_DEN),
        pd_fraction=Fraction(PD_INCREASE_NUM, PD_INCREASE_DEN),
        pd_min_absolute_increase=profile.pd_min_absolute_increase,
    )
