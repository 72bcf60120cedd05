"""The gallery of enrolled embeddings behind one interface.

``NumpyIndex`` is exact cosine search with one matrix product, the default for small galleries: a
single query over 160,000 references takes ~8.5 ms of CPU here. ``FaissIndex`` gives the same
answers with FAISS (``IndexFlatIP``, exact; ~4.7 ms for that query on one thread), or approximate ones
with an IVF or HNSW index for galleries too large for brute force; ``auto`` picks FAISS flat from
``FLAT_FROM`` references and HNSW from ``APPROX_FROM``.
All take unit vectors, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from likeness_ledger.errors import InvalidInput

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Hit:
    """One gallery entry close to a query: its label (a reference id or anything hashable) and score."""

    label: Any
    score: float


class GalleryIndex(Protocol):
    """What a scan needs from the gallery."""

    dim: int

    def __len__(self) -> int:
        """Number of indexed vectors."""

    def add(self, vectors: Vectors, labels: Sequence[Any]) -> None:
        """Index unit vectors with one label each."""

    def search(self, queries: Vectors, k: int) -> list[list[Hit]]:
        """The ``k`` most similar entries for each query row, best first."""


def _check(vectors: Vectors, dim: int, labels: Sequence[Any] | None = None) -> Vectors:
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InvalidInput(f"vectors: expected shape (n, {dim}), got {arr.shape}")
    if labels is not None and len(labels) != arr.shape[0]:
        raise InvalidInput(f"labels: {len(labels)} labels for {arr.shape[0]} vectors")
    return arr


class NumpyIndex:
    """Exact search: all similarities with one matrix product, then a partial sort of the top ``k``.

    A single query over 160,000 references is memory-bound (80 MB of float32 read once), so the
    search avoids every other pass over n: the vectors live in one C-contiguous float32 buffer that
    grows by doubling (no copy of the whole gallery per ``add``), one query is a matrix-vector
    product, ``argpartition`` runs on the scores themselves (not a negated copy), and
    only the ``k`` winners are sorted.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._buffer = np.zeros((0, dim), dtype=np.float32)
        self._size = 0
        self._labels: list[Any] = []

    def __len__(self) -> int:
        return self._size

    def add(self, vectors: Vectors, labels: Sequence[Any]) -> None:
        """Append vectors (copied) and their labels."""
        arr = _check(vectors, self.dim, labels)
        need = self._size + arr.shape[0]
        if need > self._buffer.shape[0]:
            grown = np.zeros((max(need, 2 * self._buffer.shape[0], 1024), self.dim), dtype=np.float32)
            grown[: self._size] = self._buffer[: self._size]
            self._buffer = grown
        self._buffer[self._size : need] = arr
        self._size = need
        self._labels.extend(labels)

    def _top(self, scores: npt.NDArray[np.float32], k: int) -> list[Hit]:
        n = scores.shape[0]
        idx = np.argpartition(scores, n - k)[n - k :] if k < n else np.arange(n)
        # Best first; ties broken by insertion order, so the answer does not depend on the partition.
        order = idx[np.lexsort((idx, -scores[idx]))]
        return [Hit(self._labels[i], float(scores[i])) for i in order.tolist()]

    def search(self, queries: Vectors, k: int) -> list[list[Hit]]:
        """Top ``k`` by cosine similarity for each query."""
        q = _check(queries, self.dim)
        n = self._size
        if n == 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])]
        k = min(k, n)
        matrix = self._buffer[:n]
        if q.shape[0] == 1:
            # A matrix-vector product: one pass over the buffer, no transposed view for BLAS to handle.
            return [self._top(matrix @ q[0], k)]
        scores = q @ matrix.T
        return [self._top(row, k) for row in scores]


