"""Cine: the images of a series played one after another at a chosen frame rate.

Qt-free: the widget's timer asks :meth:`Cine.next_index` for the image to show at each
tick. Cine **loops**: after the series' last image in the playing direction it goes
back to the first, as PACS cine loops do, until the reader pauses it. Cine only moves
the shown image: it records nothing (no read change, no audit entry).
"""

from dataclasses import dataclass

MIN_FPS = 1
MAX_FPS = 30
DEFAULT_FPS = 10
FPS_STEPS = (1, 2, 5, 10, 15, 20, 30)
"""The frame rates that slower / faster step through."""


def clamp_fps(fps: int) -> int:
    """Return ``fps`` held within the cine's range.

    >>> clamp_fps(0), clamp_fps(12), clamp_fps(99)
    (1, 12, 30)
    """
    return min(max(int(fps), MIN_FPS), MAX_FPS)


@dataclass
class Cine:
    """Whether cine plays, and how fast (frames per second)."""

    fps: int = DEFAULT_FPS
    playing: bool = False

    def toggle(self) -> bool:
        """Play if paused, pause if playing; return whether it plays now."""
        self.playing = not self.playing
        return self.playing

    def faster(self) -> int:
        """Step up to the next frame rate (the fastest stays); return it."""
        higher = [step for step in FPS_STEPS if step > self.fps]
        self.fps = higher[0] if higher else MAX_FPS
        return self.fps

    def slower(self) -> int:
        """Step down to the previous frame rate (the slowest stays); return it."""
        lower = [step for step in FPS_STEPS if step < self.fps]
        self.fps = lower[-1] if lower else MIN_FPS
        return self.fps

    @property
    def interval_ms(self) -> int:
        """Return the time between two frames, in milliseconds."""
        return round(1000 / clamp_fps(self.fps))

    @staticmethod
    def next_index(current: int, count: int, step: int) -> int:
        """Return the slice after ``current`` in the playing direction, looping.

        ``step`` is +1 or -1 (the direction of the next image in reading order).

        >>> (
        ...     Cine.next_index(4, 5, 1),
        ...     Cine.next_index(0, 5, -1),
        ...     Cine.next_index(2, 5, 1),
        ... )
        (0, 4, 3)
        """
        if count <= 0:
            return 0
        return (current + step) % count

    def label(self) -> str:
        """Return the cine's state as the viewer shows it ("Cine 10 fps")."""
        return f"Cine {self.fps} fps" if self.playing else ""
