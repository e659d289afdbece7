"""Window and level kept per series kind: no reset to 400/40 at every series change.

A reader who sets a window on the arterial CT of one timepoint wants it on the arterial
CT of the next; the venous series keeps its own. A *series kind* is the modality and the
contrast phase (``"CT arterial"``). Until the reader sets one, a kind opens with its
default: the liver window (W 150 / L 70) on arterial CT, where mRECIST measures
enhancing tumour; the abdomen window (W 400 / L 40) on other CT; on MR (no Hounsfield
units) the image's own percentiles (``None`` here: the viewer computes them).

Inversion (white on black becomes black on white) is kept per kind too: a reader who
inverts the MR of one timepoint sees the next one inverted.

The reader's own named windows are :mod:`mrecist_reader.desk.window_presets`.

Qt-free: the viewer asks, the memory answers.
"""

from mrecist_reader.imaging.volume import Phase, SeriesInfo

Window = tuple[float, float]
"""(width, level) in the image's units (HU on CT)."""

LIVER_WINDOW: Window = (150.0, 70.0)
ABDOMEN_WINDOW: Window = (400.0, 40.0)


def series_kind(series: SeriesInfo) -> str:
    """Return the kind of a series: its modality and contrast phase ("CT arterial")."""
    return kind_of(series.modality, series.phase)


def kind_of(modality: str, phase: Phase | str | None = None) -> str:
    """Return the kind of a modality and phase (no phase: the modality alone)."""
    name = (modality or "").strip().upper() or "CT"
    return name if phase is None or str(phase) == "" else f"{name} {phase}"


def default_window(kind: str) -> Window | None:
    """Return the window a kind opens with (``None``: from the image's values)."""
    modality, _, phase = kind.partition(" ")
    if modality != "CT":
        return None
    if phase == str(Phase.ARTERIAL):
        return LIVER_WINDOW
    return ABDOMEN_WINDOW


class WindowMemory:
    """The last window the reader chose for each series kind.

    One memory may serve several viewers (baseline and follow-up side by side), so a
    window chosen on one series applies to the next series of that kind in either.
    """

    def __init__(self) -> None:
        self._windows: dict[str, Window] = {}
        self._inverted: set[str] = set()

    def remember(self, kind: str, window: Window) -> None:
        """Keep ``window`` as the one to open series of ``kind`` with."""
        self._windows[kind] = (float(window[0]), float(window[1]))

    def window_for(self, kind: str) -> Window | None:
        """Return the remembered window of a kind, else its default."""
        return self._windows.get(kind, default_window(kind))

    def set_inverted(self, kind: str, inverted: bool) -> None:
        """Keep whether series of ``kind`` are shown inverted."""
        if inverted:
            self._inverted.add(kind)
        else:
            self._inverted.discard(kind)

    def inverted(self, kind: str) -> bool:
        """Return whether series of ``kind`` are shown inverted (default: not)."""
        return kind in self._inverted

    def forget(self) -> None:
        """Forget every remembered window and inversion (defaults apply again)."""
        self._windows.clear()
        self._inverted.clear()
