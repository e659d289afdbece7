"""Contrast phase of a series from its header text and timing.

Rules, applied in this order (the first that decides wins):

1. Localizers are ``unknown``.
2. Words of SeriesDescription, then of ProtocolName (upper-cased, split on anything that
   is not a letter or digit; ``LATE ART`` etc. are read as phrases):

   - ``pre_contrast``: PRE, PRECONTRAST, NON CONTRAST / NONCONTRAST / NON-CON, NC,
     UNENHANCED, NATIVE, PLAIN, WO / W/O (without), MASK, "WITHOUT CONTRAST".
   - ``arterial``: ART, ARTERIAL, ARTERIELL, LATE ART, EARLY ART, AP, HAP, LAP, EAP,
     MULTIPHASE / MULTI-ARTERIAL / MULTIART (GE LAVA multiphase, Siemens TWIST-VIBE:
     multi-arterial acquisitions).
   - ``portal_venous``: PORTAL, PV, PVP, VEN, VENOUS, PORTOVENOUS, PORTALVENOUS,
     VENOSE, VP.
   - ``delayed``: DELAY, DELAYED, DEL, LATE (not followed by ART), EQUILIBRIUM, EQ,
     EQUIL, WASHOUT, TRANSITIONAL, TP, HBP, HEPATOBILIARY, and the hepatobiliary phase
     of gadoxetate MR is reported as ``delayed``.

   - ``pre_contrast`` also: ``C-`` / ``-C``, NECT, NCCT (non-enhanced CT).
   - ``arterial`` also: ``ARTERIAL LATE`` (LATE right after ART).

   Words match whole words only, phrases too (``LATE ARTEFACT`` and ``MULTIARTICULAR``
   name no phase). Phrases that contain a phase word but name no phase are removed
   first: ``LAP CHOLE`` / ``LAPAROSCOPIC`` (LAP is also the late arterial phase),
   ``PRE-OP`` / ``POST OP`` / ``PRE TACE`` and other treatment words (PRE and POST are
   also contrast words), and ``AP`` / ``PA`` next to SCOUT, TOPOGRAM, SURVIEW or
   LOCALIZER (a projection, not the arterial phase).

   Letters and digits run together are split first (``HBP20`` is HBP 20, ``ART2`` is
   ART 2) and German umlauts are spelled out (``Spätphase`` is SPAETPHASE, a delayed
   word). If words of two phases occur (e.g. "ART PV"), or a pre-contrast word comes
   with a with-contrast mark (W, WITH, POST, C+, +C, CE, CECT: "ABD W/WO",
   "PRE AND POST", "CHEST WO ABD W", typical of GE protocol names), the text decides
   nothing and the timing rules below decide.
3. A time in the text: ``35s`` / ``35 sec`` (seconds after injection) or ``3MIN`` /
   ``3 min`` (minutes): < 50 s arterial, 50-119 s portal venous, >= 120 s delayed.
4. Header timing: AcquisitionTime minus ContrastBolusStartTime, same thresholds
   (negative: pre-contrast).
5. Study-relative timing: when the study has at least two contrast series (a
   ContrastBolusAgent) with acquisition times, one of them is taken as arterial (~35 s
   after injection) and the others by their delay from it (35 s + delay, same
   thresholds; a series 60 s or more before it is ``pre_contrast``). The arterial one is
   the earliest contrast series that the next one follows within 60 s (the arterial to
   portal venous step), or the earliest of all when no two follow that closely.
   Scanners that write ContrastBolusAgent on every series of the exam (GE often does,
   the pre-contrast series and the localizer included) would otherwise have their
   pre-contrast series called arterial and every later phase shifted one step; with a
   60 s or longer pause before the arterial series (the injection), the pre-contrast
   series now comes out ``pre_contrast``. Limits: a pre-contrast series less than 60 s
   before the arterial one is still taken as arterial (give the scanner's
   ContrastBolusStartTime or a description), and an arterial series followed only by
   delayed series less than 60 s apart is taken as pre-contrast. A series without
   ContrastBolusAgent acquired before the earliest contrast series of such a study is
   ``pre_contrast``.
6. Otherwise ``unknown``.
"""

import logging
import re
from collections.abc import Sequence
from itertools import pairwise

from mrecist_reader.imaging.volume import Phase

logger = logging.getLogger(__name__)

ARTERIAL_LIMIT_S = 50.0
"""Seconds after injection below which a series counts as arterial."""
PORTAL_LIMIT_S = 120.0
"""Seconds after injection below which a series counts as portal venous (else delayed)."""
ASSUMED_ARTERIAL_DELAY_S = 35.0
"""Assumed injection-to-acquisition delay of a study's arterial contrast series."""
PHASE_STEP_S = 60.0
"""Longest usual pause between the arterial and the portal venous series' starts."""

