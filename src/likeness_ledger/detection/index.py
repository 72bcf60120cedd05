"""The gallery of enrolled embeddings behind one interface.

``NumpyIndex`` is exact cosine search with one matrix product, the default: a single query over
160,000 references takes ~13 ms here. ``FaissIndex`` gives the same answers with FAISS
(``IndexFlatIP``, exact; fastest for batches of queries), or approximate ones with an IVF or HNSW
index for galleries too large for brute force; ``auto`` picks HNSW from ``APPROX_FROM`` references.
All take unit vectors, so inner product is cosine similarity.
"""

from __future__ import annotations

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
    """Exact search: all similarities with one matrix product, then a partial sort."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._labels: list[Any] = []

    def __len__(self) -> int:
        return len(self._labels)

    def add(self, vectors: Vectors, labels: Sequence[Any]) -> None:
        """Append vectors (copied) and their labels."""
        arr = _check(vectors, self.dim, labels)
        self._vectors = np.vstack([self._vectors, arr])
        self._labels.extend(labels)

    def search(self, queries: Vectors, k: int) -> list[list[Hit]]:
        """Top ``k`` by cosine similarity for each query."""
        q = _check(queries, self.dim)
        n = len(self._labels)
        if n == 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])]
        k = min(k, n)
        scores = q @ self._vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (q.shape[0], 1))
        out: list[list[Hit]] = []
        for row, idx in zip(scores, top, strict=True):
            # Ties broken by insertion order, so the result does not depend on the partition's whim.
            ordered = sorted(idx.tolist(), key=lambda i: (-float(row[i]), i))
            out.append([Hit(self._labels[i], float(row[i])) for i in ordered])
        return out


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
        scores, ids = self._index.search(q, min(k, len(self._labels)))
        return [
            [Hit(self._labels[int(i)], float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(scores, ids, strict=True)
        ]


# Above this many references ``auto`` switches from exact NumPy search to a FAISS HNSW graph. Measured
# here (docs/benchmarks.md): NumPy answers one query over 160,000 references in ~13 ms, FAISS's flat
# index ~63 ms (it is built for batches), HNSW ~1.6 ms at recall@10 1.0 over 200,000.
APPROX_FROM = 500_000


def make_index(dim: int, size_hint: int = 0, *, kind: str = "auto") -> GalleryIndex:
    """An index for ``size_hint`` vectors: ``numpy``, ``faiss`` (flat), ``faiss-ivf``, ``faiss-hnsw`` or ``auto``."""
    if kind == "numpy" or (kind == "auto" and size_hint < APPROX_FROM):
        return NumpyIndex(dim)
    if kind == "faiss":
        return FaissIndex(dim)
    if kind == "faiss-ivf":
        return FaissIndex(dim, nlist=max(16, int(4 * np.sqrt(max(size_hint, 1)))))
    if kind in ("faiss-hnsw", "auto"):
        return FaissIndex(dim, hnsw_m=32)
    raise InvalidInput(f"index: unknown kind {kind!r} (numpy, faiss, faiss-ivf, faiss-hnsw or auto)")
