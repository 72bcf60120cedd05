"""Benchmark the replica vault's blob store against the raw speed of its parts.

Measured in one run, on the same data size:

  (a) AES-256-GCM encryption (cryptography, one thread, chunk-sized calls, from memory)
  (b) SHA-256 (hashlib, one thread, from memory)
  (c) sequential write + fsync of a file: c1 writes everything then fsyncs, c2 also asks the
      kernel to start writeback every 32 MiB as BlobStore does; the faster one counts
  (d) BlobStore.put of a file generated beforehand, including fsync and publication; the file
      is read once, untimed, just before, so it comes from the page cache (it stands in for an
      upload arriving from the network)
  (e) BlobStore.open + full iteration, after evicting the blob from the page cache so the read
      really hits the disk; every tag and the final digest are verified

limit = the slowest of (a), (b) and (c): a put needs all three, so it cannot beat the slowest.
Each disk phase starts after a pause (--settle) so that none inherits warm memory from the
previous one (see settle() in main).
(d) and (e) run in a child process each, so their peak RSS (ru_maxrss) is their own. With
--repeat N every phase runs N times and the median is reported.

Usage:  .venv/bin/python benchmarks/vault.py [--size-mib 1024] [--dir ./bench-data]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from likeness_ledger.vault import BlobStore, MasterKey
from likeness_ledger.vault.store import DEFAULT_CHUNK_SIZE, WRITEBACK_WINDOW

if TYPE_CHECKING:
    from collections.abc import Callable

MIB = 1024 * 1024
TARGET_RATIO = 0.70
TARGET_RSS_BYTES = 150_000_000


def mb_per_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def bench_aes(size: int, chunk: int) -> float:
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    data = bytearray(os.urandom(chunk))
    out = bytearray(chunk + 16)
    nonce_prefix = os.urandom(8)
    start = time.perf_counter()
    for i in range(size // chunk):
        aead.encrypt_into(nonce_prefix + i.to_bytes(4, "big"), data, b"aad", out)
    return time.perf_counter() - start


def bench_sha256(size: int, chunk: int) -> float:
    data = memoryview(bytearray(os.urandom(chunk)))
    hasher = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(size // chunk):
        hasher.update(data)
    hasher.digest()
    return time.perf_counter() - start


def bench_write(path: Path, size: int, chunk: int, *, early_writeback: bool) -> float:
    data = memoryview(os.urandom(chunk))
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        flushed = written = 0
        for _ in range(size // chunk):
            view = data
            while view:
                view = view[os.write(fd, view) :]
            written += chunk
            if early_writeback and written - flushed >= WRITEBACK_WINDOW:
                os.posix_fadvise(fd, flushed, written - flushed, os.POSIX_FADV_DONTNEED)
                flushed = written
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed


def _busy_cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by the whole machine and by kernel threads (Linux only).

    Other engineers' jobs share this machine; comparing the machine's busy time with our own
    (and with kernel threads, which do the writeback we cause) shows how much CPU they took.
    """
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    kernel_threads = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        after = stat.rsplit(")", 1)[1].split()
        ppid, utime, stime = int(after[1]), int(after[11]), int(after[12])
        if ppid == 2 or entry.name == "2":
            kernel_threads += utime + stime
    return (user + nice + system + irq + softirq) / tick, kernel_threads / tick


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuWatch:
    """Measures wall time and how many CPUs other processes kept busy meanwhile."""

    def __enter__(self) -> CpuWatch:
        self._busy, self._kernel = _busy_cpu_seconds()
        self._own = _own_cpu_seconds()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        busy, kernel = _busy_cpu_seconds()
        others = (busy - self._busy) - (kernel - self._kernel) - (_own_cpu_seconds() - self._own)
        self.other_cpus = max(0.0, others / self.seconds)