class FaissIndex:
    """FAISS: exact ``IndexFlatIP`` by default, IVF with ``nlist`` cells, or HNSW with ``hnsw_m`` links.

    IVF needs training data; ``add`` trains on the first batch when the index is untrained. ``nprobe``
    trades speed for recall (MODELS.md: on clustered data nprobe 128 of 4096 reaches only ~0.8
    recall@10). HNSW (a graph; ``ef_search`` candidates per query) reached >= 0.99 recall@10 at
    < 0.2 ms per query on identity-clustered data in MODELS.md, so it is the approximate choice for
    very large galleries.
    """

    def __init__(self, dim: int, *, nlist: int = 0, nprobe: int = 16, hnsw_m: int = 0, ef_search: int = 128) -> None:
        import faiss  # noqa: PLC0415 - optional dependency, only needed for large galleries

        self.dim = dim
        self._faiss = faiss
        self._index: Any
        if hnsw_m > 0:
            self._index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = 80
            self._index.hnsw.efSearch = ef_search
        elif nlist > 0:
            quantizer = faiss.IndexFlatIP(dim)
            self._index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            self._index.nprobe = nprobe
            self._quantizer = quantizer  # FAISS does not own it from Python; keep it alive
        else:
            self._index = faiss.IndexFlatIP(dim)
        self._labels: list[Any] = []

    def __len__(self) -> int:
        return len(self._labels)

    def __getstate__(self) -> dict[str, Any]:
        # FAISS objects do not pickle; their own serialisation does (a Ray scan ships the gallery).
        return {"dim": self.dim, "labels": self._labels, "index": self._faiss.serialize_index(self._index)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import faiss  # noqa: PLC0415

        self.dim = state["dim"]
        self._faiss = faiss
        self._labels = state["labels"]
        self._index = faiss.deserialize_index(state["index"])

    def add(self, vectors: Vectors, labels: Sequence[Any]) -> None:
        """Index the vectors (training an IVF index on them first if it is not trained yet)."""
        arr = _check(vectors, self.dim, labels)
        if not self._index.is_trained:
            self._index.train(arr)
        self._index.add(arr)
        self._labels.extend(labels)

    def search(self, queries: Vectors, k: int) -> list[list[Hit]]:
        """Top ``k`` by inner product for each query."""
        q = _check(queries, self.dim)
        if not self._labels or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])]
        # OpenMP threads pay off only over batches; for a few queries their start-up and, on a busy
        # machine, their waiting cost far more than the scan (flat, 160,000: 4.7 ms of CPU with one
        # thread, 40-60 ms wall with two on the shared machine). The setting is process-wide; every
        # search sets it, so a concurrent one is at worst slower, never wrong.
        self._faiss.omp_set_num_threads(1 if q.shape[0] < SMALL_BATCH else _all_threads())
        scores, ids = self._index.search(q, min(k, len(self._labels)))
        return [
            [Hit(self._labels[int(i)], float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(scores, ids, strict=True)
        ]


# Queries in one search below this run FAISS on one OpenMP thread.
SMALL_BATCH = 32


def _all_threads() -> int:
    return max(1, os.cpu_count() or 1)


# ``auto``: exact NumPy search for small galleries, exact FAISS flat from FLAT_FROM references, and a
# FAISS HNSW graph from APPROX_FROM. Measured here (docs/benchmarks.md), one query over 160,000
# references: NumPy ~8.5 ms of CPU, FAISS flat on one thread ~4.7 ms (same answers); HNSW ~1.6 ms at
# recall@10 1.0 over 200,000.
FLAT_FROM = 50_000
APPROX_FROM = 500_000


def make_index(dim: int, size_hint: int = 0, *, kind: str = "auto") -> GalleryIndex:
    """An index for ``size_hint`` vectors: ``numpy``, ``faiss`` (flat), ``faiss-ivf``, ``faiss-hnsw`` or ``auto``."""
    if kind == "numpy" or (kind == "auto" and size_hint < FLAT_FROM):
        return NumpyIndex(dim)
    if kind == "faiss" or (kind == "auto" and size_hint < APPROX_FROM):
        return FaissIndex(dim)
    if kind == "faiss-ivf":
        return FaissIndex(dim, nlist=max(16, int(4 * np.sqrt(max(size_hint, 1)))))
    if kind in ("faiss-hnsw", "auto"):
        return FaissIndex(dim, hnsw_m=32)
    raise InvalidInput(f"index: unknown kind {kind!r} (numpy, faiss, faiss-ivf, faiss-hnsw or auto)")
