"""Gallery search at union scale: exact top-10 and approximate indexes, on embeddings spread like real ones.

The gallery is built from LFW face embeddings (one SFace pass per image, cached under
``bench-data/gallery/``; ``--cache bench-data/detection`` uses ``benchmarks/detection.py embed``'s)
plus perturbed copies: Gaussian noise (sigma 0.06 per dimension, ``--noise``) then renormalised, so
copies of one embedding sit at cosine ~0.83 to it and ~0.68 to each other, the spread of several
photos of one person (SFace's match threshold is 0.363), while other identities stay as far apart as
in LFW. Queries are gallery entries perturbed the same way (a new photo of an enrolled person).
Uniform random vectors would be a needlessly hard case (no structure for an approximate index to use).

Sub-commands (each prints JSON):

  exact      top-10 over --size identities (default 160,000) with ``NumpyIndex`` and ``FaissIndex``
             (flat): one query at a time (a single face) and in batches of --batch queries (a scan's
             many faces; per-query time reported), the same answers checked, and a few
             single-query timings with a chosen thread count (--threads)
  approx     at --size (default 1,000,000): exact truth with FAISS flat (batched), then for each of
             --kinds (``ivf``, ``hnsw``): build time, and per setting of its search knob (nprobe /
             efSearch) single-query time and recall@10 against exact. The knob is chosen on a
             *tuning* query set (the smallest setting with recall@10 >= --target-recall); the
             reported figures come from a separate *held-out* query set
  crossover  single-query time of exact NumPy and FAISS flat at several --sizes (where ``auto`` switches)
  auto       what ``make_index(kind="auto")`` builds at --size, its build time, single-query time and
             recall@10 against exact on held-out queries

Usage: .venv/bin/python benchmarks/gallery.py exact|approx|crossover|auto [--size N] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from likeness_ledger.detection.index import FaissIndex, NumpyIndex, make_index

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "media" / "lfw" / "images"
OWN_CACHE = REPO / "bench-data" / "gallery" / "lfw_sface_single_pass.npz"
DIM = 128
K = 10
NOISE = 0.06
_noise = NOISE  # --noise changes it (a looser spread: a harder case for IVF)


def lfw_embeddings(cache: Path) -> np.ndarray:
    """LFW face embeddings: an ``lfw_sface*.npz`` in ``cache``, else our own (cached in OWN_CACHE).

    Our own are one SFace pass on the face nearest the centre of each LFW image (LFW centres the
    named person); any SFace embedding of real faces gives the spread this benchmark needs.
    """
    for npz in [*sorted(cache.glob("lfw_sface*.npz")), OWN_CACHE]:
        if npz.is_file():
            data = np.load(npz, allow_pickle=False)
            if "vectors" in data.files and data["vectors"].shape[1:] == (DIM,):
                return np.asarray(data["vectors"][data["found"]], dtype=np.float32)
    import cv2  # noqa: PLC0415 - only to embed LFW the first time

    from likeness_ledger.detection.face import FaceEngine  # noqa: PLC0415

    try:
        engine = FaceEngine(flip=False)  # one pass is enough here
    except TypeError:
        engine = FaceEngine()
    paths = sorted(LFW.glob("*/*.jpg"))
    vectors = np.zeros((len(paths), DIM), dtype=np.float32)
    found = np.zeros(len(paths), dtype=bool)
    for i, path in enumerate(paths):
        img = cv2.imread(str(path))
        faces = engine.faces(img)
        if faces:
            cy, cx = img.shape[0] / 2, img.shape[1] / 2
            best = min(faces, key=lambda f: (f.box[0] + f.box[2] / 2 - cx) ** 2 + (f.box[1] + f.box[3] / 2 - cy) ** 2)
            vectors[i], found[i] = best.embedding, True
        if i % 1000 == 0:
            print(f"embedding LFW {i}/{len(paths)}", file=sys.stderr)
    OWN_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OWN_CACHE, vectors=vectors, found=found)
    return vectors[found]


def spread(base: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` unit vectors: the base embeddings, each repeated with fresh noise, cut to ``size``."""
    reps = int(np.ceil(size / len(base)))
    out = np.empty((reps * len(base), DIM), dtype=np.float32)
    for r in range(reps):
        out[r * len(base) : (r + 1) * len(base)] = base + rng.normal(0, _noise, base.shape).astype(np.float32)
    out = out[:size]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def queries_from(gallery: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """New "photos" of ``n`` enrolled identities: gallery entries with the same noise again."""
    q = gallery[rng.choice(len(gallery), n, replace=False)] + rng.normal(0, _noise, (n, DIM)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def one_at_a_time(search: Callable[[np.ndarray], list[int]], q: np.ndarray) -> tuple[list[list[int]], float, float]:
    """Labels of the top 10 per query and wall / CPU seconds per query, one query per call."""
    search(q[:1])  # warm-up: first touch of buffers and thread pools
    start = _clock()
    labels = [search(q[i : i + 1]) for i in range(len(q))]
    wall, cpu = _since(start)
    return labels, wall / len(q), cpu / len(q)


def _labels(index: Any) -> Callable[[np.ndarray], list[int]]:
    return lambda q: [h.label for h in index.search(q, K)[0]]


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 3)


def recall(got: list[list[int]], truth: list[list[int]]) -> float:
    """Mean share of the exact top 10 that the approximate top 10 holds."""
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(got, truth, strict=True)]))


