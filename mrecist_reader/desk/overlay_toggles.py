"""What is drawn over the image: the corner texts and the annotations, each toggled.

Readers hide the text to see the image's edges and the annotations (calipers, ROIs,
DICOM overlay planes) to see what lies beneath them, then bring them back: **T** toggles
the text, **Shift+T** the annotations (the Shift-key habit of PACS viewers: the same
key, shifted, for the graphics). Qt-free: the viewer asks what to show.
"""

from dataclasses import dataclass


@dataclass
class OverlayToggles:
    """Whether the text overlays and the annotations are shown."""

    text: bool = True
    annotations: bool = True

    def toggle_text(self) -> bool:
        """Show the text if hidden, else hide it; return whether it is shown now."""
        self.text = not self.text
        return self.text

    def toggle_annotations(self) -> bool:
        """Show the annotations if hidden, else hide them; return whether shown now."""
        self.annotations = not self.annotations
        return self.annotations

    def hidden_note(self) -> str:
        """Return what is hidden, for the viewer's tool bar ("" when nothing is)."""
        hidden = [
            name
            for name, shown in (("text", self.text), ("annotations", self.annotations))
            if not shown
        ]
        return f"Hidden: {', '.join(hidden)}" if hidden else ""
