"""The scanner on its own (no database): images, video segments, audio (voice)."""

from __future__ import annotations

import importlib.util
import threading
import uuid
import wave
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from likeness_ledger.detection import operating, voicebridge
from likeness_ledger.detection.face import (
    EMBEDDING_DIM,
    FaceEngine,
    dlib_embedder,
    face_engine,
    reference_embedding,
)
from likeness_ledger.detection.media import audio_samples, load_image
from likeness_ledger.detection.models import MediaKind, Modality
from likeness_ledger.detection.scan import Gallery, GalleryPerformer, Scanner, iou

from .test_media import FLAC, make_video

OBAMA = GalleryPerformer(uuid.uuid4(), "SAG-1")
BIDEN = GalleryPerformer(uuid.uuid4(), None)


@pytest.fixture(scope="module")
def gallery(media_dir: Path) -> Gallery:
    refs = []
    for who, name in ((OBAMA, "obama_ref.jpg"), (BIDEN, "biden_ref.jpg")):
        vector = reference_embedding(load_image(media_dir / name))
        assert vector is not None
        refs.append((who.id, vector))
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


def test_identify_gives_the_full_fusions_decision(gallery: Gallery, media_dir: Path) -> None:
    # The cascade skips passes (mirror, dlib) only where they cannot change the decision: it must
    # decide like the cascade score computed with every model on every face.
    image = load_image(media_dir / "pair.jpg")
    scanner = Scanner(gallery)
    engine, fusion = face_engine(), operating.fusion()
    rows = engine.detect(image)
    assert len(rows) >= 2
    for row in rows:
        sface = engine.embed(engine.align(image, row))
        dlib = dlib_embedder().embed(image, row)
        full = {
            label: float(np.max(fusion.score(refs_s @ sface, refs_d @ dlib)))
            for label, (refs_s, refs_d) in gallery.face_pairs.items()
        }
        best = max(full, key=lambda k: full[k])
        label, score = scanner.identify(image, row)
        assert label == (best if full[best] >= gallery.face_threshold else None)
        if label is not None:
            assert score >= gallery.face_threshold


def test_gallery_refuses_vectors_of_neither_shape() -> None:
    with pytest.raises(ValueError, match="floats"):
        Gallery.build({OBAMA.id: OBAMA}, [(OBAMA.id, np.ones(3 * EMBEDDING_DIM, dtype=np.float32))])


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


