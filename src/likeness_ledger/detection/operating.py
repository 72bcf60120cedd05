"""The operating point: the similarity above which a scanned face is reported as an enrolled performer.

A scan compares each face with the whole gallery and reports the best match, so what must be kept
small is the false-positive identification rate per scanned face (FPIR), not the false-accept rate
per pair (FAR). For a face of someone not enrolled, compared with N gallery references,

    FPIR(t, N) = P(max of N impostor scores >= t) <= N * FAR(t)        (union bound)

so keeping FPIR <= target needs FAR(t) <= target / N: the threshold rises as the gallery grows.

``face_threshold(N)`` reads the upper tail of impostor similarities measured on LFW (identities kept
apart from the open-set benchmark; ``benchmarks/detection.py calibrate`` writes
``data/face_impostor_tail.json``) and returns the smallest similarity whose empirical FAR is at most
``target / N``. It never goes below OpenCV's own SFace match threshold (0.363), and once
``target / N`` is finer than the calibration set can resolve (fewer than one impostor pair of budget)
it returns the highest impostor score ever observed plus a margin, and says so in ``resolved``.

The score is the **cascade's** score (:class:`Fusion`): SFace's cosine similarity corrected, when it
lies in a band around the threshold, by dlib's ResNet (``s + clip(weight * (d - offset), -drop,
+lift)``, on SFace's scale). The weight and offset come from a logistic regression on calibration pairs, and
the impostor tail is that of the cascade's score, so the rule above holds for what a scan decides on.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TAIL_PATH = Path(__file__).with_name("data") / "face_impostor_tail.json"
DEFAULT_FPIR = 0.01
# OpenCV's published SFace cosine threshold: below it even the model's authors call two faces different.
FLOOR = 0.363
# Added to the highest impostor score observed when the gallery is beyond what calibration resolves.
BEYOND_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class Fusion:
    """How dlib's similarity corrects SFace's, fitted on calibration pairs (never on test identities).

    With s SFace's and d dlib's cosine similarity, the score a scan decides on is

        cascade = s + clip(weight * (d - offset), -drop, +lift)

    dlib may raise SFace's score by at most ``lift`` and lower it by at most ``drop``. So for a
    threshold t a face whose SFace score is under ``t - lift`` is rejected and one at or over
    ``t + drop`` accepted whatever dlib says: dlib runs only in the band between, and the decision is
    exactly the cascade score's. The score does not depend on t, so the impostor tail is calibrated
    on it.
    """

    weight: float
    offset: float
    lift: float
    drop: float

    def score(self, sface: Any, dlib: Any) -> Any:
        """The cascade score (SFace's scale) of SFace and dlib cosine similarities (floats or arrays)."""
        return sface + np.clip(self.weight * (np.asarray(dlib) - self.offset), -self.drop, self.lift)


@dataclass(frozen=True, slots=True)
class ImpostorTail:
    """The highest impostor similarities (descending) out of ``pairs`` impostor pairs."""

    pairs: int
    tail: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """A threshold, the gallery size and FPIR target it was derived for, and whether data backed it."""

    threshold: float
    gallery_size: int
    target_fpir: float
    resolved: bool


_TAIL: ImpostorTail | None = None
_FUSION: Fusion | None = None
_LOCK = threading.Lock()


def _load() -> ImpostorTail:
    global _TAIL, _FUSION  # noqa: PLW0603 - calibration data is read once per process
    with _LOCK:
        if _TAIL is None or _FUSION is None:
            raw = json.loads(TAIL_PATH.read_text())
            _TAIL = ImpostorTail(pairs=int(raw["impostor_pairs"]), tail=tuple(float(x) for x in raw["tail"]))
            f = raw["fusion"]
            _FUSION = Fusion(
                weight=float(f["weight"]), offset=float(f["offset"]), lift=float(f["lift"]), drop=float(f["drop"])
            )
        return _TAIL


def fusion() -> Fusion:
    """The shipped fusion of SFace and dlib scores (from the calibration file)."""
    _load()
    assert _FUSION is not None
    return _FUSION


def reload() -> None:
    """Forget the cached calibration (after ``calibrate`` rewrote it)."""
    global _TAIL, _FUSION  # noqa: PLW0603
    with _LOCK:
        _TAIL = None
        _FUSION = None


def face_operating_point(
    gallery_size: int, target_fpir: float = DEFAULT_FPIR, *, tail: ImpostorTail | None = None
) -> OperatingPoint:
    """The threshold keeping FPIR <= ``target_fpir`` against ``gallery_size`` reference embeddings.

    ``tail`` replaces the shipped calibration (benchmarks use it to calibrate per split).
    """
    if not 0 < target_fpir < 1:
        raise ValueError("target_fpir must be between 0 and 1")
    n = max(1, gallery_size)
    data = tail or _load()
    # Allowed impostor pairs at or above the threshold, out of data.pairs.
    allowed = math.floor(data.pairs * target_fpir / n)
    if allowed >= len(data.tail):
        # Budget reaches below the stored tail: the tail's lowest score is a (conservative) bound.
        return OperatingPoint(max(FLOOR, data.tail[-1]), n, target_fpir, resolved=True)
    if allowed < 1:
        return OperatingPoint(max(FLOOR, data.tail[0] + BEYOND_MARGIN), n, target_fpir, resolved=False)
    # Scores strictly above tail[allowed] number at most ``allowed``; nudge past it to exclude it.
    threshold = math.nextafter(data.tail[allowed], math.inf)
    return OperatingPoint(max(FLOOR, threshold), n, target_fpir, resolved=True)


def face_threshold(gallery_size: int, target_fpir: float = DEFAULT_FPIR) -> float:
    """Just the threshold of :func:`face_operating_point`."""
    return face_operating_point(gallery_size, target_fpir).threshold
