"""``--engine ray``: a local Ray cluster scans files to the same results as the local engine."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from likeness_ledger.detection.face import face_engine
from likeness_ledger.detection.media import load_image
from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner

from .test_media import make_video
from .test_scan import _letterbox

# Slow only because a Ray cluster takes ~5-10 s to start on the shared machine; one cluster for the test.
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray (the `ray` extra) not installed"),
    pytest.mark.slow,
]


def test_ray_and_local_engines_agree(media_dir: Path, tmp_path: Path) -> None:
    from likeness_ledger.detection import distributed  # noqa: PLC0415 - imports ray

    obama, biden = GalleryPerformer(uuid.uuid4(), "SAG-1"), GalleryPerformer(uuid.uuid4(), None)
    refs = [
        (p.id, face_engine().faces(load_image(media_dir / n))[0].embedding)
        for p, n in ((obama, "obama_ref.jpg"), (biden, "biden_ref.jpg"))
    ]
    # A FAISS index, so the gallery's trip through Ray's object store (FAISS's own serialisation) is covered.
    gallery = Gallery.build({obama.id: obama, biden.id: biden}, refs, index_kind="faiss")
    face = _letterbox(cv2.imread(str(media_dir / "obama_probe.jpg")))
    video = make_video(tmp_path / "clip.mp4", [np.zeros_like(face), face], seconds_each=1.0, fps=5)
    (tmp_path / "bad.jpg").write_bytes((media_dir / "pair.jpg").read_bytes()[:500])
    files = [
        media_dir / "pair.jpg",
        media_dir / "nobody.jpg",
        tmp_path / "bad.jpg",
        media_dir / "obama_probe.jpg",
        video,
    ]
    jobs = [(p, p.name) for p in files]

    local = [Scanner(gallery).scan(p, label=label) for p, label in jobs]
    remote = list(distributed.scan_paths(gallery, jobs, num_cpus=2))

    assert [i for i, _ in remote] == list(range(len(files)))
    for mine, theirs in zip(local, (scan for _, scan in remote), strict=True):
        assert (theirs.path, theirs.media, theirs.sha256, theirs.error) == (
            mine.path,
            mine.media,
            mine.sha256,
            mine.error,
        )
        assert theirs.matches == mine.matches
        assert theirs.pdq == mine.pdq
    assert {m["performer"]["ref"] for m in local[0].matches} == {"SAG-1", None}
    assert local[2].error and local[4].matches
