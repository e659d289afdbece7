"""Issue 15 item 8: key images of a lesion, marked at the desk and exported as PNGs.

Marked for the selected lesion on the image shown (refused on another image, without a
lesion, on a signed timepoint), stored and audited, in the content hash only when
present; rendered with the calipers and labels burned in, and on a blinded read no
identity in the text drawn nor in the PNG's chunks.
"""

import io
import struct
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.integrity import canonical_timepoint
from mrecist_reader.core.model import Organ, Read
from mrecist_reader.desk.desk import ReadingDesk, WrongImage
from mrecist_reader.desk.export import existing_export_files, export_reads
from mrecist_reader.desk.key_images import (
    CALIPER_COLOUR,
    KEY_IMAGE_FOLDER,
    ShownImage,
    burned_text,
    render_key_image,
    toggle_key_image,
    write_key_images,
)
from mrecist_reader.imaging.volume import Volume
from mrecist_reader.session import TimepointSigned
from tests.desk.conftest import caliper_at
from tests.gui.conftest import make_volume

MARKED_AT = datetime(2026, 3, 1, 14, 3, 22, 123456, tzinfo=UTC)


@pytest.fixture
def with_target(desk: ReadingDesk) -> ReadingDesk:
    desk.designate(caliper_at(desk, (0.0, 0.0, 0.0), 40.0), Organ.LIVER, "segment 7")
    desk.select_lesion("T1")
    return desk


def shown(desk: ReadingDesk, image: int = 3, *, index: int = 0) -> ShownImage:
    state = desk.open_series(index)
    assert state is not None
    series = state.series
    return ShownImage(
        subject_id=series.subject_id,
        timepoint_index=index,
        series_instance_uid=series.series_instance_uid,
        sop_instance_uid=series.sop_instance_uids[image],
        slice_index=image,
    )


def stored(desk: ReadingDesk) -> Read:
    (read,) = desk.repository().all_reads()
    return read


def volume_of(desk: ReadingDesk) -> Volume:
    state = desk.open_series(0)
    assert state is not None
    return make_volume(uid=state.series.series_instance_uid)


def test_a_key_image_is_marked_for_the_selected_lesion_and_stored(
    with_target: ReadingDesk,
) -> None:
    key = toggle_key_image(with_target, shown(with_target), now=MARKED_AT)
    assert key is not None
    assert (key.lesion_id, key.timepoint_index, key.slice_index) == ("T1", 0, 3)
    (back,) = stored(with_target).key_images
    assert back == key  # every field, the time to the microsecond
    assert with_target.repository().integrity_problems() == ()
    session = with_target.session
    assert session is not None
    entry = session.audit_trail()[-1]
    assert (entry.action, entry.target) == ("mark_key_image", "BASELINE/T1")
    assert key.sop_instance_uid in entry.new_value


def test_marking_the_same_image_again_unmarks_it_audited(
    with_target: ReadingDesk,
) -> None:
    toggle_key_image(with_target, shown(with_target))
    toggle_key_image(with_target, shown(with_target, 5))
    assert toggle_key_image(with_target, shown(with_target)) is None
    (left,) = stored(with_target).key_images
    assert left.slice_index == 5
    session = with_target.session
    assert session is not None
    entry = session.audit_trail()[-1]
    assert entry.action == "unmark_key_image"
    assert "image 4 " in entry.old_value


def test_refused_without_a_lesion_on_another_image_or_a_signed_timepoint(
    with_target: ReadingDesk,
) -> None:
    with_target.select_lesion(None)
    with pytest.raises(MrecistError, match="select the lesion"):
        toggle_key_image(with_target, shown(with_target))
    with_target.select_lesion("T1")
    with pytest.raises(WrongImage):
        toggle_key_image(
            with_target, replace(shown(with_target), sop_instance_uid="1.2.3.4.5")
        )
    with_target.sign()
    with pytest.raises(TimepointSigned):
        toggle_key_image(with_target, shown(with_target))
    assert stored(with_target).key_images == ()


