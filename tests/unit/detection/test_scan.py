"""The scanner on its own (no database): images, video segments, audio (voice)."""

from __future__ import annotations

import importlib.util
import uuid
import wave
from pathlib import Path

import cv2
import numpy as np
import pytest

from likeness_ledger.detection import voicebridge
from likeness_ledger.detection.face import face_engine
from likeness_ledger.detection.media import audio_samples, load_image
from likeness_ledger.detection.models import MediaKind
from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner, iou

from .test_media import FLAC, make_video

OBAMA = GalleryPerformer(uuid.uuid4(), "SAG-1")
BIDEN = GalleryPerformer(uuid.uuid4(), None)


@pytest.fixture(scope="module")
def gallery(media_dir: Path) -> Gallery:
    refs = []
    for who, name in ((OBAMA, "obama_ref.jpg"), (BIDEN, "biden_ref.jpg")):
        refs.append((who.id, face_engine().faces(load_image(media_dir / name))[0].embedding))
    return Gallery.build({OBAMA.id: OBAMA, BIDEN.id: BIDEN}, refs)


def _letterbox(img: np.ndarray, w: int = 320, h: int = 240) -> np.ndarray:
    canvas = np.zeros((h, w, 3), dtype=np.uint8)
    scale = min(w / img.shape[1], h / img.shape[0])
    small = cv2.resize(img, (int(img.shape[1] * scale) // 2 * 2, int(img.shape[0] * scale) // 2 * 2))
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def test_image_matches_carry_boxes(gallery: Gallery, media_dir: Path) -> None:
    result = Scanner(gallery).scan(media_dir / "pair.jpg")
    assert result.media is MediaKind.IMAGE and result.error is None
    assert {m["performer"]["ref"] for m in result.matches} == {"SAG-1", None}
    assert all(m["score"] >= gallery.face_threshold for m in result.matches)
    assert result.pdq is not None and result.sha256 is not None


def test_video_reports_when_a_performer_is_on_screen(gallery: Gallery, media_dir: Path, tmp_path: Path) -> None:
    blank = np.zeros((240, 320, 3), dtype=np.uint8)
    face = _letterbox(cv2.imread(str(media_dir / "obama_probe.jpg")))
    other = _letterbox(cv2.imread(str(media_dir / "nobody.jpg")))
    video = make_video(tmp_path / "clip.mp4", [blank, face, other], seconds_each=2.0)
    result = Scanner(gallery).scan(video)
    assert result.media is MediaKind.VIDEO, result.error
    assert len(result.matches) == 1
    match = result.matches[0]
    assert match["performer"]["ref"] == "SAG-1" and "box" not in match
    assert 1.9 <= match["start"] <= 2.1 and 3.0 <= match["end"] < 4.1


def _wav(src: Path, dst: Path, seconds: float, rate: int) -> Path:
    """The first ``seconds`` of ``src`` as a 16-bit mono WAV (short clips keep the test fast)."""
    samples = audio_samples(src, rate)[: int(seconds * rate)]
    with wave.open(str(dst), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return dst


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="voice runtime (torch) not installed")
def test_audio_voice_matches_its_speaker(tmp_path: Path) -> None:
    backend = voicebridge.backend()
    assert backend is not None, voicebridge.unavailable_reason()
    rate = backend.sample_rate
    speaker = sorted(FLAC.parent.glob("*.flac"))
    stranger = next(p for p in sorted(FLAC.parent.parent.rglob("*.flac")) if p.parent != FLAC.parent)
    ref_clip = _wav(speaker[0], tmp_path / "ref.wav", 6, rate)
    ref = backend.embed(audio_samples(ref_clip, rate), rate)
    me = GalleryPerformer(uuid.uuid4(), "VOICE-1")
    gallery = Gallery.build({me.id: me}, [], [(me.id, ref)])
    same = Scanner(gallery).scan(_wav(speaker[1], tmp_path / "same.wav", 4, rate))
    assert same.media is MediaKind.AUDIO
    assert same.matches and {m["modality"] for m in same.matches} == {"voice"}
    assert all(m["performer"]["ref"] == "VOICE-1" and m["end"] > m["start"] >= 0 for m in same.matches)
    assert Scanner(gallery).scan(_wav(stranger, tmp_path / "other.wav", 4, rate)).matches == []


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 10, 5, 5)) == 0.0


def test_identify_gives_the_shipped_decision(gallery: Gallery, media_dir: Path) -> None:
    # The one-pass-first cascade must decide and score exactly like the full (mirrored) embedding.
    image = load_image(media_dir / "pair.jpg")
    scanner = Scanner(gallery)
    expected = sorted((str(p), round(s, 4)) for p, s, _ in scanner.faces_in(image))
    engine = face_engine()
    got = [scanner.identify(image, row) for row in engine.detect(image)]
    assert sorted((str(p), round(s, 4)) for p, s in got if p is not None) == expected


def test_video_tracks_reuse_identities(
    gallery: Gallery, media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    face = _letterbox(cv2.imread(str(media_dir / "obama_probe.jpg")))
    video = make_video(tmp_path / "long.mp4", [np.zeros_like(face), face], seconds_each=7.0, fps=5)
    calls: list[float] = []
    original = Scanner.identify

    def counting(self: Scanner, image: np.ndarray, row: np.ndarray) -> tuple[uuid.UUID | None, float]:
        calls.append(1.0)
        return original(self, image, row)

    monkeypatch.setattr(Scanner, "identify", counting)
    result = Scanner(gallery).scan(video)
    # Seen in 8 analysed frames (the cut, then every second) but embedded at the cut and at the refresh.
    assert len(calls) == 2
    assert len(result.matches) == 1
    assert result.matches[0]["performer"]["ref"] == "SAG-1"
    assert result.matches[0]["start"] == pytest.approx(7.0, abs=0.25) and result.matches[0]["end"] >= 13.0
