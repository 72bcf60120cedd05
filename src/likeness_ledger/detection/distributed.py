"""Scanning on a Ray cluster (``likeness scan --engine ray``).

Each Ray worker is an actor that loads the face models once and keeps one :class:`Scanner` over the
gallery, which is put into Ray's object store once and shared. Files are handed out to whichever
worker is free; results come back in the order the files were given, and clearance and findings are
then decided in the calling process (the workers never touch the database), so ``--engine ray`` and
``--engine local`` give the same findings.

The workers open the files by path: a local cluster (the default, started by the scan and stopped
after it) shares the file system; a remote cluster (``address``) needs the files at the same paths
on every node.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from likeness_ledger.detection.scan import FileScan, Gallery, Scanner
from likeness_ledger.errors import ConfigurationError


class ScanWorker:
    """One worker: the face engine loaded once, then any number of files scanned against the gallery."""

    def __init__(self, gallery: Gallery, all_frames: bool) -> None:
        import cv2  # noqa: PLC0415 - in the worker process

        from likeness_ledger.detection.face import face_engine  # noqa: PLC0415

        # Parallelism comes from the workers (one per CPU); OpenCV's own threads would compete with them.
        cv2.setNumThreads(1)
        face_engine()
        self._scanner = Scanner(gallery, all_frames=all_frames)

    def scan(self, index: int, path: str, label: str) -> tuple[int, FileScan]:
        """Scan one file; errors come back in the result like the local scan's."""
        return index, self._scanner.scan(Path(path), label=label)


def _ray() -> Any:
    try:
        import ray  # noqa: PLC0415 - optional: only `--engine ray` needs it
    except ImportError as exc:
        raise ConfigurationError("--engine: 'ray' needs the ray package (pip install 'likeness-ledger[ray]')") from exc
    return ray


def scan_paths(
    gallery: Gallery,
    paths: Sequence[tuple[Path, str]],
    *,
    all_frames: bool = False,
    num_cpus: int | None = None,
    address: str | None = None,
) -> Iterator[tuple[int, FileScan]]:
    """``(position, scan)`` for every ``(path, label)``, in the given order, scanned by Ray workers.

    Without ``address`` a local cluster with ``num_cpus`` CPUs (default: all) is started and shut
    down when the iteration ends; with one, that running cluster is used and left running.
    """
    ray = _ray()
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **options)
        started = True
    try:
        if not paths:
            return
        cpus = int(ray.available_resources().get("CPU", 1)) or 1
        workers = max(1, min(len(paths), cpus))
        from ray.util import ActorPool  # noqa: PLC0415

        shared = ray.put(gallery)
        actor = ray.remote(num_cpus=1)(ScanWorker)
        pool = ActorPool([actor.remote(shared, all_frames) for _ in range(workers)])
        jobs = [(i, str(path), label) for i, (path, label) in enumerate(paths)]
        submit: Callable[[Any, tuple[int, str, str]], Any] = lambda a, job: a.scan.remote(*job)  # noqa: E731
        yield from pool.map(submit, jobs)
    finally:
        if started:
            ray.shutdown()
