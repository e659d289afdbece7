"""A series still arriving from the archive: the choice, the refusals, the hand-over.

No Qt and no archive: the files are written into the cache as a retrieval writes them.
"""

from pathlib import Path

import numpy as np
import pytest

from mrecist_reader.archive.records import SeriesRecord
from mrecist_reader.archive.store import LocalStore
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.archive_arrival import (
    Action,
    ArrivalPreview,
    ArrivalWatch,
    Arriving,
    SeriesStillArriving,
    arterial_first,
    decode_arrived,
    kept_slice,
)
from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from mrecist_reader.imaging.volume import SeriesInfo
from tests.conftest import SAMPLE_DICOM


@pytest.fixture(scope="module")
def s01() -> dict[str, SeriesInfo]:
    """S01's series by folder: BASELINE/ART, BASELINE/PV, FU1/ART, FU2/ART."""
    return {
        f"{s.files[0].parent.parent.name}/{s.files[0].parent.name}": s
        for s in scan(SAMPLE_DICOM / "S01", use_index=False).series
    }


def record(series: SeriesInfo, description: str | None = None) -> SeriesRecord:
    return SeriesRecord(
        series.study_instance_uid,
        series.series_instance_uid,
        series.modality,
        series.series_description if description is None else description,
        series.series_number,
        series.n_images,
    )


class Retrieval:
    """Writes a series' files into a cache the way a pull does, telling the watch."""

    def __init__(self, root: Path, *, blinded: bool = False) -> None:
        self.store = LocalStore(root)
        self.shown: list[Arriving] = []
        self.watch = ArrivalWatch(
            self.store,
            self.shown.append,
            blinded=blinded,
            studies={},
        )

    def write(self, series: SeriesInfo, count: int, start: int = 0) -> list[Path]:
        written = []
        for k in range(start, start + count):
            path = self.store.write(
                series.study_instance_uid,
                series.series_instance_uid,
                series.sop_instance_uids[k],
                series.files[k].read_bytes(),
            )
            self.watch.image(path)
            written.append(path)
        return written


def test_the_series_whose_description_reads_arterial_is_retrieved_first(
    s01: dict[str, SeriesInfo],
) -> None:
    portal, arterial = record(s01["BASELINE/PV"]), record(s01["BASELINE/ART"])
    unnamed = record(s01["BASELINE/ART"], description="")
    assert arterial_first([portal, arterial]) == [arterial, portal]
    assert arterial_first([portal, unnamed]) == [portal, unnamed]  # archive's order


def test_the_first_image_is_shown_as_soon_as_it_is_written(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.studies[art.study_instance_uid] = ("S01", "BASELINE")
    retrieval.watch.plan(((record(art), 25), (record(s01["BASELINE/PV"]), 25)))
    (first,) = retrieval.write(art, 1)
    (shown,) = retrieval.shown
    assert shown.files == (first,)
    assert not shown.is_complete
    assert shown.caption() == (
        "S01   BASELINE\nLIVER 3PH ARTERIAL\n"
        "arriving: 1 of 25 images\n"
        "\u2014 measuring waits for the whole series"
    )
    retrieval.write(art, 24, start=1)
    assert retrieval.shown[-1].arrived == 25
    assert retrieval.shown[-1].is_complete
    assert "arrived: all 25 images" in retrieval.shown[-1].caption()
    retrieval.write(s01["BASELINE/PV"], 3)  # the arterial one stays on screen
    assert {a.series.series_uid for a in retrieval.shown} == {art.series_instance_uid}


def test_without_an_arterial_record_the_first_to_arrive_is_shown_until_one_is(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    """The records of the portal series and of a later arterial one (see the module)."""
    portal, arterial = s01["BASELINE/PV"], s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(portal), 25), (record(arterial), 25)))
    retrieval.write(portal, 5)
    assert retrieval.shown[-1].series.series_uid == portal.series_instance_uid
    assert retrieval.shown[-1].caption().splitlines()[0] == "PORTAL VENOUS 70s"
    retrieval.write(arterial, 1)
    assert retrieval.shown[-1].series.series_uid == arterial.series_instance_uid
    assert retrieval.shown[-1].arrived == 1


def test_a_series_that_has_arrived_gives_way_to_the_next_one_arriving(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    """No record reads arterial: the preview follows what is arriving."""
    portal, arterial = s01["BASELINE/PV"], s01["BASELINE/ART"]
    unnamed = record(arterial, description="")
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(portal), 25), (unnamed, 25)))
    retrieval.write(portal, 25)
    assert retrieval.shown[-1].is_complete
    retrieval.write(arterial, 2)
    assert retrieval.shown[-1].series == unnamed
    assert retrieval.shown[-1].arrived == 2