def test_deleting_the_lesion_removes_its_key_images(with_target: ReadingDesk) -> None:
    toggle_key_image(with_target, shown(with_target))
    session = with_target.session
    assert session is not None
    session.delete_lesion("T1")
    assert stored(with_target).key_images == ()
    assert with_target.repository().integrity_problems() == ()


def test_the_content_hash_includes_key_images_only_when_present(
    with_target: ReadingDesk,
) -> None:
    before = stored(with_target)
    timepoint = before.timepoints[0]
    assert "key_images" not in canonical_timepoint(before, timepoint)
    toggle_key_image(with_target, shown(with_target))
    after = stored(with_target)
    content = canonical_timepoint(after, after.timepoints[0])
    assert content["key_images"] == [
        {
            "lesion_id": "T1",
            "series_instance_uid": after.key_images[0].series_instance_uid,
            "sop_instance_uid": after.key_images[0].sop_instance_uid,
            "slice_index": 3,
            "created_at": content["key_images"][0]["created_at"],  # type: ignore[index]
        }
    ]


def png_chunks(data: bytes) -> list[bytes]:
    """Return the PNG's chunk types, in order."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append(data[at + 4 : at + 8])
        at += 12 + length
    return chunks


def test_the_png_has_the_caliper_burned_in_and_only_the_reads_labels(
    with_target: ReadingDesk,
) -> None:
    key = toggle_key_image(with_target, shown(with_target))
    assert key is not None
    read = stored(with_target)
    drawn: list[str] = []

    def record(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str) -> None:
        drawn.append(text)

    data = render_key_image(read, key, volume_of(with_target), draw_text=record)
    assert drawn == ["T1 40.0 mm", "T1 40.0 mm", "BASELINE"]
    assert burned_text(read, key) == ("T1 40.0 mm", "BASELINE")
    with Image.open(io.BytesIO(data)) as opened:
        picture = np.asarray(opened.convert("RGB"))
    assert picture.shape == (512, 512, 3)  # 64 pixels enlarged 8 times
    # the caliper: 40 mm across the row through patient y = 0 (row 31.25 of 0.8 mm)
    row = int((25.0 / 0.8 + 0.5) * 8)
    yellow = np.all(picture[row - 1 : row + 2] == CALIPER_COLOUR, axis=-1).any(axis=0)
    columns = np.flatnonzero(yellow)
    assert (columns.max() - columns.min()) / 8 * 0.8 == pytest.approx(40.0, abs=1.0)
    assert not np.all(picture == CALIPER_COLOUR, axis=-1)[:100, 300:].any()


def test_a_blinded_key_image_shows_and_carries_no_identity(
    with_target: ReadingDesk,
) -> None:
    key = toggle_key_image(with_target, shown(with_target))
    assert key is not None
    read = stored(with_target)
    identity = [
        read.key.subject_id,
        read.key.reader_id,
        read.key.study_id,
        read.site_id,
        key.series_instance_uid,
        key.sop_instance_uid,
        "nonexistent",  # the files' folder
        "Arterial",  # the series description
        "2026",
    ]
    drawn: list[str] = []

    def record(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str) -> None:
        drawn.append(text)

    data = render_key_image(read, key, volume_of(with_target), draw_text=record)
    assert drawn
    for text in drawn:
        assert not any(word in text for word in identity), text
    assert png_chunks(data) == [
        b"IHDR",
        *[b"IDAT"] * (len(png_chunks(data)) - 2),
        b"IEND",
    ]
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.info == {}
    for word in identity:
        assert word.encode() not in data


def test_key_images_are_written_all_or_nothing(
    with_target: ReadingDesk, tmp_path: Path
) -> None:
    toggle_key_image(with_target, shown(with_target))
    toggle_key_image(with_target, shown(with_target, 5))
    read = stored(with_target)
    volume = volume_of(with_target)
    calls: list[str] = []

    def fails_second(uid: str) -> Volume:
        calls.append(uid)
        if len(calls) == 2:
            raise MrecistError("series 2 could not be loaded")
        return volume

    with pytest.raises(MrecistError, match="could not be loaded"):
        write_key_images(tmp_path, read, fails_second)
    assert list(tmp_path.iterdir()) == []
    written = write_key_images(tmp_path, read, lambda uid: volume)
    assert [p.name for p in written] == ["T1_BASELINE_1.png", "T1_BASELINE_2.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_IMAGE_FOLDER]
    for path in written:
        with Image.open(path) as picture:
            assert picture.size == (512, 512)
    with pytest.raises(MrecistError, match="already exists"):
        write_key_images(tmp_path, read, lambda uid: volume)


def test_the_export_writes_key_images_beside_the_csv_files_or_nothing(
    with_target: ReadingDesk, tmp_path: Path
) -> None:
    toggle_key_image(with_target, shown(with_target))
    read = stored(with_target)
    volume = volume_of(with_target)

    def cannot_load(uid: str) -> Volume:
        raise MrecistError(f"cannot read /secret/{uid}")

    with pytest.raises(MrecistError, match="could not be loaded; nothing exported"):
        export_reads([read], tmp_path / "failed", key_image_volumes=cannot_load)
    assert not (tmp_path / "failed").exists() or not any(
        (tmp_path / "failed").iterdir()
    )
    result = export_reads(
        [read], tmp_path / "out", key_image_volumes=lambda uid: volume
    )
    assert result.key_images == 1
    (png,) = (tmp_path / "out" / KEY_IMAGE_FOLDER).iterdir()
    assert png.name == "S01_R01_T1_BASELINE_1.png"
    assert "1 key image(s) in key_images/" in result.summary()
    assert KEY_IMAGE_FOLDER in existing_export_files(tmp_path / "out")
    # exported again without the series: counted, and the older pictures go
    again = export_reads([read], tmp_path / "out", key_image_volumes=lambda uid: None)
    assert again.key_images_without_images == 1
    assert list((tmp_path / "out" / KEY_IMAGE_FOLDER).iterdir()) == []
    assert "not drawn" in again.summary()


def test_the_worklists_volumes_are_loaded_once_and_only_theirs(tmp_path: Path) -> None:
    from mrecist_reader.desk.key_images import worklist_volumes
    from mrecist_reader.imaging.scan import scan
    from tests.kit.dicom import SeriesSpec, write_series

    write_series(tmp_path / "s", SeriesSpec(n_slices=4))
    (series,) = scan(tmp_path / "s", use_index=False).series
    volume_of = worklist_volumes([series])
    first = volume_of(series.series_instance_uid)
    assert first is not None
    assert first.shape == (4, 32, 32)
    assert volume_of(series.series_instance_uid) is first
    assert volume_of("1.2.3") is None


def test_the_command_lines_export_finds_the_key_images_series_in_images(
    tmp_path: Path,
) -> None:
    """``mrecist-reader export --images PATH`` draws what the window's export draws."""
    from mrecist_reader.core.model import KeyImage
    from mrecist_reader.desk.key_images import volumes_for_export
    from mrecist_reader.imaging.scan import scan
    from tests.kit.dicom import SeriesSpec, write_series
    from tests.kit.reads import build_read

    write_series(tmp_path / "images" / "s", SeriesSpec(n_slices=4))
    (series,) = scan(tmp_path / "images", use_index=False).series
    mark = KeyImage(
        0, "T1", series.series_instance_uid, series.sop_instance_uids[2], 2, MARKED_AT
    )
    read = replace(build_read({"T1": [40.0]}), key_images=(mark,))
    assert volumes_for_export([build_read({"T1": [40.0]})], tmp_path) is None
    found = volumes_for_export([read], tmp_path / "images")
    assert found is not None
    volume = found(series.series_instance_uid)
    assert volume is not None
    assert volume.shape == (4, 32, 32)
    nowhere = volumes_for_export([read], None, places=tmp_path / "places.json")
    assert nowhere is not None
    assert nowhere(series.series_instance_uid) is None  # counted, not drawn
