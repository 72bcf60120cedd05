"""The bridge to the voice embedder (:mod:`likeness_ledger.detection.voice`, built alongside).

Face scanning must work whether or not the voice side can load (it needs torch and the ECAPA
weights). This module imports it lazily, once, and reports why voice is unavailable instead of
failing the scan. It uses the voice module's API: ``VoiceEmbedder.load()``, ``embed``,
``embed_segments``, ``model_id``, ``sample_rate``, ``threshold_for_gallery`` and ``merge_matches``.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class VoiceBackend:
    """The loaded voice module and embedder."""

    module: Any
    embedder: Any

    @property
    def model(self) -> str:
        """Stable model name stored beside enrolled voice vectors."""
        return str(self.embedder.model_id)

    @property
    def sample_rate(self) -> int:
        """The rate the network runs at (audio is decoded straight to it)."""
        return int(self.embedder.sample_rate)

    def threshold(self, gallery_size: int) -> float:
        """The voice operating point for a gallery of ``gallery_size`` references (FPIR <= 1 %)."""
        return float(self.module.threshold_for_gallery(max(1, gallery_size)))

    def embed(self, samples: Vector, sample_rate: int) -> Vector:
        """One unit vector for a whole clip."""
        return np.asarray(self.embedder.embed(samples, sample_rate), dtype=np.float32).reshape(-1)

    def segments(self, samples: Vector, sample_rate: int) -> list[tuple[float, float, Vector]]:
        """``(start, end, vector)`` for the speech windows of a clip."""
        return [
            (float(s), float(e), np.asarray(v, dtype=np.float32))
            for s, e, v in self.embedder.embed_segments(samples, sample_rate)
        ]

    def merge(self, windows: list[tuple[float, float, float]], threshold: float) -> list[tuple[float, float, float]]:
        """Matching windows of one performer folded into ``(start, end, best score)`` spans."""
        return [(float(a), float(b), float(c)) for a, b, c in self.module.merge_matches(windows, threshold)]


_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def backend() -> VoiceBackend | None:
    """The voice backend, or None when the voice module or its runtime cannot load."""
    with _LOCK:
        if "backend" in _STATE:
            found: VoiceBackend | None = _STATE["backend"]
            return found
        try:
            module = importlib.import_module("likeness_ledger.detection.voice")
            embedder = module.VoiceEmbedder.load()
        except Exception as exc:  # any failure to load voice only disables voice, never the face scan
            _STATE["backend"] = None
            _STATE["reason"] = f"voice scanning unavailable ({exc.__class__.__name__}: {exc})"
            return None
        _STATE["backend"] = VoiceBackend(module=module, embedder=embedder)
        return _STATE["backend"]  # type: ignore[no-any-return]


def unavailable_reason() -> str | None:
    """Why voice is off, after :func:`backend` returned None."""
    backend()
    reason: str | None = _STATE.get("reason")
    return reason
