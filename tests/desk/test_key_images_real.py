"""Issue 15 item 8 on a real CT (dcmqi's 3-slice liver CT from ../shared/dicom_samples).

The PNG drawn from the real images carries none of their identity (patient name and
ID, study date) in its text or bytes, and the caliper lands where it was measured.
"""

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

from mrecist_reader.core.model import Caliper, KeyImage
from mrecist_reader.core.units import format_mm
from mrecist_reader.desk.key_images import CALIPER_COLOUR, render_key_image
from mrecist_reader.imaging.geometry import index_to_patient
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan
from tests.kit.reads import build_read


def test_a_real_ct_key_image_has_the_caliper_and_no_identity(
    shared_samples: Path,
) -> None:
    folder = shared_samples / "dcmqi_ct-3slice"
    (series,) = scan(folder, use_index=False).series
    volume = load_volume(series)
    header = pydicom.dcmread(series.files[0], stop_before_pixels=True)
    identity = [str(header.PatientName), str(header.PatientID), header.StudyDate]
    assert all(identity)
    ends = index_to_patient(volume.affine, [(1, 256.0, 150.0), (1, 256.0, 350.0)])
    caliper = Caliper(
        tuple(float(v) for v in ends[0]),  # type: ignore[arg-type]
        tuple(float(v) for v in ends[1]),  # type: ignore[arg-type]
    )
    read = build_read({"T1": [caliper.length() / 10]}, days=[0])  # in mm
    (obs,) = read.observations
    uid = volume.sop_instance_uids[1]
    read = replace(
        read,
        observations=(
            replace(
                obs,
                caliper=caliper,
                series_instance_uid=series.series_instance_uid,
                sop_instance_uid=uid,
            ),
        ),
    )
    key = KeyImage(0, "T1", series.series_instance_uid, uid, 1, datetime.now(UTC))
    drawn: list[str] = []
    data = render_key_image(
        read, key, volume, draw_text=lambda draw, xy, text: drawn.append(text)
    )
    label = f"T1 {format_mm(caliper.length())} mm"
    assert drawn == [label, label, "BASELINE day 0"]
    for word in identity:
        assert not any(word in text for text in drawn)
        assert word.encode() not in data
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.info == {}
        picture = np.asarray(opened.convert("RGB"))
    assert picture.shape == (512, 512, 3)  # a 512 x 512 CT keeps its size
    yellow = np.all(picture[255:258] == CALIPER_COLOUR, axis=-1).any(axis=0)
    columns = np.flatnonzero(yellow)
    assert columns.min() <= 152
    assert columns.max() >= 349