def exact_truth(gallery: np.ndarray, q: np.ndarray) -> list[list[int]]:
    """Exact top-10 labels (row numbers) by FAISS flat over the whole batch, all threads."""
    flat = FaissIndex(DIM)
    flat.add(gallery, list(range(len(gallery))))
    return [[h.label for h in row] for row in flat.search(q, K)]


def cmd_exact(args: argparse.Namespace, base: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    gallery = spread(base, args.size, rng)
    q = queries_from(gallery, args.queries, rng)
    batch = queries_from(gallery, args.batch, rng)
    out: dict[str, Any] = {"size": args.size, "queries": args.queries, "batch": args.batch, "k": K}
    answers = {}
    for kind, index in (("numpy", NumpyIndex(DIM)), ("faiss_flat", FaissIndex(DIM))):
        start = _clock()
        index.add(gallery, list(range(args.size)))
        build = _since(start)[0]
        answers[kind], wall, cpu = one_at_a_time(_labels(index), q)
        index.search(batch[:K], K)  # warm the batched path too
        start = _clock()
        batched = index.search(batch, K)
        bwall, bcpu = _since(start)
        out[kind] = {
            "build_s": round(build, 2),
            "single_ms_per_query": _ms(wall),
            "single_cpu_ms_per_query": _ms(cpu),
            "batch_ms_per_query": _ms(bwall / len(batch)),
            "batch_cpu_ms_per_query": _ms(bcpu / len(batch)),
        }
        answers[f"{kind}_batch"] = [[h.label for h in row] for row in batched]
    same = sum(a == b for a, b in zip(answers["numpy"], answers["faiss_flat"], strict=True))
    out["numpy_equals_faiss_single"] = f"{same}/{args.queries}"
    same = sum(a == b for a, b in zip(answers["numpy_batch"], answers["faiss_flat_batch"], strict=True))
    out["numpy_equals_faiss_batch"] = f"{same}/{args.batch}"
    # The floor for one exact query: every vector must be read once. Summing the matrix reads it at
    # the speed one core streams memory (no BLAS, no threads).
    gallery.sum(axis=0)
    start = _clock()
    for _ in range(10):
        gallery.sum(axis=0)
    wall, cpu = _since(start)
    out["gallery_mb"] = round(gallery.nbytes / 2**20, 1)
    out["read_gallery_once_ms"] = {"wall": _ms(wall / 10), "cpu": _ms(cpu / 10)}
    return out


def cmd_crossover(args: argparse.Namespace, base: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    out: dict[str, Any] = {"queries": args.queries}
    for size in args.sizes:
        gallery = spread(base, size, rng)
        q = queries_from(gallery, args.queries, rng)
        for name, index in (("numpy", NumpyIndex(DIM)), ("faiss_flat", FaissIndex(DIM))):
            index.add(gallery, list(range(size)))
            _, wall, cpu = one_at_a_time(_labels(index), q)
            out[f"{name}_{size}"] = {"single_ms_per_query": _ms(wall), "single_cpu_ms_per_query": _ms(cpu)}
            del index
    return out


def _sweep(
    index: FaissIndex,
    knob: str,
    values: list[int],
    tune: tuple[np.ndarray, list[list[int]]],
    held: tuple[np.ndarray, list[list[int]]],
    target: float,
) -> dict[str, Any]:
    """Recall and time per knob value on the tuning queries; the chosen value again on held-out ones."""
    rows = {}
    chosen = None
    for value in values:
        index.set_search_param(knob, value)
        got, wall, cpu = one_at_a_time(_labels(index), tune[0])
        r = recall(got, tune[1])
        rows[str(value)] = {"recall_at_10": round(r, 4), "ms_per_query": _ms(wall), "cpu_ms_per_query": _ms(cpu)}
        if chosen is None and r >= target:
            chosen = value
    result: dict[str, Any] = {f"tuning_by_{knob}": rows}
    if chosen is not None:
        index.set_search_param(knob, chosen)
        got, wall, cpu = one_at_a_time(_labels(index), held[0])
        result["chosen"] = {
            knob: chosen,
            "held_out_recall_at_10": round(recall(got, held[1]), 4),
            "held_out_ms_per_query": _ms(wall),
            "held_out_cpu_ms_per_query": _ms(cpu),
        }
    return result


def _query_sets(
    gallery: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[tuple[np.ndarray, list[list[int]]], tuple[np.ndarray, list[list[int]]]]:
    tune_q = queries_from(gallery, n, rng)
    held_q = queries_from(gallery, n, rng)
    truth = exact_truth(gallery, np.concatenate([tune_q, held_q]))
    return (tune_q, truth[:n]), (held_q, truth[n:])


def cmd_approx(args: argparse.Namespace, base: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    gallery = spread(base, args.size, rng)
    tune, held = _query_sets(gallery, args.queries, rng)
    out: dict[str, Any] = {"size": args.size, "queries_tuning": args.queries, "queries_held_out": args.queries}
    flat = FaissIndex(DIM)
    flat.add(gallery, list(range(args.size)))
    _, wall, cpu = one_at_a_time(_labels(flat), held[0][: min(50, args.queries)])
    out["exact_faiss_flat"] = {"single_ms_per_query": _ms(wall), "single_cpu_ms_per_query": _ms(cpu)}
    del flat
    for kind in args.kinds:
        for setting in args.nlist if kind == "ivf" else args.hnsw_m:
            start = _clock()
            if kind == "ivf":
                index = FaissIndex(DIM, nlist=setting)
                knob, values = "nprobe", [v for v in args.nprobe if v <= setting]
            else:
                index = FaissIndex(DIM, hnsw_m=setting, ef_construction=args.ef_construction)
                knob, values = "efSearch", args.ef_search
            index.add(gallery, list(range(args.size)))
            build_wall, build_cpu = _since(start)
            name = f"ivf_nlist{setting}" if kind == "ivf" else f"hnsw_m{setting}_efc{args.ef_construction}"
            out[name] = {"build_s": round(build_wall, 1), "build_cpu_s": round(build_cpu, 1)}
            out[name] |= _sweep(index, knob, values, tune, held, args.target_recall)
            print(json.dumps({name: out[name]}), file=sys.stderr)
            del index
    return out


def cmd_auto(args: argparse.Namespace, base: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    gallery = spread(base, args.size, rng)
    _, held = _query_sets(gallery, args.queries, rng)
    start = _clock()
    index = make_index(DIM, args.size)
    index.add(gallery, list(range(args.size)))
    build_wall, build_cpu = _since(start)
    got, wall, cpu = one_at_a_time(_labels(index), held[0])
    return {
        "size": args.size,
        "auto_builds": repr(index),
        "build_s": round(build_wall, 1),
        "build_cpu_s": round(build_cpu, 1),
        "held_out_recall_at_10": round(recall(got, held[1]), 4),
        "ms_per_query": _ms(wall),
        "cpu_ms_per_query": _ms(cpu),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["exact", "approx", "crossover", "auto"])
    ap.add_argument("--cache", type=Path, default=OWN_CACHE.parent, help="folder with lfw_sface*.npz")
    ap.add_argument("--size", type=int, default=0, help="gallery size (exact: 160,000; approx/auto: 1,000,000)")
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000, 160_000, 250_000, 500_000, 1_000_000]
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1000, help="queries per batched search (exact)")
    ap.add_argument("--kinds", nargs="+", choices=["ivf", "hnsw"], default=["ivf"])
    ap.add_argument("--nlist", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 24, 32, 48, 64, 96, 128])
    ap.add_argument("--hnsw-m", type=int, nargs="+", default=[32])
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    ap.add_argument("--target-recall", type=float, default=0.995, help="recall@10 the tuning queries must reach")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--noise", type=float, default=NOISE, help="sigma of the copies' noise per dimension")
    args = ap.parse_args()
    global _noise  # noqa: PLW0603 - one run, one spread
    _noise = args.noise
    if not args.size:
        args.size = 160_000 if args.command == "exact" else 1_000_000
    base = lfw_embeddings(args.cache)
    load0 = os.getloadavg()[0]
    start = _clock()
    commands = {"exact": cmd_exact, "approx": cmd_approx, "crossover": cmd_crossover, "auto": cmd_auto}
    out = {"lfw_embeddings": len(base), "noise": _noise} | commands[args.command](args, base)
    wall, cpu = _since(start)
    out |= {"total_wall_s": round(wall, 1), "total_cpu_s": round(cpu, 1)}
    out["load_average_1min"] = {"start": round(load0, 2), "end": round(os.getloadavg()[0], 2)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
