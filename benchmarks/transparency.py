"""Benchmark: the durable, database-backed transparency log vs pymerkle's in-memory tree, same run.

Two measurements, each against ``pymerkle.InmemoryTree`` on the same machine in the same process:

1. **Durable appends per second.** Realistic events (the shape the session hook writes) go
   through :func:`likeness_ledger.transparency.log.append_many` into the real, migrated log
   tables, ``--batch`` events per committed write transaction, on SQLite (WAL, as the
   application configures it) and, unless ``--no-pg``, on PostgreSQL in a scratch database that
   is created and dropped. pymerkle appends the same canonical bytes in memory.
2. **Proofs per second at each ``--leaves`` size**, generated from the database (one batched read
   per proof) and verified, over the same random indices and old sizes as pymerkle, which holds
   the same leaves in memory. Inclusion and consistency proofs both.

    .venv/bin/python benchmarks/transparency.py                       # 1M leaves, SQLite + PostgreSQL
    .venv/bin/python benchmarks/transparency.py --leaves 1000000 10000000 --proofs 3000
    .venv/bin/python benchmarks/transparency.py --no-pg --appends 50000 --leaves 100000  # quick

Building the proof trees is itself done with ``append_many`` (large batches); its rate is
printed too. The garbage collector is frozen before timing so neither side pays for scanning
the other's objects.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from likeness_ledger import migrate
from likeness_ledger.config import normalise_database_url
from likeness_ledger.db import Database
from likeness_ledger.transparency import log, merkle
from likeness_ledger.transparency.canonical import canonical_json

try:
    import pymerkle  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the comparison needs the bench extra
    pymerkle = None

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
_PERFORMERS = [str(uuid.UUID(int=n + 1)) for n in range(64)]


def event(n: int) -> dict[str, Any]:
    """An event shaped like the session hook's: about 300 bytes of canonical JSON."""
    return {
        "v": 1,
        "type": "consent_grants.created",
        "table": "consent_grants",
        "entity_id": str(uuid.UUID(int=n)),
        "time": "2026-12-01T19:00:00.000000+00:00",
        "actor": "bench",
        "performer_ids": [_PERFORMERS[n % len(_PERFORMERS)]],
        "data": {"n": n, "purpose": "benchmark", "status": "active"},
    }


@dataclass(frozen=True)
class Rate:
    """Operations per second of wall-clock time, and per second of this process's CPU time.

    The machine is shared: wall rates move with other people's load, CPU rates much less. For
    PostgreSQL the CPU rate leaves out the server's own work, so compare wall rates there.
    """

    wall: float
    cpu: float


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_rate(count: int, run: Callable[[], Any], repeat: int = 1, setup: Callable[[], Any] | None = None) -> Rate:
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        if setup is not None:
            setup()  # untimed
        start, cpu = time.perf_counter(), _cpu()
        run()
        best = min(best, (time.perf_counter() - start, _cpu() - cpu))
    return Rate(count / best[0], count / max(best[1], 1e-9))


# --- databases -------------------------------------------------------------------------------------


@contextmanager
def sqlite_db(folder: Path, file: Path | None = None) -> Iterator[Database]:
    url = f"sqlite:///{file or folder / 'bench.db'}"
    migrate.upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def postgres_db(url: str) -> Iterator[Database]:
    """A scratch database next to the one ``url`` names, created here and dropped afterwards."""
    base = make_url(normalise_database_url(url))
    name = f"likeness_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(scratch)
        db = Database(scratch)
        try:
            yield db
        finally:
            db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def append_events(db: Database, start: int, count: int, batch: int, progress: bool = False) -> Rate:
    """Append ``count`` events in committed batches; return the rate in events per second.

    Each batch's event dicts are made before its clock starts (pymerkle, too, is handed ready
    bytes); canonicalising, hashing, storing and committing them is what is timed.
    """
    elapsed = cpu = 0.0
    done = 0
    while done < count:
        size = min(batch, count - done)
        events = [event(start + done + k) for k in range(size)]
        begin, cpu_begin = time.perf_counter(), _cpu()
        with db.write() as session:
            log.append_many(session, events)
        elapsed += time.perf_counter() - begin
        cpu += _cpu() - cpu_begin
        done += size
        if progress and done % (batch * 50) == 0:
            print(f"    built {start + done:,} leaves ({done / elapsed:,.0f}/s)", file=sys.stderr, flush=True)
    return Rate(count / elapsed, count / max(cpu, 1e-9))