_PRE_WORDS = {
    "PRE", "PRECONTRAST", "NONCONTRAST", "NONCON", "NC", "UNENHANCED", "NATIVE",
    "NATIV", "PLAIN", "WO", "MASK", "NONENHANCED", "NECT", "NCCT", "NATIVPHASE",
}  # fmt: skip
_WITH_CONTRAST_WORDS = {"W", "WITH", "POST", "CE", "CECT", "POSTCONTRAST"}
"""Words saying contrast was given, without naming a phase."""
_ARTERIAL_WORDS = {
    "ART", "ARTERIAL", "ARTERIELL", "ARTERIELLE", "ARTERIALE", "AP", "HAP", "LAP", "EAP",
    "MULTIPHASE", "MULTIART", "MULTIARTERIAL", "ARTERIAL1", "ARTERIAL2",
}  # fmt: skip
_PORTAL_WORDS = {
    "PORTAL", "PV", "PVP", "VEN", "VENOUS", "PORTOVENOUS", "PORTALVENOUS", "VENOSE",
    "VENOES", "VP", "PORTALVEN",
}  # fmt: skip
_DELAYED_WORDS = {
    "DELAY", "DELAYED", "DEL", "LATE", "EQUILIBRIUM", "EQ", "EQUIL", "WASHOUT",
    "TRANSITIONAL", "TP", "HBP", "HEPATOBILIARY", "SPAET", "SPAT", "SPAETPHASE",
}  # fmt: skip
_PHRASES: tuple[tuple[re.Pattern[str], Phase], ...] = (
    (re.compile(r"\b(LATE|EARLY)[\s_-]*ART(ERIAL)?\b"), Phase.ARTERIAL),
    (re.compile(r"\bART(ERIAL)?[\s_-]*LATE\b"), Phase.ARTERIAL),
    (re.compile(r"\bNON[\s_-]*(CONTRAST|CON|ENHANCED)\b"), Phase.PRE_CONTRAST),
    (re.compile(r"\bW/?O[\s_-]*(CONTRAST|CON|C)?\b"), Phase.PRE_CONTRAST),
    (re.compile(r"\bWITHOUT[\s_-]*CONTRAST\b"), Phase.PRE_CONTRAST),
    (re.compile(r"\bMULTI[\s_-]*(PHASE|PHASIC|ART|ARTERIAL)\b"), Phase.ARTERIAL),
    (re.compile(r"\bPORTAL[\s_-]*VEN(OUS|OES|OSE|A)?\b"), Phase.PORTAL_VENOUS),
    (re.compile(r"\bWASH[\s_-]*OUT\b"), Phase.DELAYED),
)
_NOT_PHASE = re.compile(
    r"\bLAP(ARO\w*)?[\s_-]*CHOL\w*|\bLAPARO\w*"
    r"|\b(PRE|POST)[\s_-]*(OP|OPS|OPERATIVE|OPERATIV|SURGERY|SURGICAL|TACE|TARE|RFA"
    r"|MWA|SIRT|ABLATION|TREATMENT|TX|THERAPY|BIOPSY|TRANSPLANT|LTX)\b"
    r"|\b(AP|PA)[\s_-]*(SCOUT|TOPO\w*|SURVIEW|LOCALI[SZ]ER)\b"
    r"|\b(SCOUT|TOPO\w*|SURVIEW|LOCALI[SZ]ER)[\s_-]*(AP|PA)\b"
)
"""Phrases holding a phase word that name no phase (surgery, treatment, projection)."""
_WITHOUT_MARK = re.compile(r"(?<![A-Z0-9+-])(C-|-C)(?![A-Z0-9+-])")
_WITH_MARK = re.compile(r"(?<![A-Z0-9+-])(C\+|\+C)(?![A-Z0-9+-])")
_MIXED = re.compile(r"\bW[\s/&+-]*WO\b|\bWO?[\s/&+-]*W\b|\bWITH\b.*\bWITHOUT\b")
_UMLAUTS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS"})
_GLUED = re.compile(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])")
_SECONDS = re.compile(r"(?<![\d.])(\d{1,3})\s*(S|SEC|SECS|SECOND|SECONDS)\b")
_MINUTES = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d)?)\s*(MIN|MINS|MINUTE|MINUTES)\b")


