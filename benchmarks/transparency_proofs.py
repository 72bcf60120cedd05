"""Benchmark: in-memory MerkleTree vs pymerkle's InmemoryTree, in the same run.

Measures, at each tree size: appends per second (hashing the entry and appending it, which is
what pymerkle's ``append_entry`` does), bulk appends, and generation and verification rates of
inclusion and consistency proofs, over the same random indices for both libraries.

    .venv/bin/python benchmarks/transparency_proofs.py --leaves 100000 1000000
    .venv/bin/python benchmarks/transparency_proofs.py --leaves 10000000 --proofs 5000  # slow

pymerkle (``pip install pymerkle``) is only needed for the comparison columns; without it, or
with ``--skip-pymerkle``, only our numbers are printed. Before timing proofs, both trees get the
same warm-up round (pymerkle keeps an LRU cache of subtree roots) and the garbage collector is
frozen, so neither side pays for scanning the other's millions of objects.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from likeness_ledger.transparency import merkle

try:
    import pymerkle
except ImportError:  # the comparison is optional
    pymerkle = None


@dataclass
class Row:
    label: str
    ours: float
    theirs: float | None = None


@dataclass
class Report:
    leaves: int
    proofs: int
    rows: list[Row] = field(default_factory=list)

    def add(self, label: str, ours: float, theirs: float | None = None) -> None:
        self.rows.append(Row(label, ours, theirs))

    def print(self, with_pymerkle: bool) -> None:
        version = getattr(pymerkle, "__version__", "?")
        print(f"\nleaves = {self.leaves:,}   proofs per measurement = {self.proofs:,}")
        header = f"{'operation (per second)':<32}{'likeness_ledger':>17}"
        if with_pymerkle:
            header += f"{'pymerkle ' + version:>17}{'ratio':>9}"
        print(header)
        print("-" * len(header))
        for row in self.rows:
            line = f"{row.label:<32}{row.ours:>17,.0f}"
            if with_pymerkle:
                if row.theirs is None:
                    line += f"{'-':>17}{'':>9}"
                else:
                    line += f"{row.theirs:>17,.0f}{row.ours / row.theirs:>8.1f}x"
            print(line)


REPEAT = 3  # best of: the machines we share are noisy, and the best run is the least disturbed


def rate(count: int, run: Callable[[], Any], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def build_ours(entries: Sequence[bytes]) -> tuple[merkle.MerkleTree, float]:
    tree = merkle.MerkleTree()
    append, leaf_hash = tree.append, merkle.leaf_hash

    def run() -> None:
        for entry in entries:
            append(leaf_hash(entry))

    return tree, rate(len(entries), run)


def time_bulk(entries: Sequence[bytes], expected_root: bytes) -> float:
    tree = merkle.MerkleTree()
    result = rate(len(entries), lambda: tree.append_many(map(merkle.leaf_hash, entries)))
    assert tree.root() == expected_root
    return result


def build_theirs(entries: Sequence[bytes]) -> tuple[Any, float]:
    tree = pymerkle.InmemoryTree()
    append = tree.append_entry

    def run() -> None:
        for entry in entries:
            append(entry)

    return tree, rate(len(entries), run)


@dataclass
class Workload:
    """The same random queries for both libraries."""

    size: int
    indices: list[int]  # leaf positions, 0-based
    leaf_hashes: list[bytes]
    old_sizes: list[int]  # earlier tree sizes for consistency proofs


PROOF_ROWS = (
    "inclusion proof: generate",
    "inclusion proof: verify",
    "consistency proof: generate",
    "consistency proof: verify",
    "root at a past size",
)


def measure(count: int, steps: Sequence[Callable[[], Any]]) -> dict[str, float]:
    """Time the five proof steps, in PROOF_ROWS order, each best of REPEAT."""
    return {label: rate(count, step, REPEAT) for label, step in zip(PROOF_ROWS, steps, strict=True)}


def time_ours(tree: merkle.MerkleTree, work: Workload) -> dict[str, float]:
    size, top = work.size, tree.root()
    old_roots = [tree.root(s) for s in work.old_sizes]
    inclusion: list[list[bytes]] = []
    consistency: list[list[bytes]] = []

    def prove_inclusion() -> None:
        inclusion[:] = [tree.inclusion_proof(i) for i in work.indices]

    def verify_inclusion() -> None:
        for i, leaf, proof in zip(work.indices, work.leaf_hashes, inclusion, strict=True):
            merkle.verify_inclusion(leaf, i, size, proof, top)

    def prove_consistency() -> None:
        consistency[:] = [tree.consistency_proof(s) for s in work.old_sizes]

    def verify_consistency() -> None:
        for s, root1, proof in zip(work.old_sizes, old_roots, consistency, strict=True):
            merkle.verify_consistency(s, size, proof, root1, top)

    def past_roots() -> None:
        for s in work.old_sizes:
            tree.root(s)

    steps = (prove_inclusion, verify_inclusion, prove_consistency, verify_consistency, past_roots)
    return measure(len(work.indices), steps)


def time_theirs(tree: Any, work: Workload) -> dict[str, float]:
    size, top = work.size, tree.get_root()
    old_roots = [tree.get_root(s) for s in work.old_sizes]
    inclusion: list[Any] = []
    consistency: list[Any] = []

    def prove_inclusion() -> None:
        inclusion[:] = [tree.prove_inclusion(i + 1) for i in work.indices]  # 1-based there

    def verify_inclusion() -> None:
        for leaf, proof in zip(work.leaf_hashes, inclusion, strict=True):
            pymerkle.verify_inclusion(leaf, top, proof)

    def prove_consistency() -> None:
        consistency[:] = [tree.prove_consistency(s, size) for s in work.old_sizes]

    def verify_consistency() -> None:
        for root1, proof in zip(old_roots, consistency, strict=True):
            pymerkle.verify_consistency(root1, top, proof)

    def past_roots() -> None:
        for s in work.old_sizes:
            tree.get_root(s)

    steps = (prove_inclusion, verify_inclusion, prove_consistency, verify_consistency, past_roots)
    return measure(len(work.indices), steps)


def bench(size: int, proofs: int, seed: int, with_pymerkle: bool) -> Report:
    report = Report(size, proofs)
    entries = [i.to_bytes(8, "big") for i in range(size)]

    ours, ours_append = build_ours(entries)
    bulk_rate = time_bulk(entries, ours.root())
    theirs, theirs_append = build_theirs(entries) if with_pymerkle else (None, None)
    if theirs is not None:
        # Same tree hash (RFC 6962 prefixes): a sanity check that we compare like with like.
        assert theirs.get_root() == ours.root(), "pymerkle and likeness_ledger disagree on the root"
    report.add("append (hash + append)", ours_append, theirs_append)
    report.add("append_many (bulk)", bulk_rate)

    rng = random.Random(seed)
    warm_up = [rng.randrange(size) for _ in range(proofs)]
    indices = [rng.randrange(size) for _ in range(proofs)]
    work = Workload(
        size=size,
        indices=indices,
        leaf_hashes=[ours.get_node(0, i) for i in indices],
        old_sizes=[rng.randrange(1, size) for _ in range(proofs)],
    )
    gc.collect()
    gc.freeze()
    # Same warm-up for both: pymerkle fills its subroot cache, both fill CPU caches.
    for i in warm_up:
        ours.inclusion_proof(i)
        if theirs is not None:
            theirs.prove_inclusion(i + 1)
    ours_rates = time_ours(ours, work)
    theirs_rates = time_theirs(theirs, work) if theirs is not None else {}
    gc.unfreeze()
    for label in PROOF_ROWS:
        report.add(label, ours_rates[label], theirs_rates.get(label))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--leaves",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="tree sizes to benchmark (default: 100000 1000000; 10000000 takes minutes)",
    )
    parser.add_argument("--proofs", type=int, default=2_000, help="proofs per measurement")
    parser.add_argument("--seed", type=int, default=6962, help="seed for the random indices")
    parser.add_argument("--skip-pymerkle", action="store_true", help="only time likeness_ledger")
    args = parser.parse_args(argv)

    with_pymerkle = pymerkle is not None and not args.skip_pymerkle
    if pymerkle is None and not args.skip_pymerkle:
        print("pymerkle is not installed: printing likeness_ledger numbers only", file=sys.stderr)
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    for size in args.leaves:
        report = bench(size, args.proofs, args.seed, with_pymerkle)
        report.print(with_pymerkle)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"(peak RSS so far: {peak:,.0f} MiB)")
        gc.collect()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