def pymerkle_append_rate(count: int) -> Rate:
    entries = [canonical_json(event(n)) for n in range(count)]
    tree = pymerkle.InmemoryTree()
    append = tree.append_entry

    def run() -> None:
        for entry in entries:
            append(entry)

    return best_rate(count, run)


# --- proofs ----------------------------------------------------------------------------------------


def db_proof_rates(db: Database, size: int, indices: list[int], olds: list[int]) -> dict[str, Rate]:
    """Proof rates from the database, each timed round on a fresh read session.

    Before every round the process-wide cache of committed nodes is emptied, so no round reuses
    nodes an earlier round read for the same indices; it then gets the warm-up pymerkle gets
    (inclusion proofs of the first 100 indices), whose first proof also reads the tree's upper
    levels in bulk, as many as the cache budget holds (``log._SharedNodes.refresh``; a server
    does this once, then extends them as the log grows). One more inclusion round runs with no
    warm-up at all, its first proof paying for that bulk read.
    """
    rates: dict[str, Rate] = {}

    def cold() -> None:
        log.forget_shared_nodes()

    def warm() -> None:
        log.forget_shared_nodes()
        with db.read() as session:
            for i in indices[:100]:
                log.inclusion_proof(session, i, size)

    with db.read() as session:
        top = log.root(session, size)
        old_roots = [log.root(session, s) for s in olds]
    leaves = [merkle.leaf_hash(canonical_json(event(i))) for i in indices]
    inclusion: list[list[bytes]] = []
    consistency: list[list[bytes]] = []

    def prove_inclusion() -> None:
        with db.read() as session:
            inclusion[:] = [log.inclusion_proof(session, i, size) for i in indices]

    def prove_consistency() -> None:
        with db.read() as session:
            consistency[:] = [log.consistency_proof(session, s, size) for s in olds]

    log.forget_shared_nodes()
    begin, cpu = time.perf_counter(), _cpu()
    with db.read() as session:
        log.inclusion_proof(session, indices[0], size)  # the first proof reads the upper levels in bulk
    wall, cpu = time.perf_counter() - begin, _cpu() - cpu
    held = log.cached_levels(db.engine)
    print(
        f"\n  node cache: levels {min(held, default='-')}..{max(held, default='-')} held whole, "
        f"{sum(held.values()) * merkle.HASH_SIZE / 1e6:.1f} MB; the first proof read them: "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU",
        flush=True,
    )
    rates["inclusion proof: generate"] = best_rate(len(indices), prove_inclusion, 2, warm)

    def verify_inclusion() -> None:
        for h, i, p in zip(leaves, indices, inclusion, strict=True):
            merkle.verify_inclusion(h, i, size, p, top)

    def verify_consistency() -> None:
        for s, p, r in zip(olds, consistency, old_roots, strict=True):
            merkle.verify_consistency(s, size, p, r, top)

    rates["inclusion proof: verify"] = best_rate(len(indices), verify_inclusion, 2)
    rates["consistency proof: generate"] = best_rate(len(olds), prove_consistency, 2, warm)
    rates["consistency proof: verify"] = best_rate(len(olds), verify_consistency, 2)
    rates["inclusion proof: generate, no warm-up"] = best_rate(len(indices), prove_inclusion, 2, cold)
    return rates


