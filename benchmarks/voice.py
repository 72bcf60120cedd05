"""Voice benchmark: open-set identification, verification EER, robustness and speed of the voice embedder.

Data: LibriSpeech test-other speakers in ../shared/media/voice (or --data). Protocol:

* References: one utterance per enrolled speaker (rotated over the speaker's utterances).
* Probes: the 3 s / 1.5 s-hop windows that ``VoiceEmbedder.embed_segments`` yields, i.e. exactly what
  a scan compares. Mated probes are windows of the enrolled speakers' other utterances; non-mated
  probes are all windows of speakers left out of the gallery (distractors).
* For every split of the speakers into ``--enrolled`` enrolled and the rest distractors (all splits,
  or ``--splits`` random ones), and every choice of reference utterance: FPIR(t) = share of non-mated
  probes whose best gallery score is >= t; TPIR(t) = share of mated probes whose best match is the
  right speaker with score >= t.
* Extra distractors (labelled): speed-perturbed copies (x0.9, x1.1: pitch and tempo change, the
  Kaldi convention for new pseudo-speakers) of the distractor speakers, never of enrolled ones.
* Robustness ("a cloned voice counts as its person" — we have no clones): mated probes built from
  tempo-changed (pitch kept), pitch-shifted (tempo kept), MP3 32 kb/s, Opus 16 kb/s and 8 kHz
  telephone-band copies of the enrolled speakers' other utterances; TPIR at the shipped threshold.
* Verification EER over all utterance pairs and over window-vs-reference pairs.
* Baseline in the same run: MFCC mean+std vectors (20 coefficients from the same log-mel front end,
  standardised over the set) compared by cosine.
* Speed: seconds of audio per CPU second for ``embed_segments``, and the time to embed 10 s with
  each runtime (PyTorch, ONNX Runtime) on 1 and 2 threads, with the features / network split
  (``--speed-only`` runs just this part).

Run:  .venv/bin/python benchmarks/voice.py [--enrolled 5] [--splits 0] [--runtime auto] [--json out.json]
      .venv/bin/python benchmarks/voice.py --speed-only
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from likeness_ledger.detection import voice
from likeness_ledger.detection._voice_ecapa import FilterBank

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "media" / "voice" / "librispeech_test-other"
SR = voice.SAMPLE_RATE


# ---------------------------------------------------------------------------------------------- audio


def _filter(samples: np.ndarray, chain: list[tuple[str, str]]) -> np.ndarray:
    """Run mono float32 16 kHz audio through an FFmpeg filter chain (tempo, pitch) and back to 16 kHz."""
    graph = av.filter.Graph()
    node = graph.add_abuffer(format="flt", sample_rate=SR, layout="mono", time_base=Fraction(1, SR))
    first = node
    for name, args in [*chain, ("aresample", str(SR)), ("aformat", "sample_fmts=flt:channel_layouts=mono")]:
        nxt = graph.add(name, args)
        node.link_to(nxt)
        node = nxt
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = SR
    frame.pts = 0
    frame.time_base = Fraction(1, SR)
    first.push(frame)
    first.push(None)
    out = []
    while True:
        try:
            out.append(sink.pull().to_ndarray().reshape(-1))
        except (av.error.BlockingIOError, av.error.EOFError):
            break
    return np.concatenate(out).astype(np.float32)


def tempo(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: _filter(x, [("atempo", f"{factor}")])


def pitch(semitones: float) -> Callable[[np.ndarray], np.ndarray]:
    f = 2.0 ** (semitones / 12.0)
    return lambda x: _filter(x, [("asetrate", f"{round(SR * f)}"), ("aresample", str(SR)), ("atempo", f"{1 / f}")])


def speed(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: _filter(x, [("asetrate", f"{round(SR * factor)}")])


def reencode(codec: str, fmt: str, bit_rate: int, rate: int) -> Callable[[np.ndarray], np.ndarray]:
    def run(x: np.ndarray) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"clip.{fmt}"
            audio = voice.resample(x, SR, rate)
            with av.open(str(path), "w", format=fmt) as out:
                stream = out.add_stream(codec, rate=rate, layout="mono")
                stream.bit_rate = bit_rate
                frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = rate
                for packet in stream.encode(frame):
                    out.mux(packet)
                for packet in stream.encode(None):
                    out.mux(packet)
            decoded, _ = voice.load_audio(path, sample_rate=SR)
        return decoded

    return run


def telephone(x: np.ndarray) -> np.ndarray:
    return voice.resample(voice.resample(x, SR, 8000), 8000, SR)


# -------------------------------------------------------------------------------------------- metrics


def eer(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """Equal error rate and the threshold where it occurs."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    best = (1.0, 0.0)
    gap = 2.0
    for t in thresholds:
        frr = float(np.mean(genuine < t))
        far = float(np.mean(impostor >= t))
        if abs(frr - far) < gap:
            gap = abs(frr - far)
            best = ((frr + far) / 2, float(t))
    return best