def classify_phase(
    description: str,
    *,
    protocol_name: str = "",
    contrast_agent: str = "",
    bolus_start_seconds: float | None = None,
    acquisition_seconds: float | None = None,
    study_contrast_seconds: Sequence[float] = (),
    is_localizer: bool = False,
) -> Phase:
    """Return the contrast phase of a series (rules in the module docstring).

    Parameters
    ----------
    description
        SeriesDescription.
    protocol_name
        ProtocolName, used when the description decides nothing.
    contrast_agent
        ContrastBolusAgent ('' when absent).
    bolus_start_seconds
        ContrastBolusStartTime as seconds of the day.
    acquisition_seconds
        AcquisitionTime (else ContentTime) of the series as seconds of the day.
    study_contrast_seconds
        Acquisition times (seconds of the day) of the study's series that name a
        ContrastBolusAgent, this one included when it does.
    is_localizer
        True for a localizer / scout stack.

    Returns
    -------
    Phase
        ``unknown`` when no rule decides.

    """
    if is_localizer:
        return Phase.UNKNOWN
    for text in (description, protocol_name):
        phase = phase_from_text(text)
        if phase is not Phase.UNKNOWN:
            return phase
    if acquisition_seconds is not None and bolus_start_seconds is not None:
        return _phase_from_delay(acquisition_seconds - bolus_start_seconds)
    return _phase_from_study(
        acquisition_seconds, contrast_agent, study_contrast_seconds
    )


def phase_from_text(text: str) -> Phase:
    """Return the phase named by a series description or protocol name (or unknown)."""
    raw = _NOT_PHASE.sub(" ", text.upper().translate(_UMLAUTS))
    upper = _GLUED.sub(" ", raw)
    if _MIXED.search(upper):
        return Phase.UNKNOWN
    found = {phase for pattern, phase in _PHRASES if pattern.search(upper)}
    if _WITHOUT_MARK.search(upper):
        found.add(Phase.PRE_CONTRAST)
    words = set(re.split(r"[^A-Z0-9]+", _strip_phrases(upper)))
    for word_set, phase in (
        (_PRE_WORDS, Phase.PRE_CONTRAST),
        (_ARTERIAL_WORDS, Phase.ARTERIAL),
        (_PORTAL_WORDS, Phase.PORTAL_VENOUS),
        (_DELAYED_WORDS, Phase.DELAYED),
    ):
        if words & word_set:
            found.add(phase)
    # words before the letter/digit split, so "T1W" (T1-weighted) is not a "W"
    raw_words = set(re.split(r"[^A-Z0-9]+", _strip_phrases(raw)))
    with_contrast = bool(raw_words & _WITH_CONTRAST_WORDS) or bool(
        _WITH_MARK.search(upper)
    )
    if Phase.PRE_CONTRAST in found and (with_contrast or len(found) > 1):
        return Phase.UNKNOWN
    if len(found) == 1:
        return found.pop()
    if found:
        return Phase.UNKNOWN
    return _phase_from_text_time(upper)


def _strip_phrases(upper: str) -> str:
    for pattern, _phase in _PHRASES:
        upper = pattern.sub(" ", upper)
    return upper


def _phase_from_text_time(upper: str) -> Phase:
    minutes = _MINUTES.search(upper)
    if minutes:
        return _phase_from_delay(float(minutes.group(1)) * 60.0)
    seconds = _SECONDS.search(upper)
    if seconds:
        return _phase_from_delay(float(seconds.group(1)))
    return Phase.UNKNOWN


def _phase_from_delay(seconds_after_injection: float) -> Phase:
    if seconds_after_injection < 0:
        return Phase.PRE_CONTRAST
    if seconds_after_injection < ARTERIAL_LIMIT_S:
        return Phase.ARTERIAL
    if seconds_after_injection < PORTAL_LIMIT_S:
        return Phase.PORTAL_VENOUS
    return Phase.DELAYED


def _phase_from_study(
    acquisition_seconds: float | None,
    contrast_agent: str,
    study_contrast_seconds: Sequence[float],
) -> Phase:
    if acquisition_seconds is None or len(study_contrast_seconds) < 2:
        return Phase.UNKNOWN
    times = sorted(set(study_contrast_seconds))
    if not contrast_agent:
        return Phase.PRE_CONTRAST if acquisition_seconds < times[0] else Phase.UNKNOWN
    arterial = _arterial_time(times)
    return _phase_from_delay(ASSUMED_ARTERIAL_DELAY_S + acquisition_seconds - arterial)


def _arterial_time(times: Sequence[float]) -> float:
    """Return the acquisition time taken as arterial among sorted contrast times.

    The first series that the next follows within :data:`PHASE_STEP_S` (arterial then
    portal venous); the earliest when no two series follow that closely.
    """
    for current, following in pairwise(times):
        if following - current < PHASE_STEP_S:
            return current
    return times[0]