def pymerkle_entry(n: int) -> bytes:
    """pymerkle's proof tree holds 8-byte entries: proof cost does not depend on what the leaves
    hold, and pymerkle keeps every entry in memory (10M of our ~300-byte events needed over
    19 GB and were killed for it on the 23 GB benchmark machine)."""
    return n.to_bytes(8, "big")


def pymerkle_proof_rates(size: int, indices: list[int], olds: list[int]) -> dict[str, Rate]:
    tree = pymerkle.InmemoryTree()
    append = tree.append_entry
    for n in range(size):
        append(pymerkle_entry(n))
    top = tree.get_root()
    leaves = [merkle.leaf_hash(pymerkle_entry(i)) for i in indices]
    old_roots = [tree.get_root(s) for s in olds]
    # pymerkle caches subtree roots: give it a warm-up round first.
    for i in indices[:100]:
        tree.prove_inclusion(i + 1)
    inclusion: list[Any] = []
    consistency: list[Any] = []
    return {
        "inclusion proof: generate": best_rate(
            len(indices), lambda: inclusion.__setitem__(slice(None), [tree.prove_inclusion(i + 1) for i in indices]), 2
        ),
        "inclusion proof: verify": best_rate(
            len(indices),
            lambda: [pymerkle.verify_inclusion(h, top, p) for h, p in zip(leaves, inclusion, strict=True)],
            2,
        ),
        "consistency proof: generate": best_rate(
            len(olds), lambda: consistency.__setitem__(slice(None), [tree.prove_consistency(s, size) for s in olds]), 2
        ),
        "consistency proof: verify": best_rate(
            len(olds),
            lambda: [pymerkle.verify_consistency(r, top, p) for r, p in zip(old_roots, consistency, strict=True)],
            2,
        ),
    }