def test_video_faces_are_detected_beside_the_decoder(
    gallery: Gallery, media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Detection runs in the decoding thread, so it overlaps with embedding in the scanning thread.
    face = _letterbox(cv2.imread(str(media_dir / "obama_probe.jpg")))
    video = make_video(tmp_path / "short.mp4", [face], seconds_each=2.0, fps=5)
    engine = face_engine()
    detected_in: list[str] = []
    identified_in: list[str] = []
    detect, identify = type(engine).detect, Scanner.identify

    def detect_here(self: FaceEngine, image: np.ndarray, **kw: Any) -> list[np.ndarray]:
        detected_in.append(threading.current_thread().name)
        return detect(self, image, **kw)

    def identify_here(self: Scanner, image: np.ndarray, row: np.ndarray) -> tuple[uuid.UUID | None, float]:
        identified_in.append(threading.current_thread().name)
        return identify(self, image, row)

    monkeypatch.setattr(type(engine), "detect", detect_here)
    monkeypatch.setattr(Scanner, "identify", identify_here)
    result = Scanner(gallery).scan(video)
    assert [m["performer"]["ref"] for m in result.matches] == ["SAG-1"]
    assert len(detected_in) >= 2 and set(detected_in) == {"video-decode"}
    assert identified_in == [threading.current_thread().name]


LFW = Path(__file__).resolve().parents[3].parent / "shared" / "media" / "lfw" / "images"


def _one_person_gallery(photo: Path) -> tuple[Gallery, GalleryPerformer]:
    me = GalleryPerformer(uuid.uuid4(), "LFW-1")
    vector = reference_embedding(load_image(photo))
    assert vector is not None
    return Gallery.build({me.id: me}, [(me.id, vector)]), me


def _sface_alone(gallery: Gallery, image: np.ndarray) -> float:
    engine = face_engine()
    return max(
        float(np.max(gallery.face.search(engine.embed(engine.align(image, row))[None, :], 1)[0][0].score))
        for row in engine.detect(image)
    )


def test_dlib_lifts_a_genuine_face_sface_alone_would_miss() -> None:
    # LFW View 2 genuine pair: SFace scores it in the band under the threshold; dlib is sure.
    gallery, me = _one_person_gallery(LFW / "Steve_Ballmer" / "Steve_Ballmer_0001.jpg")
    probe = load_image(LFW / "Steve_Ballmer" / "Steve_Ballmer_0003.jpg")
    assert gallery.face_threshold - gallery.fusion.lift <= _sface_alone(gallery, probe) < gallery.face_threshold
    found = Scanner(gallery).faces_in(probe)
    assert [label for label, _, _ in found] == [me.id]
    assert found[0][1] >= gallery.face_threshold


def test_dlib_drops_an_impostor_sface_alone_would_accept() -> None:
    # LFW View 2 impostor pair: SFace alone is just over the threshold; dlib says different people.
    gallery, _ = _one_person_gallery(LFW / "Colleen_OClair" / "Colleen_OClair_0001.jpg")
    probe = load_image(LFW / "Tom_Hanusik" / "Tom_Hanusik_0001.jpg")
    assert _sface_alone(gallery, probe) >= gallery.face_threshold
    assert Scanner(gallery).faces_in(probe) == []


def test_video_segment_ends_when_the_face_leaves(tmp_path: Path) -> None:
    # A on screen for 0-2.6 s, B for 2.6-4.0 s. Sampling analyses 0, 1, 2, then the cut at 2.6: a
    # segment runs until the face was first no longer seen (the cut), or to the video's end.
    a, b = GalleryPerformer(uuid.uuid4(), "A"), GalleryPerformer(uuid.uuid4(), "B")
    a_photo, b_photo = (
        LFW / "Steve_Ballmer" / "Steve_Ballmer_0001.jpg",
        LFW / "Colleen_OClair" / "Colleen_OClair_0001.jpg",
    )
    refs = [(who.id, reference_embedding(load_image(photo))) for who, photo in ((a, a_photo), (b, b_photo))]
    assert all(v is not None for _, v in refs)
    gallery = Gallery.build({a.id: a, b.id: b}, refs)  # type: ignore[arg-type]
    shown_a = _letterbox(cv2.imread(str(LFW / "Steve_Ballmer" / "Steve_Ballmer_0002.jpg")))
    shown_b = _letterbox(cv2.imread(str(b_photo)))
    video = make_video(tmp_path / "cut.mp4", [shown_a] * 13 + [shown_b] * 7, seconds_each=0.2)
    for all_frames in (False, True):
        result = Scanner(gallery, all_frames=all_frames).scan(video)
        spans = {m["performer"]["ref"]: (m["start"], m["end"]) for m in result.matches}
        assert set(spans) == {"A", "B"}, result.matches
        assert spans["A"][0] == 0.0 and spans["A"][1] == pytest.approx(2.6, abs=0.1)
        assert spans["B"][0] == pytest.approx(2.6, abs=0.1) and spans["B"][1] == pytest.approx(4.0, abs=0.1)


def test_segments_merge_across_gaps_and_end_at_the_next_analysed_frame() -> None:
    me = GalleryPerformer(uuid.uuid4(), None)
    scanner = Scanner(Gallery.build({me.id: me}, []))
    analysed = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]

    def spans(seen: list[float], end: float | None = 7.5) -> list[tuple[float, float]]:
        out = scanner._segments([(me.id, t, 0.5) for t in seen], Modality.FACE, analysed, end)
        return [(m["start"], m["end"]) for m in out]

    assert spans([0.0, 1.0, 2.0, 4.0]) == [(0.0, 5.0)]  # a 2 s gap: one segment
    assert spans([0.0, 1.0, 5.0, 6.0]) == [(0.0, 2.0), (5.0, 7.0)]  # a 4 s gap: two
    assert spans([6.0, 7.0]) == [(6.0, 7.5)]  # seen in the last analysed frame: to the video's end
    assert spans([7.0], end=None) == [(7.0, 7.0)]
