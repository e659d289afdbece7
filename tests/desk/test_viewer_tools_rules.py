"""The reading tools' rules without Qt: cine, magnifier, overlay toggles."""

import numpy as np
import pytest

from mrecist_reader.desk.cine import FPS_STEPS, MAX_FPS, MIN_FPS, Cine, clamp_fps
from mrecist_reader.desk.magnifier import magnifier_patch, window_to_grey
from mrecist_reader.desk.overlay_toggles import OverlayToggles


# ---------------------------------------------------------------- cine
def test_cine_loops_at_the_series_end_in_either_direction() -> None:
    shown = [3]
    for _ in range(6):
        shown.append(Cine.next_index(shown[-1], 5, 1))
    assert shown == [3, 4, 0, 1, 2, 3, 4]
    assert Cine.next_index(0, 5, -1) == 4
    assert Cine.next_index(0, 0, 1) == 0  # no image: nothing to move to


def test_cine_plays_and_pauses() -> None:
    cine = Cine()
    assert not cine.playing
    assert cine.label() == ""
    assert cine.toggle() is True
    assert cine.label() == f"Cine {cine.fps} fps"
    assert cine.toggle() is False


def test_cine_rate_steps_within_its_range() -> None:
    cine = Cine(fps=10)
    assert cine.interval_ms == 100
    rates = [cine.faster() for _ in range(len(FPS_STEPS) + 2)]
    assert rates[-1] == MAX_FPS
    assert rates == sorted(rates)
    assert cine.interval_ms == round(1000 / MAX_FPS)
    lowest = [cine.slower() for _ in range(len(FPS_STEPS) + 2)][-1]
    assert lowest == MIN_FPS
    assert (clamp_fps(-3), clamp_fps(1000)) == (MIN_FPS, MAX_FPS)


# ---------------------------------------------------------------- magnifier
def test_the_patch_is_the_windowed_pixels_around_the_cursor() -> None:
    image = np.arange(100, dtype=np.int16).reshape(10, 10) * 10  # 0..990
    patch = magnifier_patch(image, 5, 5, (0.0, 990.0), radius=2)
    assert patch.shape == (5, 5)
    expected = window_to_grey(image[3:8, 3:8], (0.0, 990.0), invert=False)
    assert np.array_equal(patch, expected)
    assert patch[2, 2] == round(550 / 990 * 255)


def test_the_patch_is_black_outside_the_image_and_may_be_inverted() -> None:
    image = np.full((4, 4), 100.0)
    patch = magnifier_patch(image, 0, 0, (0.0, 200.0), radius=2)
    assert patch[:2, :].max() == 0
    assert patch[:, :2].max() == 0
    assert (patch[2:, 2:] == 128).all()
    inverted = magnifier_patch(image, 0, 0, (0.0, 200.0), radius=2, invert=True)
    assert (inverted[2:, 2:] == 127).all()
    assert magnifier_patch(image, 50, 50, (0.0, 200.0), radius=2).max() == 0


@pytest.mark.parametrize(("value", "grey"), [(-1000, 0), (40, 128), (5000, 255)])
def test_window_to_grey_clips_to_the_window(value: int, grey: int) -> None:
    levels = (40.0 - 200.0, 40.0 + 200.0)
    assert window_to_grey(np.array([value]), levels, invert=False)[0] == grey


# ---------------------------------------------------------------- toggles
def test_text_and_annotations_toggle_apart_and_say_what_is_hidden() -> None:
    toggles = OverlayToggles()
    assert toggles.hidden_note() == ""
    assert toggles.toggle_text() is False
    assert toggles.hidden_note() == "Hidden: text"
    assert toggles.toggle_annotations() is False
    assert toggles.hidden_note() == "Hidden: text, annotations"
    toggles.toggle_text()
    assert toggles.annotations is False
    assert toggles.text is True
    assert toggles.hidden_note() == "Hidden: annotations"
