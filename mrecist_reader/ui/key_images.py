"""Mark the image shown as a key image of the selected lesion (issue 15, item 8).

Wiring only: the K key (Lesion > Mark or unmark key image) takes the image shown on
the pane of the timepoint being read (the pane with the keyboard focus when two show
it) and passes it to :func:`~mrecist_reader.desk.key_images.toggle_key_image`, which
decides; the answer is said in the status bar.
"""

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QApplication, QWidget

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.desk import ReadingDesk
from mrecist_reader.desk.key_images import ShownImage, key_images_of, toggle_key_image
from mrecist_reader.ui.errors import error_boundary
from mrecist_reader.ui.timepoint_view import TimepointView


def shown_image(view: TimepointView) -> ShownImage:
    """Return the image a pane shows.

    Raises
    ------
    MrecistError
        When the pane shows nothing, or a gap where the series has no image.

    """
    viewer = view.viewer
    if viewer.stack is None or view.series is None or view.timepoint_index is None:
        raise MrecistError("no image is shown here; no key image marked")
    k = int(viewer.slice_index)
    return ShownImage(
        subject_id=view.subject_id,
        timepoint_index=view.timepoint_index,
        series_instance_uid=view.series.series_instance_uid,
        sop_instance_uid=view.image_uid((float(k), 0.0, 0.0)),
        slice_index=k,
    )


def reading_view(
    views: Sequence[TimepointView], desk: ReadingDesk
) -> TimepointView | None:
    """Return the pane of the timepoint being read (the focused one first)."""
    current = [v for v in views if v.timepoint_index == desk.timepoint_index]
    focus = QApplication.focusWidget()
    focused = [
        v
        for v in current
        if focus is not None and (focus is v.viewer or v.viewer.isAncestorOf(focus))
    ]
    found = focused or current
    return found[0] if found else None


def toggle_from_views(
    parent: QWidget,
    views: Sequence[TimepointView],
    desk: ReadingDesk,
    say: Callable[[str, int], None],
) -> None:
    """Mark (or unmark) the image shown as a key image of the selected lesion."""
    with error_boundary(parent, "Key image"):
        view = reading_view(views, desk)
        if view is None:
            raise MrecistError("no pane shows the timepoint being read")
        shown = shown_image(view)
        key = toggle_key_image(desk, shown)
        lesion = desk.selected_lesion or ""
        count = (
            0 if desk.session is None else len(key_images_of(desk.session.read, lesion))
        )
        verb = "marked" if key is not None else "unmarked"
        say(
            f"image {shown.slice_index + 1} {verb} as a key image of {lesion} "
            f"({count} key image{'s' if count != 1 else ''})",
            8000,
        )