def test_an_incomplete_series_stays_while_another_that_is_not_arterial_starts(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    portal, arterial = s01["BASELINE/PV"], s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(portal), 25), (record(arterial, ""), 25)))
    retrieval.write(portal, 5)  # (a retrieval of both at once: archives may)
    retrieval.write(arterial, 1)
    assert {a.series.series_uid for a in retrieval.shown} == {
        portal.series_instance_uid
    }


def test_a_later_timepoint_is_never_shown_early(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    baseline, follow_up = s01["BASELINE/PV"], s01["FU1/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(baseline), 25),))
    retrieval.watch.plan(((record(follow_up), 25),))  # the next study's pull
    retrieval.write(follow_up, 3)
    assert retrieval.shown == []


def test_resumed_images_count_and_nothing_is_shown_after_the_hand_over(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    Retrieval(tmp_path).write(art, 10)  # an earlier pull, cancelled
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(art), 25),))
    retrieval.write(art, 1, start=10)
    assert retrieval.shown[-1].arrived == 11
    retrieval.watch.stopped = True  # the window opened the complete series
    retrieval.write(art, 1, start=11)
    assert len(retrieval.shown) == 1


def test_a_blinded_caption_names_no_description_date_or_path(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path, blinded=True)
    retrieval.watch.studies[art.study_instance_uid] = ("S01", "BASELINE")
    arm = record(art, description="LIVER ARTERIAL TACE+Mg ARM B 2024-03-01")
    retrieval.watch.plan(((arm, 25),))
    retrieval.write(art, 2)
    arriving = retrieval.shown[-1]
    caption = arriving.caption() + arriving.refusal(Action.CALIPER)
    assert caption.splitlines()[:2] == ["S01   BASELINE", "CT arterial"]
    for hidden in ("TACE", "ARM", "2024", str(tmp_path), "LIVER"):
        assert hidden not in caption


def test_measuring_signing_and_placing_are_refused_until_the_hand_over(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(art), 25),))
    retrieval.write(art, 7)
    preview = ArrivalPreview()
    preview.check(Action.CALIPER)  # nothing arriving on screen: allowed
    assert preview.show(retrieval.shown[0]) is True
    assert preview.show(retrieval.shown[-1]) is False  # the same series, more images
    for action in Action:
        with pytest.raises(SeriesStillArriving) as refused:
            preview.check(action)
        message = str(refused.value)
        assert message.startswith(str(action).capitalize())
        assert "7 of 25 images of LIVER 3PH ARTERIAL have arrived" in message
    preview.looked_at(4)
    handed = preview.hand_over()
    assert handed is not None
    assert handed.sop_uid == art.sop_instance_uids[4]
    assert not preview.is_showing
    preview.check(Action.SIGN)  # the full series is open: allowed again
    assert preview.hand_over() is None


def test_the_full_series_opens_at_the_image_looked_at(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    retrieval.watch.plan(((record(art), 25),))
    retrieval.write(art, 25)
    preview = ArrivalPreview()
    preview.show(retrieval.shown[-1])
    preview.looked_at(17)
    handed = preview.hand_over()
    (full,) = scan(tmp_path, use_index=False).series
    sop = art.sop_instance_uids[17]
    assert (
        kept_slice(full, handed)
        == full.volume_slice_of_image[full.sop_instance_uids.index(sop)]
    )
    assert kept_slice(s01["BASELINE/PV"], handed) is None  # another series


def test_an_arrived_image_decodes_as_the_full_series_loads_it(
    s01: dict[str, SeriesInfo], tmp_path: Path
) -> None:
    art = s01["BASELINE/ART"]
    retrieval = Retrieval(tmp_path)
    (path,) = retrieval.write(art, 1, start=12)
    image = decode_arrived(path)
    volume = load_volume(art)
    k = art.volume_slice_of_image[12]
    assert image.sop_uid == art.sop_instance_uids[12]
    assert image.array.shape == (art.rows, art.columns)
    np.testing.assert_array_equal(image.array, volume.array[k])
    assert image.series.modality == "CT"
    here = index_to_patient(volume.affine, (k, 0.0, 0.0))
    for index in (0, 7):  # wherever a preview puts it, it is where it was taken
        at = index_to_patient(image.affine_at(index), (index, 0.0, 0.0))
        np.testing.assert_allclose(at, here, atol=1e-3)


def test_an_arrived_file_that_is_no_image_is_named_by_its_uid(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "secret patient name")
    path = store.write("1.2.3", "1.2.3.4", "1.2.3.4.5", b"not a DICOM file at all")
    with pytest.raises(MrecistError) as refused:
        decode_arrived(path)
    assert "1.2.3.4.5" in str(refused.value)
    assert "secret" not in str(refused.value)
