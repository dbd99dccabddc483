"""Markers and answer sentences: reading a generated answer's ``[n]`` markers in whatever form a small model
writes them, and cutting the answer into the sentences each check looks at."""

from __future__ import annotations

import re

from assistant.answer.citations import MARKER, marker_label, strip_markers

# "[1, 2]", "[1،2]", "[Passage 2]", "[المقطع ٢]" and Arabic-Indic digits are normalised to "[1] [2]".
_MARKER_LIST = re.compile(
    r"\[\s*(?:passages?|المقطعان|المقطع|مقطع)?\s*(\d{1,2}(?:\s*(?:[,،و]|and)\s*\d{1,2})*)\s*\]",
    re.IGNORECASE)
# A marker written after the sentence's full stop belongs to that sentence: "reasons. [1]" -> "reasons [1]."
_MARKER_AFTER_STOP = re.compile(r"([.!?؟])((?:\s*\[\d{1,2}\])+)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?؟])\s+|\n+")
_CHAT_ARTEFACTS = re.compile(r"<\|[^|>]*\|>|</?s>")


def strip_chat_artefacts(text: str) -> str:
    """``text`` without chat-template tokens (``<|im_end|>``, ``</s>``) a model may leave in its output."""
    return _CHAT_ARTEFACTS.sub("", text)


def normalise_markers(text: str) -> str:
    """Markers in one form, ``[n]``, each placed before the full stop of the sentence it supports."""
    def expand(match: re.Match[str]) -> str:
        numbers = re.findall(r"\d{1,2}", match.group(1))
        return marker_label([int(n) for n in numbers])

    text = _MARKER_LIST.sub(expand, text)
    text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer; a piece that is only markers joins the sentence before it."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and not re.search(r"\w", MARKER.sub("", piece)):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def without_markers(text: str, keep: set[int]) -> str:
    """``text`` without the markers not in ``keep``, and no space left before a punctuation mark."""
    return re.sub(r"\s+([.!?؟،,؛])", r"\1", strip_markers(text, keep))  # "reasons [7]." -> "reasons."


def quote(sentence: str, limit: int = 80) -> str:
    """A sentence shortened for a user-readable reason, without its markers."""
    sentence = without_markers(sentence, set())
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
