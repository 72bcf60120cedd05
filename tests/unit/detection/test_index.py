from __future__ import annotations

import pickle

import numpy as np
import pytest

from likeness_ledger.detection import index as index_module
from likeness_ledger.detection.index import FaissIndex, NumpyIndex, ivf_settings, make_index
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


def test_numpy_index_grows_and_answers_single_and_batched_queries_alike() -> None:
    rng = np.random.default_rng(3)
    parts = [_unit(rng, n) for n in (700, 1, 900)]  # past the first 1,024-row buffer
    index = NumpyIndex(128)
    for i, part in enumerate(parts):
        index.add(part, [(i, j) for j in range(len(part))])
    everything = np.concatenate(parts)
    labels = [(i, j) for i, part in enumerate(parts) for j in range(len(part))]
    queries = _unit(rng, 5)
    batched = index.search(queries, 10)
    for q, hits in zip(queries, batched, strict=True):
        truth = np.argsort(-(everything @ q), kind="stable")[:10]
        assert [h.label for h in hits] == [labels[t] for t in truth]
        single = index.search(q[None, :], 10)[0]
        assert [h.label for h in single] == [h.label for h in hits]
        assert [h.score for h in single] == pytest.approx([h.score for h in hits], abs=1e-5)
    # Ties come back in insertion order; k larger than the gallery returns everything.
    small = NumpyIndex(2)
    small.add(np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32), ["a", "b", "c"])
    assert [h.label for h in small.search(np.array([[1, 0]], dtype=np.float32), 5)[0]] == ["a", "c", "b"]


def _clustered(rng: np.random.Generator, identities: int, copies: int, d: int = 128) -> np.ndarray:
    """Identities with several noisy "photos" each, like the gallery benchmark's LFW spread."""
    centres = _unit(rng, identities, d)
    v = np.repeat(centres, copies, axis=0) + rng.normal(0, 0.06, (identities * copies, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_auto_picks_exact_then_ivf_by_gallery_size(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_index(128, index_module.FLAT_FROM - 1), NumpyIndex)
    assert "flat" in repr(make_index(128, index_module.FLAT_FROM))
    nlist, nprobe = ivf_settings(index_module.APPROX_FROM)
    assert f"ivf-flat(nlist={nlist}), nprobe={nprobe}" in repr(make_index(128, index_module.APPROX_FROM))
    # More references, more (and smaller) cells, and a probe count that grows with them.
    assert ivf_settings(4 * index_module.APPROX_FROM)[0] > nlist
    assert ivf_settings(4 * index_module.APPROX_FROM)[1] >= nprobe


def test_ivf_recall_and_its_settings_survive_pickling() -> None:
    rng = np.random.default_rng(4)
    gallery = _clustered(rng, 300, 20)
    index = FaissIndex(128, nlist=64, nprobe=1)
    index.add(gallery, list(range(len(gallery))))
    picks = rng.choice(len(gallery), 40, replace=False)
    queries = gallery[picks] + rng.normal(0, 0.06, (40, 128)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = NumpyIndex(128)
    exact.add(gallery, list(range(len(gallery))))
    truth = [{h.label for h in row} for row in exact.search(queries, 10)]

    def recall(ix: FaissIndex) -> float:
        return float(
            np.mean(
                [len({h.label for h in row} & t) / 10 for row, t in zip(ix.search(queries, 10), truth, strict=True)]
            )
        )

    low = recall(index)
    index.set_search_param("nprobe", 16)
    high = recall(index)
    assert high >= 0.97 and high > low
    # FAISS's own serialisation drops nprobe; the index carries it across (a Ray scan pickles it).
    copy = pickle.loads(pickle.dumps(index))
    assert "nprobe=16" in repr(copy)
    assert recall(copy) == high
    with pytest.raises(InvalidInput, match="efSearch"):
        index.set_search_param("efSearch", 64)
