"""PDQ perceptual hashes: catch re-encoded or resized re-uploads of media already found (staydown).

PDQ (256 bits) survives recompression, resizing and brightness changes with a wide gap to unrelated
pictures (MODELS.md: resize 50% max 46 bits, JPEG q30 max 8, unrelated photos min 88), so the
customary match distance of 31 bits is used. It does not survive crops, rotations or flips; the face
embeddings cover those.

Every scanned file is compared with the hash of every earlier finding, so the lookup is an index:
:class:`PdqIndex` keeps the hashes as four columns of 64-bit words and computes all Hamming distances
at once (XOR, then NumPy's ``bitwise_count``, a hardware popcount, summed over the four words).
Column by column, because NumPy's sum along a short last axis (four words per row) is ~5x slower
than four whole-column adds. Measured in ``benchmarks/fingerprint.py``: one lookup over 1,000,000
hashes in a few milliseconds, where the Python loop over hex strings it replaces takes ~250 ms. FAISS's
``IndexBinaryFlat`` is ~3x faster still, but needs FAISS's process-wide OpenMP thread setting for
single lookups; a multi-index hash table would be sub-linear, but at 31 of 256 bits it must probe
many buckets. Either is far below the cost of hashing the picture, so neither is used.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from likeness_ledger.errors import InvalidInput

MATCH_DISTANCE = 31
# PDQ's own quality score (0-100); below 50 the hash of a near-flat picture is unreliable.
MIN_QUALITY = 50
HASH_BITS = 256
_WORDS = HASH_BITS // 64
_HEX_DIGITS = HASH_BITS // 4
Words = npt.NDArray[np.uint64]


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


def _words(hexes: Iterable[str]) -> Words:
    """Hex hashes as rows of four 64-bit words (byte order does not matter for a popcount of an XOR)."""
    raw = bytearray()
    for h in hexes:
        if len(h) != _HEX_DIGITS:
            raise InvalidInput(f"pdq: expected {_HEX_DIGITS} hex digits, got {len(h)}")
        try:
            raw += bytes.fromhex(h)
        except ValueError as exc:
            raise InvalidInput(f"pdq: expected hex digits, got {h!r}") from exc
    return np.frombuffer(bytes(raw), dtype=np.uint64).reshape(-1, _WORDS)


class PdqIndex:
    """Many PDQ hashes with a key each; finds the nearest one to a query by Hamming distance.

    Keys are whatever the caller needs back (a finding id). Hashes live in a growable ``(4, capacity)``
    ``uint64`` buffer, one row per 64-bit word of the hash (doubling, so adding one hash does not copy
    the rest). Ties go to the hash added first, as the linear scan this replaces did.
    """

    def __init__(self) -> None:
        self._buffer: Words = np.zeros((_WORDS, 0), dtype=np.uint64)
        self._size = 0
        self._keys: list[Any] = []

    @classmethod
    def of(cls, items: Iterable[tuple[str, Hashable]]) -> PdqIndex:
        """An index of ``(hex hash, key)`` pairs."""
        index = cls()
        index.extend(items)
        return index

    def __len__(self) -> int:
        return self._size

    @property
    def keys(self) -> list[Any]:
        """The keys in the order their hashes were added (a copy)."""
        return list(self._keys)

    def extend(self, items: Iterable[tuple[str, Hashable]]) -> None:
        """Add ``(hex hash, key)`` pairs; a malformed hash raises :class:`InvalidInput` and adds nothing."""
        pairs = list(items)
        words = _words(h for h, _ in pairs)
        need = self._size + words.shape[0]
        if need > self._buffer.shape[1]:
            grown = np.zeros((_WORDS, max(need, 2 * self._buffer.shape[1], 1024)), dtype=np.uint64)
            grown[:, : self._size] = self._buffer[:, : self._size]
            self._buffer = grown
        self._buffer[:, self._size : need] = words.T
        self._size = need
        self._keys.extend(key for _, key in pairs)

    def distances(self, query: str) -> npt.NDArray[np.uint16]:
        """Hamming distance from ``query`` to every indexed hash, in insertion order."""
        q = _words([query])[0]
        live = self._buffer[:, : self._size]
        out: npt.NDArray[np.uint16] = np.bitwise_count(live[0] ^ q[0]).astype(np.uint16)
        for word in range(1, _WORDS):
            out += np.bitwise_count(live[word] ^ q[word])
        return out

    def nearest(self, query: str, max_distance: int = MATCH_DISTANCE) -> tuple[int, Any] | None:
        """The closest hash within ``max_distance`` bits, as ``(distance, key)``; None when none is that close."""
        dist = self.distances(query)  # also refuses a malformed query when the index is empty
        if dist.size == 0:
            return None
        best = int(np.argmin(dist))  # the first of equal minima: the earliest added
        d = int(dist[best])
        return (d, self._keys[best]) if d <= max_distance else None


def nearest(query: str, candidates: Iterable[tuple[str, Hashable]]) -> tuple[int, Any] | None:
    """The closest candidate ``(hash, key)`` within MATCH_DISTANCE, as ``(distance, key)``.

    For a one-off comparison; to look up many files against the same hashes, build a
    :class:`PdqIndex` once.
    """
    return PdqIndex.of(candidates).nearest(query)