def open_set(
    scores: np.ndarray,
    probe_spk: np.ndarray,
    probe_utt: np.ndarray,
    probe_distractor_only: np.ndarray,
    speakers: list[str],
    n_utts: dict[str, int],
    enrolled_sets: list[tuple[str, ...]],
    thresholds: np.ndarray,
) -> dict[str, np.ndarray]:
    """FPIR and TPIR per threshold, pooled over splits and reference choices.

    ``scores[p, (s, u)]``: similarity of probe p to the reference made from utterance u of speaker s,
    flattened in the column order of ``ref_index``.
    """
    fp = np.zeros(thresholds.size)
    tp = np.zeros(thresholds.size)
    n_fp = 0
    n_tp = 0
    spk_index = {s: i for i, s in enumerate(speakers)}
    max_utts = max(n_utts.values())
    for enrolled in enrolled_sets:
        enrolled_idx = [spk_index[s] for s in enrolled]
        for ref_u in range(max_utts):
            cols = [si * max_utts + ref_u for si in enrolled_idx if ref_u < n_utts[speakers[si]]]
            col_spk = np.array([si for si in enrolled_idx if ref_u < n_utts[speakers[si]]])
            sub = scores[:, cols]
            best = sub.max(axis=1)
            arg = col_spk[sub.argmax(axis=1)]
            is_enrolled = np.isin(probe_spk, col_spk)
            mated = is_enrolled & (probe_utt != ref_u) & ~probe_distractor_only
            non_mated = ~np.isin(probe_spk, enrolled_idx)
            fp += (best[non_mated][:, None] >= thresholds[None, :]).sum(axis=0)
            n_fp += int(non_mated.sum())
            correct = arg[mated] == probe_spk[mated]
            tp += ((best[mated][:, None] >= thresholds[None, :]) & correct[:, None]).sum(axis=0)
            n_tp += int(mated.sum())
    return {"fpir": fp / max(1, n_fp), "tpir": tp / max(1, n_tp), "n_non_mated": n_fp, "n_mated": n_tp}


def mfcc_vectors(clips: list[np.ndarray]) -> np.ndarray:
    """Baseline: mean and std of 20 MFCCs (DCT-II of the same 80 log-mels), standardised over the set."""
    fbank = FilterBank()
    n = np.arange(80)
    dct = np.cos(np.pi / 80 * (n[None, :] + 0.5) * np.arange(20)[:, None])
    rows = []
    with torch.inference_mode():
        for clip in clips:
            wav = torch.from_numpy(clip).reshape(1, -1)
            spec = torch.stft(
                wav, 400, 160, 400, fbank.window, center=True, return_complex=True
            )  # raw log-mel (not mean-normalised), so the MFCC means carry the voice's spectral envelope
            power = (spec.real.square() + spec.imag.square()).transpose(1, 2) @ fbank.mel
            logmel = torch.log10(power.clamp(min=1e-10))[0].numpy()
            mfcc = logmel @ dct.T
            rows.append(np.concatenate([mfcc.mean(axis=0), mfcc.std(axis=0)]))
    matrix = np.array(rows)
    matrix = (matrix - matrix.mean(axis=0)) / (matrix.std(axis=0) + 1e-9)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# ----------------------------------------------------------------------------------------------- main


def _ten_seconds() -> np.ndarray:
    """10 s of speech: the first utterances of the data set, back to back."""
    clips = [voice.load_audio(f, sample_rate=SR)[0] for f in sorted(DEFAULT_DATA.glob("*/*.flac"))[:6]]
    return np.concatenate(clips)[: 10 * SR]


