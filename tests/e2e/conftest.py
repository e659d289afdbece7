"""End-to-end fixtures: the GUI tests' theme and error-dialog recording."""

from tests.gui.conftest import _themed_application, error_messages

__all__ = ["_themed_application", "error_messages"]
