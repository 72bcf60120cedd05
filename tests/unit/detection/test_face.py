from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from likeness_ledger.detection.face import DETECTOR_FILE, EMBEDDER_FILE, FaceEngine, face_engine, models_dir
from likeness_ledger.detection.operating import FLOOR
from likeness_ledger.errors import IntegrityFailure


def test_embeddings_are_unit_and_separate_people(media_dir: Path) -> None:
    engine = face_engine()
    ref = engine.faces(cv2.imread(str(media_dir / "obama_ref.jpg")))
    probe = engine.faces(cv2.imread(str(media_dir / "obama_probe.jpg")))
    other = engine.faces(cv2.imread(str(media_dir / "biden_ref.jpg")))
    assert len(ref) == len(probe) == len(other) == 1
    for f in (ref[0], probe[0], other[0]):
        assert f.embedding.shape == (128,)
        assert abs(float(np.linalg.norm(f.embedding)) - 1) < 1e-5
    same = float(ref[0].embedding @ probe[0].embedding)
    different = float(ref[0].embedding @ other[0].embedding)
    assert same > 0.5 > FLOOR > different


def test_group_photo_gives_every_face_with_boxes_inside_the_image(media_dir: Path) -> None:
    img = cv2.imread(str(media_dir / "pair.jpg"))
    faces = face_engine().faces(img)
    assert len(faces) >= 2
    for f in faces:
        x, y, w, h = f.box
        assert x >= 0 and y >= 0 and x + w <= img.shape[1] and y + h <= img.shape[0]
    areas = [f.box[2] * f.box[3] for f in faces]
    assert areas == sorted(areas, reverse=True)


def test_no_face_in_a_blank_image() -> None:
    assert face_engine().faces(np.full((200, 300, 3), 127, dtype=np.uint8)) == []


def test_model_file_with_another_digest_is_refused(tmp_path: Path) -> None:
    for name in (DETECTOR_FILE, EMBEDDER_FILE):
        shutil.copy(models_dir() / name, tmp_path / name)
    data = bytearray((tmp_path / DETECTOR_FILE).read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / DETECTOR_FILE).write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        FaceEngine(tmp_path)