def speed_report(default_threads: int, rounds: int = 7) -> dict[str, object]:
    """Time to embed 10 s of audio, per runtime and thread count, and where the time goes.

    Thread counts: torch's via ``torch.set_num_threads``, ONNX Runtime's in its session (its features
    stay in torch on one thread, 0.4 % of the work). The four set-ups take turns, ``rounds`` times
    after a warm-up, so a change in the machine's load hits them alike; medians are reported.
    """
    ten = _ten_seconds()
    out: dict[str, object] = {
        "audio_s": 10.0,
        "cpu_count": os.cpu_count(),
        "load_average_1min_start": os.getloadavg()[0],
    }
    torch.set_num_threads(1)
    torch_embedder = voice.VoiceEmbedder.build(runtime="torch")
    ort_embedders = {t: voice.VoiceEmbedder.build(runtime="onnxruntime", threads=t) for t in (1, 2)}
    setups: dict[str, tuple[int, voice.VoiceEmbedder]] = {
        "torch_1_thread": (1, torch_embedder),
        "onnxruntime_1_thread": (1, ort_embedders[1]),
        "torch_2_threads": (2, torch_embedder),
        "onnxruntime_2_threads": (1, ort_embedders[2]),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in setups}
    for round_ in range(rounds + 1):
        for name, (torch_threads, embedder) in setups.items():
            torch.set_num_threads(torch_threads)
            w, c = time.perf_counter(), time.process_time()
            embedder.embed(ten, SR)
            if round_:  # the first round is the warm-up
                times[name].append((time.perf_counter() - w, time.process_time() - c))
    for name, pairs in times.items():
        out[f"{name}_s"] = {
            "wall": round(statistics.median(w for w, _ in pairs), 3),
            "cpu": round(statistics.median(c for _, c in pairs), 3),
        }
    torch.set_num_threads(1)
    wavs = torch.from_numpy(ten[None, :])
    encoder = torch_embedder._encoder  # the profile needs the two parts apart
    with torch.inference_mode():
        c = time.process_time()
        features = encoder.features(wavs)
        out["features_ms_cpu"] = round(1000 * (time.process_time() - c), 1)
        c = time.process_time()
        encoder.embedding_model(features)
        out["torch_network_1_thread_s_cpu"] = round(time.process_time() - c, 3)
    out["cosine_onnxruntime_vs_torch"] = round(
        voice.cosine(ort_embedders[1].embed(ten, SR), torch_embedder.embed(ten, SR)), 7
    )
    torch.set_num_threads(default_threads)
    out["load_average_1min_end"] = os.getloadavg()[0]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of <speaker>/<utt>.flac")
    parser.add_argument("--enrolled", type=int, default=5, help="speakers enrolled per split")
    parser.add_argument("--splits", type=int, default=0, help="random splits (0 = all combinations)")
    parser.add_argument("--window", type=float, default=3.0)
    parser.add_argument("--hop", type=float, default=1.5)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-robustness", action="store_true", help="skip the perturbed-copy probes")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for the bulk passes (0 = the runtime's default)"
    )
    parser.add_argument("--runtime", choices=voice.RUNTIMES, default="auto", help="network runtime (bulk passes)")
    parser.add_argument("--speed-only", action="store_true", help="only the speed figures (10 s embeds)")
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    if args.speed_only:
        text = json.dumps(speed_report(default_threads), indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    # Perturbed copies are embedded with non-overlapping windows: half the work, same kind of probe.
    aug_hop = args.window

    started = time.perf_counter()
    load_t = time.perf_counter()
    embedder = voice.VoiceEmbedder.build(runtime=args.runtime, threads=args.threads)
    load_s = time.perf_counter() - load_t

    speakers = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    audio: dict[str, list[np.ndarray]] = {}
    for spk in speakers:
        audio[spk] = [voice.load_audio(f, sample_rate=SR)[0] for f in sorted((args.data / spk).glob("*.flac"))]
    n_utts = {s: len(audio[s]) for s in speakers}
    max_utts = max(n_utts.values())
    total_audio_s = sum(len(c) for clips in audio.values() for c in clips) / SR
    n_total = sum(n_utts.values())
    print(f"{len(speakers)} speakers, {n_total} utterances, {total_audio_s:.0f} s of audio", file=sys.stderr)

    # References: whole-utterance embeddings; column (speaker i, utterance u) = i * max_utts + u.
    refs = np.zeros((len(speakers) * max_utts, embedder.dimension), dtype=np.float32)
    for i, spk in enumerate(speakers):
        for u, clip in enumerate(audio[spk]):
            refs[i * max_utts + u] = embedder.embed(clip, SR)

    # Probe windows (and the CPU time they take: this is the scan's own work).
    probe_vecs: list[np.ndarray] = []
    probe_spk: list[int] = []
    probe_utt: list[int] = []
    probe_kind: list[str] = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    for i, spk in enumerate(speakers):
        for u, clip in enumerate(audio[spk]):
            for _s, _e, vec in embedder.embed_segments(clip, SR, window_s=args.window, hop_s=args.hop):
                probe_vecs.append(vec)
                probe_spk.append(i)
                probe_utt.append(u)
                probe_kind.append("clean")
    seg_cpu = time.process_time() - cpu0
    seg_wall = time.perf_counter() - wall0
    n_clean = len(probe_vecs)

    print(f"clean windows: {n_clean} in {seg_wall:.0f} s", file=sys.stderr)
    # Speed-perturbed pseudo-speakers: used only as distractors (never compared with their source).
    for i, spk in enumerate(speakers):
        for factor in (0.9, 1.1):
            for u, clip in enumerate(audio[spk]):
                perturbed = speed(factor)(clip)
                for _s, _e, vec in embedder.embed_segments(perturbed, SR, window_s=args.window, hop_s=aug_hop):
                    probe_vecs.append(vec)
                    probe_spk.append(i)
                    probe_utt.append(u)
                    probe_kind.append(f"speed{factor}")

    robustness = {
        "tempo x0.9 (pitch kept)": tempo(0.9),
        "tempo x1.1 (pitch kept)": tempo(1.1),
        "pitch -1 semitone (tempo kept)": pitch(-1),
        "pitch +1 semitone (tempo kept)": pitch(1),
        "pitch -2 semitones (tempo kept)": pitch(-2),
        "pitch +2 semitones (tempo kept)": pitch(2),
        "MP3 32 kb/s": reencode("libmp3lame", "mp3", 32_000, SR),
        "Opus 16 kb/s": reencode("libopus", "ogg", 16_000, 48_000),
        "telephone band (8 kHz)": telephone,
    }
    if args.no_robustness:
        robustness = {}
    for name, transform in robustness.items():
        print(f"robustness: {name}", file=sys.stderr)
        for i, spk in enumerate(speakers):
            for u, clip in enumerate(audio[spk]):
                for _s, _e, vec in embedder.embed_segments(transform(clip), SR, window_s=args.window, hop_s=aug_hop):
                    probe_vecs.append(vec)
                    probe_spk.append(i)
                    probe_utt.append(u)
                    probe_kind.append(name)

    vecs = np.array(probe_vecs)
    spk_arr = np.array(probe_spk)
    utt_arr = np.array(probe_utt)
    kind_arr = np.array(probe_kind)
    scores = vecs @ refs.T
    for i, spk in enumerate(speakers):  # columns for missing utterances never win
        scores[:, [i * max_utts + u for u in range(n_utts[spk], max_utts)]] = -2.0

    # Impostor model for the operating point: clean windows against other speakers' references.
    clean = kind_arr == "clean"
    impostor = np.concatenate(
        [
            scores[clean & (spk_arr != i)][:, [i * max_utts + u for u in range(n_utts[s])]].ravel()
            for i, s in enumerate(speakers)
        ]
    )
    genuine = np.concatenate(
        [
            scores[clean & (spk_arr == i) & (utt_arr == u), i * max_utts + u2]
            for i, s in enumerate(speakers)
            for u in range(n_utts[s])
            for u2 in range(n_utts[s])
            if u2 != u
        ]
    )
    mu, sigma = float(impostor.mean()), float(impostor.std())
    # Tail model for threshold_for_gallery: peaks over a high quantile are close to exponential, so
    # FAR(t) = p0 * exp(-(t - t0) / beta) above t0. The pool adds the speed-perturbed pseudo-speakers'
    # windows against every other speaker's references (never their own source's).
    pseudo_mask = np.char.startswith(kind_arr.astype(str), "speed")
    pool = np.concatenate(
        [
            scores[(clean | pseudo_mask) & (spk_arr != i)][:, [i * max_utts + u for u in range(n_utts[s])]].ravel()
            for i, s in enumerate(speakers)
        ]
    )
    t0 = float(np.quantile(pool, 0.98))
    p0 = float(np.mean(pool > t0))
    beta = float((pool[pool > t0] - t0).mean())

    def fitted(n: int) -> float:
        budget = voice.TARGET_FPIR / n
        return t0 if budget >= p0 else t0 + beta * float(np.log(p0 / budget))

    if args.splits:
        rng = random.Random(7)
        enrolled_sets = [tuple(sorted(rng.sample(speakers, args.enrolled))) for _ in range(args.splits)]
    else:
        enrolled_sets = list(itertools.combinations(speakers, args.enrolled))
    thresholds = np.round(np.arange(0.0, 0.8001, 0.005), 3)

    def evaluate(include: np.ndarray, distractor_only: np.ndarray) -> dict[str, np.ndarray]:
        return open_set(
            scores[include],
            spk_arr[include],
            utt_arr[include],
            distractor_only[include],
            speakers,
            n_utts,
            enrolled_sets,
            thresholds,
        )

    base = evaluate(clean, np.zeros(len(kind_arr), dtype=bool))
    pseudo = np.char.startswith(kind_arr.astype(str), "speed")
    with_pseudo = evaluate(clean | pseudo, pseudo)

    def at(result: dict[str, np.ndarray], t: float) -> tuple[float, float]:
        k = int(np.argmin(np.abs(thresholds - t)))
        return float(result["fpir"][k]), float(result["tpir"][k])

    def best_at_fpir(result: dict[str, np.ndarray], target: float) -> tuple[float, float]:
        ok = np.where(result["fpir"] <= target)[0]
        k = int(ok[0]) if ok.size else thresholds.size - 1
        return float(thresholds[k]), float(result["tpir"][k])

    shipped = voice.threshold_for_gallery(args.enrolled)
    report: dict[str, object] = {
        "speakers": len(speakers),
        "utterances": sum(n_utts.values()),
        "audio_s": round(total_audio_s, 1),
        "enrolled_per_split": args.enrolled,
        "splits": len(enrolled_sets),
        "probe_windows_clean": n_clean,
        "mated_probes": base["n_mated"],
        "non_mated_probes": base["n_non_mated"],
        "impostor_window_pairs": int(impostor.size),
        "impostor_mean": round(mu, 4),
        "impostor_std": round(sigma, 4),
        "impostor_max": round(float(impostor.max()), 4),
        "genuine_window_min": round(float(genuine.min()), 4),
        "genuine_window_p05": round(float(np.percentile(genuine, 5)), 4),
        "shipped_threshold": shipped,
        "default_threshold": voice.DEFAULT_VOICE_THRESHOLD,
    }
    report["tail_fit"] = {
        "pool_pairs": int(pool.size),
        "t0": round(t0, 4),
        "p0": round(p0, 5),
        "beta": round(beta, 4),
        "pool_max": round(float(pool.max()), 4),
    }
    report["gallery_thresholds"] = {
        str(n): {"fitted": round(fitted(n), 3), "shipped": voice.threshold_for_gallery(n)}
        for n in (1, 5, 10, 100, 1_000, 10_000, 160_000)
    }
    report["ecapa_at_gallery_thresholds"] = {
        str(n): dict(zip(("fpir", "tpir"), at(base, voice.threshold_for_gallery(n)), strict=True))
        | {"fpir_with_pseudo": at(with_pseudo, voice.threshold_for_gallery(n))[0]}
        for n in (5, 100, 1_000, 10_000, 160_000)
    }
    fpir, tpir = at(base, shipped)
    report["ecapa_at_shipped"] = {"fpir": fpir, "tpir": tpir}
    t1, tp1 = best_at_fpir(base, 0.01)
    report["ecapa_tpir_at_fpir_1pct"] = {"threshold": t1, "tpir": tp1}
    fpir_p, tpir_p = at(with_pseudo, shipped)
    report["ecapa_with_pseudo_distractors_at_shipped"] = {
        "fpir": fpir_p,
        "tpir": tpir_p,
        "non_mated_probes": with_pseudo["n_non_mated"],
    }
    report["ecapa_threshold_curve"] = [
        {"t": float(t), "fpir": float(f), "tpir": float(p)}
        for t, f, p in zip(thresholds, base["fpir"], base["tpir"], strict=True)
        if 0.2 <= t <= 0.7 and round(float(t) * 1000) % 25 == 0
    ]

    # Robustness: mated probes from transformed copies, distractors as in the clean run.
    rob: dict[str, dict[str, float]] = {}
    for name in robustness:
        include = clean | (kind_arr == name)
        # Transformed windows are the mated probes; clean windows only serve as distractors.
        res = open_set(
            scores[include],
            spk_arr[include],
            utt_arr[include],
            clean[include],
            speakers,
            n_utts,
            enrolled_sets,
            thresholds,
        )
        _f, tp = at(res, shipped)
        rob[name] = {"tpir_at_shipped": tp, "mated_probes": float(res["n_mated"])}
    report["robustness"] = rob

    # Verification EER: utterance pairs and window-vs-reference pairs.
    utt_vecs = [(i, refs[i * max_utts + u]) for i, s in enumerate(speakers) for u in range(n_utts[s])]
    gen_u, imp_u = [], []
    for (i, a), (j, b) in itertools.combinations(utt_vecs, 2):
        (gen_u if i == j else imp_u).append(float(a @ b))
    report["ecapa_eer_utterance_pairs"] = dict(
        zip(("eer", "threshold"), eer(np.array(gen_u), np.array(imp_u)), strict=True)
    ) | {"genuine": len(gen_u), "impostor": len(imp_u)}
    report["ecapa_eer_window_pairs"] = dict(zip(("eer", "threshold"), eer(genuine, impostor), strict=True)) | {
        "genuine": int(genuine.size),
        "impostor": int(impostor.size),
    }

    # Baseline: MFCC mean+std, same utterances and same windows.
    clips = [clip for s in speakers for clip in audio[s]]
    labels = [i for i, s in enumerate(speakers) for _ in audio[s]]
    base_vecs = mfcc_vectors(clips)
    gen_b, imp_b = [], []
    for a, b in itertools.combinations(range(len(clips)), 2):
        (gen_b if labels[a] == labels[b] else imp_b).append(float(base_vecs[a] @ base_vecs[b]))
    report["mfcc_eer_utterance_pairs"] = dict(
        zip(("eer", "threshold"), eer(np.array(gen_b), np.array(imp_b)), strict=True)
    )
    # Open-set with the baseline on windows, so both models face the same protocol.
    win_clips: list[np.ndarray] = []
    win_spk: list[int] = []
    win_utt: list[int] = []
    for i, s in enumerate(speakers):
        for u, clip in enumerate(audio[s]):
            step, size = round(args.hop * SR), round(args.window * SR)
            for start in range(0, max(1, len(clip) - size + 1), step):
                win_clips.append(clip[start : start + size])
                win_spk.append(i)
                win_utt.append(u)
    all_b = mfcc_vectors(clips + win_clips)
    ref_b = np.full((len(speakers) * max_utts, all_b.shape[1]), 0.0)
    k = 0
    for i, s in enumerate(speakers):
        for u in range(n_utts[s]):
            ref_b[i * max_utts + u] = all_b[k]
            k += 1
    sc_b = all_b[len(clips) :] @ ref_b.T
    for i, s in enumerate(speakers):
        sc_b[:, [i * max_utts + u for u in range(n_utts[s], max_utts)]] = -2.0
    base_b = open_set(
        sc_b,
        np.array(win_spk),
        np.array(win_utt),
        np.zeros(len(win_spk), dtype=bool),
        speakers,
        n_utts,
        enrolled_sets,
        thresholds,
    )
    tb, tpb = best_at_fpir(base_b, 0.01)
    report["mfcc_tpir_at_fpir_1pct"] = {"threshold": tb, "tpir": tpb}

    report["runtime"] = embedder.runtime
    report |= speed_report(default_threads)
    report["segments_audio_s_per_cpu_s"] = round(total_audio_s / seg_cpu, 2)
    report["segments_audio_s_per_wall_s"] = round(total_audio_s / seg_wall, 2)
    report["load_s"] = round(load_s, 2)
    report["load_average_1min"] = round(os.getloadavg()[0], 2)
    report["total_s"] = round(time.perf_counter() - started, 1)

    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