def make_source(path: Path, size: int) -> None:
    with path.open("wb") as f:
        remaining = size
        while remaining:
            n = min(remaining, 4 * MIB)
            f.write(os.urandom(n))
            remaining -= n
        f.flush()
        os.fsync(f.fileno())


def run_child(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def child_main(phase: str, key_path: str, store_dir: str, arg: str, chunk: int) -> None:
    """Run one measured phase in this (fresh) process and print JSON to stdout."""
    store = BlobStore(Path(store_dir), MasterKey.load(Path(key_path)), chunk_size=chunk)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if phase == "put":
        # Untimed read-through: the source stands in for an upload arriving from the network,
        # so it must come from the page cache. This VM pages out memory idle for about a
        # minute (DAMON reclaim), so without this the put would also be reading from disk.
        with Path(arg).open("rb", buffering=0) as source:
            scratch = bytearray(4 * MIB)
            while source.readinto(scratch):
                pass
        start = time.perf_counter()
        with Path(arg).open("rb", buffering=0) as source:
            info = store.put(source)
        elapsed = time.perf_counter() - start
        out: dict[str, Any] = {"sha256": info.sha256, "size": info.size}
    else:
        blob = store._path(arg)  # private: the benchmark needs the file to evict it
        fd = os.open(blob, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        start = time.perf_counter()
        total = 0
        with store.open(arg) as reader:
            for piece in reader:
                total += len(piece)
        elapsed = time.perf_counter() - start
        out = {"size": total}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out |= {"seconds": elapsed, "baseline_rss": baseline, "peak_rss": peak}
    print(json.dumps(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="data size (default 1024)")
    parser.add_argument("--dir", type=Path, default=Path("bench-data"), help="scratch folder (default ./bench-data)")
    parser.add_argument("--chunk-kib", type=int, default=DEFAULT_CHUNK_SIZE // 1024, help="BlobStore chunk size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; median reported")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to pause before each disk phase (default 5)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    chunk = args.chunk_kib * 1024
    if args.child:
        phase, key_path, store_dir, arg = args.child
        child_main(phase, key_path, store_dir, arg, chunk)
        return 0

    size = args.size_mib * MIB
    size -= size % chunk  # whole chunks, so (a)-(c) process exactly the same bytes as (d)-(e)
    created_dir = not args.dir.exists()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vault-bench-", dir=args.dir))
    phases = ("a", "b", "c1", "c2", "d", "e")
    runs: dict[str, list[float]] = {k: [] for k in phases}
    others: dict[str, list[float]] = {k: [] for k in phases}
    rss: dict[str, list[int]] = {"d": [], "e": [], "base": []}

    def settle() -> None:
        # On a VM that hands freed memory back to the host (free page reporting, ~2 s delay),
        # a phase that writes 1 GiB right after another one deleted 1 GiB reuses warm pages,
        # while one that starts later pays about 1 s/GiB of extra CPU to fault them back in.
        # Pausing before every disk phase puts the baselines and the store on equal terms.
        time.sleep(args.settle)

    def timed(name: str, phase: Callable[[], float]) -> None:
        if name.startswith("c"):
            settle()
        with CpuWatch() as watch:
            runs[name].append(phase())
        others[name].append(watch.other_cpus)

    def in_child(name: str, *child_args: str) -> dict[str, Any]:
        settle()
        with CpuWatch() as watch:
            result = run_child(*child_args, "--chunk-kib", str(args.chunk_kib))
        if result["size"] != size:
            raise SystemExit(f"{name}: expected {size} bytes, got {result['size']}")
        runs[name].append(result["seconds"])
        others[name].append(watch.other_cpus)
        rss[name].append(result["peak_rss"])
        return result

    try:
        key_path = work / "master.key"
        MasterKey.load_or_create(key_path)
        store_dir = work / "store"
        source = work / "source.bin"
        scratch = work / "write.bin"
        print(f"generating {size / MIB:.0f} MiB of random data in {work} ...", file=sys.stderr)
        make_source(source, size)
        for rep in range(args.repeat):
            print(f"run {rep + 1}/{args.repeat}", file=sys.stderr)
            timed("a", lambda: bench_aes(size, chunk))
            timed("b", lambda: bench_sha256(size, chunk))
            timed("c1", lambda: bench_write(scratch, size, chunk, early_writeback=False))
            timed("c2", lambda: bench_write(scratch, size, chunk, early_writeback=True))
            put = in_child("d", "put", str(key_path), str(store_dir), str(source))
            in_child("e", "read", str(key_path), str(store_dir), put["sha256"])
            rss["base"].append(put["baseline_rss"])
            BlobStore(store_dir, MasterKey.load(key_path)).delete(put["sha256"])
    finally:
        shutil.rmtree(work)
        if created_dir:
            args.dir.rmdir()

    report(size, chunk, args.repeat, runs, others, rss)
    speed = {k: mb_per_s(size, statistics.median(v)) for k, v in runs.items()}
    limit = min(speed["a"], speed["b"], max(speed["c1"], speed["c2"]))
    ok_speed = min(speed["d"], speed["e"]) >= TARGET_RATIO * limit
    ok_rss = max(rss["d"] + rss["e"]) < TARGET_RSS_BYTES
    return 0 if ok_speed and ok_rss else 1


def report(
    size: int,
    chunk: int,
    repeat: int,
    runs: dict[str, list[float]],
    others: dict[str, list[float]],
    rss: dict[str, list[int]],
) -> None:
    """Print the results as a Markdown table plus the verdict on both targets."""
    speed = {k: mb_per_s(size, statistics.median(v)) for k, v in runs.items()}
    speed["c"] = max(speed["c1"], speed["c2"])
    limit_name = min(("a", "b", "c"), key=lambda k: speed[k])
    limit = speed[limit_name]
    peak = {k: max(v) for k, v in rss.items()}
    labels = {
        "a": "(a) AES-256-GCM encrypt (cryptography)",
        "b": "(b) SHA-256 (hashlib)",
        "c1": "(c1) write, then fsync",
        "c2": "(c2) write with early writeback, then fsync",
        "d": "(d) BlobStore.put: hash + encrypt + write + fsync",
        "e": "(e) BlobStore.open: read + decrypt + verify, cold cache",
    }

    def spread(k: str) -> str:
        values = sorted(mb_per_s(size, s) for s in runs[k])
        return f"{values[0]:.0f}-{values[-1]:.0f}"

    print(f"\nsize {size / MIB:.0f} MiB, chunk {chunk // 1024} KiB, median of {repeat} runs")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {_cpu_model()}, ", end="")
    print(f"Python {platform.python_version()}, {platform.system()} {platform.release()}\n")
    print("| phase | MB/s (median) | range | vs limit | peak RSS | other jobs' CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in ("a", "b", "c1", "c2", "d", "e"):
        ratio = f"{speed[k] / limit:.0%}" if k in ("d", "e") else ""
        mem = f"{peak[k] / 1e6:.0f} MB" if k in ("d", "e") else ""
        load = f"{statistics.median(others[k]):.2f} CPUs"
        print(f"| {labels[k]} | {speed[k]:.0f} | {spread(k)} | {ratio} | {mem} | {load} |")
    print(f"\nlimit = slowest of (a), (b), (c) = {limit:.0f} MB/s ({limit_name})")
    print(f"RSS of a child after imports, before its phase: {peak['base'] / 1e6:.0f} MB")
    ok_speed = min(speed["d"], speed["e"]) >= TARGET_RATIO * limit
    ok_rss = max(peak["d"], peak["e"]) < TARGET_RSS_BYTES
    print(f"target (d) and (e) >= {TARGET_RATIO:.0%} of limit: {'met' if ok_speed else 'NOT met'}")
    print(f"target peak RSS < {TARGET_RSS_BYTES / 1e6:.0f} MB: {'met' if ok_rss else 'NOT met'}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
