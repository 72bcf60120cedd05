"""PDQ perceptual hashes: catch re-encoded or resized re-uploads of media already found (staydown).

PDQ (256 bits) survives recompression, resizing and brightness changes with a wide gap to unrelated
pictures (MODELS.md: resize 50% max 46 bits, JPEG q30 max 8, unrelated photos min 88), so the
customary match distance of 31 bits is used. It does not survive crops, rotations or flips; the face
embeddings cover those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MATCH_DISTANCE = 31
# PDQ's own quality score (0-100); below 50 the hash of a near-flat picture is unreliable.
MIN_QUALITY = 50


@dataclass(frozen=True, slots=True)
class Pdq:
    """A PDQ hash as 64 hex digits, with the quality PDQ reported."""

    hex: str
    quality: int


def pdq_of(image_bgr: npt.NDArray[np.uint8]) -> Pdq:
    """PDQ hash of a BGR image."""
    import pdqhash  # type: ignore[import-untyped]  # noqa: PLC0415 - compiled extension, loaded when a hash is needed

    rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
    bits, quality = pdqhash.compute(rgb)
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return Pdq(hex=packed.tobytes().hex(), quality=int(quality))


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def nearest(query: str, candidates: Iterable[tuple[str, object]]) -> tuple[int, object] | None:
    """The closest candidate ``(hash, key)`` within MATCH_DISTANCE, as ``(distance, key)``."""
    best: tuple[int, object] | None = None
    q = int(query, 16)
    for hex_hash, key in candidates:
        d = (q ^ int(hex_hash, 16)).bit_count()
        if d <= MATCH_DISTANCE and (best is None or d < best[0]):
            best = (d, key)
    return best