def table(title: str, rows: list[tuple[str, Rate, Rate | None]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'per second':<42}{'ours (wall)':>12}{'pymerkle':>10}{'ratio':>8}"
        f"{'ours (cpu)':>12}{'pymerkle':>10}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, ours, theirs in rows:
        if theirs is None:
            line = f"{label:<42}{ours.wall:>12,.0f}{'-':>10}{'':>8}{ours.cpu:>12,.0f}{'-':>10}"
        else:
            line = (
                f"{label:<42}{ours.wall:>12,.0f}{theirs.wall:>10,.0f}{ours.wall / theirs.wall:>7.2f}x"
                f"{ours.cpu:>12,.0f}{theirs.cpu:>10,.0f}{ours.cpu / theirs.cpu:>7.2f}x"
            )
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=200_000, help="events for the durable-append measurement")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="append rounds; each measures pymerkle then every backend, the table gives medians",
    )
    parser.add_argument("--batch", type=int, nargs="+", default=[1000, 10_000], help="events per committed transaction")
    parser.add_argument(
        "--leaves", type=int, nargs="*", default=[1_000_000], help="tree sizes for the proof rates (none: appends only)"
    )
    parser.add_argument("--proofs", type=int, default=2000, help="proofs per measurement")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL server (a scratch database is made there)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument(
        "--proofs-on", choices=["sqlite", "pg", "both"], default="sqlite", help="backend(s) for proof rates"
    )
    parser.add_argument(
        "--cache-bytes",
        type=int,
        default=None,
        help="memory budget of the proof node cache (LIKENESS_LOG_CACHE_BYTES; default: the setting's default)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sqlite-file",
        type=Path,
        default=None,
        help="keep the SQLite proof database here and reuse it next run (only missing leaves are appended)",
    )
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the SQLite files (default: a temp folder)")
    args = parser.parse_args(argv)
    if pymerkle is None:
        print("pymerkle is required: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"pymerkle {getattr(pymerkle, '__version__', '?')}; {args.appends:,} appends per measurement"
    )
    folder = Path(tempfile.mkdtemp(prefix="likeness-bench-", dir=args.tmp))
    gc.freeze()
    try:
        append_rounds(args, folder)

        rng = random.Random(args.seed)
        backends = {"sqlite": ["sqlite"], "pg": ["pg"], "both": ["sqlite", "pg"]}[args.proofs_on]
        if args.no_pg:
            backends = [b for b in backends if b != "pg"]
        for backend in backends:
            opened = (
                sqlite_db(_mk(folder / "proofs"), args.sqlite_file) if backend == "sqlite" else postgres_db(args.pg)
            )
            with opened as db:
                if args.cache_bytes is not None:
                    log.configure_node_cache(db.engine, args.cache_bytes)
                with db.read() as session:
                    built = log.size(session)  # a kept --sqlite-file may hold leaves already
                for size in sorted(args.leaves):
                    build_rate: Rate | None = None
                    if built < size:
                        build_rate = append_events(db, built, size - built, 20_000, progress=True)
                        built = size
                    indices = [rng.randrange(size) for _ in range(args.proofs)]
                    olds = [rng.randint(1, size) for _ in range(args.proofs)]
                    ours = db_proof_rates(db, size, indices, olds)
                    pm = pymerkle_proof_rates(size, indices, olds)
                    rows: list[tuple[str, Rate, Rate | None]] = (
                        [("build (append_many, batch 20,000)", build_rate, None)] if build_rate else []
                    )
                    rows += [(label, ours[label], pm[label.split(",")[0]]) for label in ours]
                    table(f"proofs from {backend} at {size:,} leaves ({args.proofs:,} proofs each)", rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def append_rounds(args: argparse.Namespace, folder: Path) -> Rate:
    """Durable appends per backend against pymerkle, in interleaved rounds; print the medians.

    The machine's speed drifts over a minute (a shared host): measuring pymerkle once and then
    each backend in turn let that drift decide ratios. Each round measures pymerkle and then every
    backend on a fresh database; the table shows each one's median rate and the range of its
    per-round ratio to the pymerkle rate of the same round. Returns pymerkle's median rate.
    """
    labels = [f"durable append, SQLite, batch {batch:,}" for batch in args.batch]
    if not args.no_pg:
        labels += [f"durable append, PostgreSQL, batch {batch:,}" for batch in args.batch]
    ours: dict[str, list[Rate]] = {label: [] for label in labels}
    theirs: list[Rate] = []
    for round_ in range(args.rounds):
        theirs.append(pymerkle_append_rate(args.appends))
        for batch in args.batch:
            with sqlite_db(_mk(folder / f"append-{batch}-{round_}")) as db:
                ours[f"durable append, SQLite, batch {batch:,}"].append(append_events(db, 0, args.appends, batch))
        if not args.no_pg:
            for batch in args.batch:
                with postgres_db(args.pg) as db:
                    ours[f"durable append, PostgreSQL, batch {batch:,}"].append(
                        append_events(db, 0, args.appends, batch)
                    )
    median_theirs = _median_rate(theirs)
    rows: list[tuple[str, Rate, Rate | None]] = [
        (label, _median_rate(rates), median_theirs) for label, rates in ours.items()
    ]
    rows.append(("pymerkle in-memory append_entry", median_theirs, median_theirs))
    table(
        f"appends ({args.appends:,} events; pymerkle gets the same events as canonical bytes),"
        f" median of {args.rounds} interleaved rounds",
        rows,
    )
    for label, rates in ours.items():
        walls = sorted(o.wall / t.wall for o, t in zip(rates, theirs, strict=True))
        cpus = sorted(o.cpu / t.cpu for o, t in zip(rates, theirs, strict=True))
        print(f"  {label}: per-round ratio wall {walls[0]:.2f}-{walls[-1]:.2f}x, cpu {cpus[0]:.2f}-{cpus[-1]:.2f}x")
    return median_theirs


def _median_rate(rates: list[Rate]) -> Rate:
    return Rate(statistics.median(r.wall for r in rates), statistics.median(r.cpu for r in rates))


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
