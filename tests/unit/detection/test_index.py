from __future__ import annotations

import numpy as np
import pytest

from likeness_ledger.detection.index import FaissIndex, NumpyIndex, make_index
from likeness_ledger.errors import InvalidInput


def _unit(rng: np.random.Generator, n: int, d: int = 128) -> np.ndarray:
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_numpy_and_faiss_flat_agree() -> None:
    rng = np.random.default_rng(1)
    gallery, queries = _unit(rng, 500), _unit(rng, 20)
    labels = [f"p{i}" for i in range(500)]
    results = []
    for index in (NumpyIndex(128), FaissIndex(128)):
        index.add(gallery, labels)
        results.append(index.search(queries, 10))
    for a, b in zip(*results, strict=True):
        assert [h.label for h in a] == [h.label for h in b]
        assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    # The best hit is the true maximum of the cosine similarities.
    best = int(np.argmax(gallery @ queries[0]))
    assert results[0][0][0].label == labels[best]


@pytest.mark.parametrize("kind", ["faiss-ivf", "faiss-hnsw"])
def test_approximate_indexes_find_near_duplicates(kind: str) -> None:
    rng = np.random.default_rng(2)
    gallery = _unit(rng, 2000)
    index = make_index(128, 2000, kind=kind)
    index.add(gallery, list(range(2000)))
    noisy = gallery[:50] + rng.normal(0, 0.01, (50, 128)).astype(np.float32)
    hits = index.search(noisy / np.linalg.norm(noisy, axis=1, keepdims=True), 1)
    assert sum(h[0].label == i for i, h in enumerate(hits)) >= 45


def test_empty_gallery_and_bad_shapes() -> None:
    index = NumpyIndex(128)
    assert index.search(np.zeros((2, 128), dtype=np.float32), 5) == [[], []]
    with pytest.raises(InvalidInput, match="vectors"):
        index.add(np.zeros((2, 64), dtype=np.float32), ["a", "b"])
    with pytest.raises(InvalidInput, match="labels"):
        index.add(np.zeros((2, 128), dtype=np.float32), ["a"])
    with pytest.raises(InvalidInput, match="index"):
        make_index(128, kind="annoy")
