"""Staydown lookup: nearest PDQ hash among 10^5-10^6 findings, old linear scan vs the index.

Compares, on the same hashes and queries:

* ``linear``: the Python loop staydown used before (hex strings to ints, XOR, ``bit_count``);
* ``PdqIndex``: ``detection.fingerprint.PdqIndex`` (packed uint64 words, NumPy XOR + ``bitwise_count``);
* ``faiss``: FAISS ``IndexBinaryFlat`` (exhaustive Hamming search in C++), for reference.

Hashes: --real pictures' PDQ hashes (the LFW images, each also re-encoded at 60 % size, JPEG quality 50,
as the query), padded to --size with random 256-bit hashes (the scan's cost does not depend on the
content; random hashes are ~128 bits apart, like unrelated pictures). Queries: the re-encoded copies
(must find their original) and as many unrelated pictures' hashes (must find nothing within 31 bits).

Run: .venv/bin/python benchmarks/fingerprint.py [--size 1000000] [--queries 200] [--linear-queries 10]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from likeness_ledger.detection.fingerprint import MATCH_DISTANCE, PdqIndex, pdq_of

REPO = Path(__file__).resolve().parents[1]
LFW = REPO.parent / "shared" / "media" / "lfw" / "images"


def linear_nearest(query: str, candidates: Iterable[tuple[str, object]]) -> tuple[int, object] | None:
    """The staydown lookup before the index: one Python iteration per finding."""
    best: tuple[int, object] | None = None
    q = int(query, 16)
    for hex_hash, key in candidates:
        d = (q ^ int(hex_hash, 16)).bit_count()
        if d <= MATCH_DISTANCE and (best is None or d < best[0]):
            best = (d, key)
    return best


def real_hashes(count: int) -> tuple[list[str], list[str], list[str]]:
    """(originals, their re-encoded copies, unrelated pictures) from LFW, ``count`` of each."""
    paths = sorted(LFW.glob("*/*.jpg"))
    originals, copies, unrelated = [], [], []
    for path in paths[: 2 * count : 2]:
        img = cv2.imread(str(path))
        small = cv2.resize(img, (img.shape[1] * 3 // 5, img.shape[0] * 3 // 5), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 50])
        assert ok
        originals.append(pdq_of(img).hex)
        copies.append(pdq_of(cv2.imdecode(buf, cv2.IMREAD_COLOR)).hex)
    for path in paths[1 : 2 * count : 2]:
        unrelated.append(pdq_of(cv2.imread(str(path))).hex)
    return originals, copies, unrelated


def _timed(fn: Any, queries: list[str]) -> tuple[list[Any], float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = [fn(q) for q in queries]
    return out, (time.perf_counter() - t0) / len(queries), (time.process_time() - c0) / len(queries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="hashes in the index")
    ap.add_argument("--real", type=int, default=100, help="LFW pictures (originals indexed, copies queried)")
    ap.add_argument("--linear-queries", type=int, default=10, help="queries timed for the slow linear scan")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    originals, copies, unrelated = real_hashes(args.real)
    rng = np.random.default_rng(args.seed)
    filler = [bytes(r).hex() for r in rng.integers(0, 256, (args.size - len(originals), 32), dtype=np.uint8)]
    # The real hashes are spread through the index, not bunched at one end.
    items: list[tuple[str, object]] = [(h, f"r{i}") for i, h in enumerate(filler)]
    for i, h in enumerate(originals):
        items.insert(int(rng.integers(0, len(items) + 1)), (h, f"finding-{i}"))
    queries = copies + unrelated
    out: dict[str, Any] = {"hashes": len(items), "queries": len(queries), "match_distance": MATCH_DISTANCE}

    t0 = time.perf_counter()
    index = PdqIndex.of(items)
    out["pdqindex_build_s"] = round(time.perf_counter() - t0, 2)
    got, wall, cpu = _timed(index.nearest, queries)
    out["pdqindex_ms_per_lookup"] = round(1000 * wall, 3)
    out["pdqindex_cpu_ms_per_lookup"] = round(1000 * cpu, 3)
    found = sum(g is not None and g[1] == f"finding-{i}" for i, g in enumerate(got[: len(copies)]))
    false = sum(g is not None for g in got[len(copies) :])
    out["reencoded_copies_found"] = f"{found}/{len(copies)}"
    out["unrelated_pictures_matched"] = f"{false}/{len(unrelated)}"

    import faiss  # noqa: PLC0415 - reference only

    t0 = time.perf_counter()
    binary = faiss.IndexBinaryFlat(256)
    binary.add(np.frombuffer(b"".join(bytes.fromhex(h) for h, _ in items), dtype=np.uint8).reshape(-1, 32))
    out["faiss_binary_build_s"] = round(time.perf_counter() - t0, 2)
    faiss.omp_set_num_threads(1)  # one lookup at a time, as staydown does

    def faiss_nearest(q: str) -> tuple[int, object] | None:
        d, i = binary.search(np.frombuffer(bytes.fromhex(q), dtype=np.uint8)[None, :], 1)
        return (int(d[0, 0]), items[int(i[0, 0])][1]) if d[0, 0] <= MATCH_DISTANCE else None

    got_faiss, wall, cpu = _timed(faiss_nearest, queries)
    out["faiss_binary_ms_per_lookup"] = round(1000 * wall, 3)
    out["faiss_binary_cpu_ms_per_lookup"] = round(1000 * cpu, 3)
    out["faiss_same_answers"] = f"{sum(a == b for a, b in zip(got, got_faiss, strict=True))}/{len(queries)}"

    sample = queries[: args.linear_queries // 2] + queries[len(copies) : len(copies) + args.linear_queries // 2]
    got_linear, wall, cpu = _timed(lambda q: linear_nearest(q, items), sample)
    out["linear_ms_per_lookup"] = round(1000 * wall, 1)
    out["linear_cpu_ms_per_lookup"] = round(1000 * cpu, 1)
    expected = [index.nearest(q) for q in sample]
    out["linear_same_answers"] = f"{sum(a == b for a, b in zip(got_linear, expected, strict=True))}/{len(sample)}"
    out["speedup_vs_linear_cpu"] = round(out["linear_cpu_ms_per_lookup"] / out["pdqindex_cpu_ms_per_lookup"], 1)
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
