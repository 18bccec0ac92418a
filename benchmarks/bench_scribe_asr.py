"""Word error rate of the offline dictation transcriber on synthesised speech.

Each line of ``benchmarks/data/scribe/dictations.txt`` is spoken by espeak-ng (Debian
package) into a WAV file, transcribed by :func:`dynaspine.scribe.transcribe` (faster-whisper,
Whisper tiny.en int8 on the CPU) and scored against the line.

WER = (substitutions + deletions + insertions) / reference words, from a word-level
Levenshtein alignment (Levenshtein VI. Binary codes capable of correcting deletions,
insertions, and reversals. Soviet Physics Doklady 1966;10:707-710), summed over all
dictations. Both texts are normalised the same way first: lower case; hyphens and slashes
become spaces; letters and digits are split ("l4" -> "l 4"); number words zero..twenty
become digits; "millimeters"/"millimetres" -> "mm"; other punctuation is removed.

Run: ``python benchmarks/bench_scribe_asr.py [--no-prompt] [--show]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

DATA = Path(__file__).parent / "data" / "scribe" / "dictations.txt"
_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_UNITS = {"millimeters": "mm", "millimetres": "mm", "millimeter": "mm", "degrees": "degrees"}


def normalise(text: str) -> list[str]:
    """Words of ``text`` after the normalisation described in the module docstring."""
    text = text.lower().replace("-", " ").replace("/", " ")
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = []
    for w in text.split():
        if w in _NUMBERS:
            w = str(_NUMBERS.index(w))
        words.append(_UNITS.get(w, w))
    return words


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitution, deletion, insertion cost 1)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-prompt", action="store_true", help="transcribe without the spine prompt"
    )
    parser.add_argument("--show", action="store_true", help="print each reference and hypothesis")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice (default en-us)")
    parser.add_argument("--speed", type=int, default=130, help="espeak-ng words per minute")
    parser.add_argument(
        "--gap", type=int, default=4, help="espeak-ng pause between words (10 ms units)"
    )
    parser.add_argument("--no-correct", action="store_true", help="skip the vocabulary respelling")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    from dynaspine.scribe import transcribe

    rows = [
        x.split("\t", 1)
        for x in DATA.read_text("utf-8").splitlines()
        if x.strip() and not x.startswith("#")
    ]
    errors: Counter[str] = Counter()
    words: Counter[str] = Counter()
    count: Counter[str] = Counter()
    audio_s = compute_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (split, ref) in enumerate(rows):
            wav = Path(tmp) / f"d{i:02d}.wav"
            subprocess.run(
                [
                    "espeak-ng",
                    "-v",
                    args.voice,
                    "-s",
                    str(args.speed),
                    "-g",
                    str(args.gap),
                    "-w",
                    str(wav),
                    ref,
                ],
                check=True,
                capture_output=True,
            )
            t0 = time.perf_counter()
            tr = transcribe(wav, prompt="" if args.no_prompt else None, correct=not args.no_correct)
            compute_s += time.perf_counter() - t0
            audio_s += tr.duration_s
            r, h = normalise(ref), normalise(tr.text)
            e = edit_distance(r, h)
            for key in (split, "all"):
                errors[key] += e
                words[key] += len(r)
                count[key] += 1
            if args.show:
                print(
                    f"[{i:02d} {split}] WER {e / len(r):.3f}\n  REF: {' '.join(r)}\n  HYP: {' '.join(h)}"
                )
    print("| split | dictations | reference words | word errors | WER |")
    print("|---|---|---|---|---|")
    for key in ("dev", "heldout", "all"):
        print(
            f"| {key} | {count[key]} | {words[key]} | {errors[key]} | {errors[key] / max(1, words[key]):.3f} |"
        )
    print(
        f"\naudio {audio_s:.1f} s transcribed in {compute_s:.1f} s ({audio_s / compute_s:.1f}x real time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
