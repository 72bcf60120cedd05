"""The gallery of enrolled embeddings behind one interface.

``NumpyIndex`` is exact cosine search with one matrix product. ``FaissIndex`` gives the same answers
with FAISS (``IndexFlatIP``, exact), or approximate ones with an IVF or HNSW index for galleries too
large for brute force. ``make_index(kind="auto")`` picks NumPy for small galleries, FAISS flat from
``FLAT_FROM`` references and IVF-Flat from ``APPROX_FROM``; the measurements behind those sizes are
next to the constants. All take unit vectors, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from likeness_ledger.errors import InvalidInput

# FAISS runs its batches on GNU OpenMP, whose idle threads spin for a while before sleeping. On a
# machine with other work that spinning takes the cores the working thread needs: a batch of 1,000
# queries over 160,000 references took 7.2 s wall on two threads with spinning and 0.64 s with
# passive waiting (docs/benchmarks.md). The runtime reads this once, when FAISS's library loads, so
# it is set here, before the first ``import faiss``; an operator's own setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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

    def __repr__(self) -> str:
        return f"NumpyIndex(exact, n={self._size})"

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

    IVF (``IndexIVFFlat``: vectors grouped by their nearest of ``nlist`` k-means centroids, each query
    scanning the ``nprobe`` nearest cells with exact inner products) needs training; ``add`` trains on
    a sample of the first batch (``TRAIN_PER_LIST`` vectors per cell) when the index is untrained.
    HNSW (a graph; ``ef_construction`` candidates per insertion, ``ef_search`` per query) builds far
    more slowly on two cores. Which one ``auto`` uses, and with what settings, is measured: see
    ``make_index``.
    """

    def __init__(
        self,
        dim: int,
        *,
        nlist: int = 0,
        nprobe: int = 16,
        hnsw_m: int = 0,
        ef_search: int = 128,
        ef_construction: int = 80,
    ) -> None:
        import faiss  # noqa: PLC0415 - optional dependency, only needed for large galleries

        self.dim = dim
        self._faiss = faiss
        self._index: Any
        self._params: dict[str, int] = {}
        if hnsw_m > 0:
            self._index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = ef_construction
            self._kind = f"hnsw(M={hnsw_m}, efConstruction={ef_construction})"
            self.set_search_param("efSearch", ef_search)
        elif nlist > 0:
            quantizer = faiss.IndexFlatIP(dim)
            self._index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            self._quantizer = quantizer  # FAISS does not own it from Python; keep it alive
            self._kind = f"ivf-flat(nlist={nlist})"
            self.set_search_param("nprobe", nprobe)
        else:
            self._index = faiss.IndexFlatIP(dim)
            self._kind = "flat"
        self._labels: list[Any] = []

    def __repr__(self) -> str:
        knobs = "".join(f", {k}={v}" for k, v in self._params.items())
        return f"FaissIndex({self._kind}{knobs}, n={len(self._labels)})"

    def set_search_param(self, name: str, value: int) -> None:
        """Set ``nprobe`` (IVF) or ``efSearch`` (HNSW): more means slower and closer to exact."""
        if name == "nprobe" and hasattr(self._index, "nprobe"):
            self._index.nprobe = value
        elif name == "efSearch" and hasattr(self._index, "hnsw"):
            self._index.hnsw.efSearch = value
        else:
            raise InvalidInput(f"search parameter: {name!r} does not apply to a {self._kind} index")
        self._params[name] = value

    def __len__(self) -> int:
        return len(self._labels)

    def __getstate__(self) -> dict[str, Any]:
        # FAISS objects do not pickle; their own serialisation does (a Ray scan ships the gallery).
        # It does not keep an IVF index's nprobe, so the search settings travel beside it.
        return {
            "dim": self.dim,
            "labels": self._labels,
            "index": self._faiss.serialize_index(self._index),
            "kind": self._kind,
            "params": self._params,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        import faiss  # noqa: PLC0415

        self.dim = state["dim"]
        self._faiss = faiss
        self._labels = state["labels"]
        self._index = faiss.deserialize_index(state["index"])
        self._kind = state["kind"]
        self._params = {}
        for name, value in state["params"].items():
            self.set_search_param(name, value)

    def add(self, vectors: Vectors, labels: Sequence[Any]) -> None:
        """Index the vectors (training an IVF index on a sample of them first if it is not trained yet)."""
        arr = _check(vectors, self.dim, labels)
        # Building is a batch job: all cores (the search path below narrows this for small batches).
        self._faiss.omp_set_num_threads(_all_threads())
        if not self._index.is_trained:
            # k-means cost grows with the sample (TRAIN_PER_LIST points per centroid, see below).
            sample = TRAIN_PER_LIST * self._index.nlist
            if arr.shape[0] > sample:
                pick = np.random.default_rng(0).choice(arr.shape[0], sample, replace=False)
                self._index.train(arr[np.sort(pick)])
            else:
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


# ``auto``, from single-query timings on LFW-spread galleries (benchmarks/gallery.py, docs/benchmarks.md):
# * NumPy below FLAT_FROM: at 1,000 references NumPy and FAISS flat both take 0.03 ms, at 10,000
#   FAISS flat takes 0.36 ms and NumPy 2.7 ms (its BLAS starts threads even for one query);
# * exact FAISS flat below APPROX_FROM: one query reads every vector once, 4.5 ms at 160,000 and
#   7.7 ms at 250,000 on an idle core, 14.8 ms at 500,000; past ~300,000 it no longer fits 10 ms;
# * IVF-Flat from APPROX_FROM, with about 4 * sqrt(n) cells (a power of two) and 1/16 of them probed.
#   Cells: at 1,000,000, 4,096 cells reached recall@10 0.999 against exact with only 4 probed, while
#   1,024 cells stayed at 0.988 even with 128 probed (a cell should hold a few identities). Probes:
#   at 250,000 (2,048 cells) recall@10 was 0.997 with 16-64 probed but 0.9885 on another query set
#   with 16, 0.999 with 128 (0.76 ms a query); 1/16 keeps that margin and costs ~1-3 ms, well
#   inside 10 ms. The 1,000,000 index builds in ~35-70 s on two cores. HNSW (M 32) took 111 s to
#   build at 200,000 alone; at 1,000,000 with M 16 it built in 133 s and found only 0.80 of the top
#   10 (efSearch 512) on a looser spread where IVF with these settings found 0.98.
FLAT_FROM = 5_000
APPROX_FROM = 250_000
# k-means sample per IVF cell (FAISS's default is 256): 64 keeps the 4,096-cell build at ~35 s.
TRAIN_PER_LIST = 64
IVF_LISTS_PER_SQRT_N = 4
IVF_PROBE_SHARE = 16


def ivf_settings(size: int) -> tuple[int, int]:
    """``(nlist, nprobe)`` for an IVF gallery of ``size`` vectors (see the figures above)."""
    nlist = 1 << max(4, round(np.log2(IVF_LISTS_PER_SQRT_N * np.sqrt(max(size, 1)))))
    return nlist, max(1, nlist // IVF_PROBE_SHARE)


def make_index(dim: int, size_hint: int = 0, *, kind: str = "auto") -> GalleryIndex:
    """An index for ``size_hint`` vectors: ``numpy``, ``faiss`` (flat), ``faiss-ivf``, ``faiss-hnsw`` or ``auto``."""
    if kind == "numpy" or (kind == "auto" and size_hint < FLAT_FROM):
        return NumpyIndex(dim)
    if kind == "faiss" or (kind == "auto" and size_hint < APPROX_FROM):
        return FaissIndex(dim)
    if kind in ("faiss-ivf", "auto"):
        nlist, nprobe = ivf_settings(size_hint)
        return FaissIndex(dim, nlist=nlist, nprobe=nprobe)
    if kind == "faiss-hnsw":
        return FaissIndex(dim, hnsw_m=32)
    raise InvalidInput(f"index: unknown kind {kind!r} (numpy, faiss, faiss-ivf, faiss-hnsw or auto)")
