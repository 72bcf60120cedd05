from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from likeness_ledger.detection.face import (
    DETECTOR_FILE,
    DLIB_PREDICTOR_FILE,
    DLIB_RESNET_FILE,
    DLIB_SHA256,
    EMBEDDER_FILE,
    EMBEDDING_DIM,
    DlibEmbedder,
    FaceEngine,
    _verified,
    dlib_models_dir,
    face_engine,
    models_dir,
    reference_embedding,
)
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


def test_onnxruntime_sface_gives_opencvs_embedding(media_dir: Path) -> None:
    # SFace runs in ONNX Runtime; references made with OpenCV's DNN module must stay comparable.
    engine = face_engine()
    img = cv2.imread(str(media_dir / "obama_ref.jpg"))
    crop = engine.align(img, engine.detect(img)[0])
    opencv = cv2.FaceRecognizerSF.create(str(models_dir() / EMBEDDER_FILE), "").feature(crop).reshape(-1)
    opencv = opencv / np.linalg.norm(opencv)
    assert float(engine.embed_single(crop) @ opencv) > 0.9999


def test_reference_holds_both_models_of_the_largest_face(media_dir: Path) -> None:
    def ref(name: str) -> np.ndarray:
        vector = reference_embedding(cv2.imread(str(media_dir / name)))
        assert vector is not None
        return vector

    obama, probe, biden = ref("obama_ref.jpg"), ref("obama_probe.jpg"), ref("biden_ref.jpg")
    assert obama.shape == (2 * EMBEDDING_DIM,)
    sface, dlib = obama[:EMBEDDING_DIM], obama[EMBEDDING_DIM:]
    assert abs(float(np.linalg.norm(sface)) - 1) < 1e-5 and abs(float(np.linalg.norm(dlib)) - 1) < 1e-5
    # SFace's half is the shipped embedding of the largest face; dlib's half also tells people apart.
    largest = face_engine().faces(cv2.imread(str(media_dir / "obama_ref.jpg")))[0].embedding
    assert float(sface @ largest) > 0.9999
    assert float(dlib @ probe[EMBEDDING_DIM:]) > float(dlib @ biden[EMBEDDING_DIM:])
    assert reference_embedding(np.full((200, 300, 3), 127, dtype=np.uint8)) is None


def test_dlib_weights_with_another_digest_are_refused(tmp_path: Path) -> None:
    for name in (DLIB_PREDICTOR_FILE, DLIB_RESNET_FILE):
        shutil.copy(dlib_models_dir() / name, tmp_path / name)
    data = bytearray((tmp_path / DLIB_RESNET_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / DLIB_RESNET_FILE).write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        DlibEmbedder(tmp_path)


def test_the_68_point_landmark_model_can_never_be_loaded() -> None:
    # Its licence forbids commercial use: only the pinned 5-point predictor and ResNet are loadable.
    assert set(DLIB_SHA256) == {DLIB_PREDICTOR_FILE, DLIB_RESNET_FILE}
    with pytest.raises(IntegrityFailure, match="not one of the pinned"):
        _verified(dlib_models_dir() / "shape_predictor_68_face_landmarks.dat", DLIB_SHA256)
