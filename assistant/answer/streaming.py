"""How a finished answer text is cut into the chunks every interface streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

#: Words per streamed chunk of a text computed whole (so that every interface handles one kind of stream).
STREAM_CHUNK_WORDS = 3


def chunks(text: str) -> Iterator[str]:
    """``text`` in pieces of a few words; the pieces add up to ``text`` exactly."""
    words = text.split(" ")
    for i in range(0, len(words), STREAM_CHUNK_WORDS):
        piece = " ".join(words[i:i + STREAM_CHUNK_WORDS])
        yield piece if i + STREAM_CHUNK_WORDS >= len(words) else piece + " "


@dataclass(frozen=True)
class Replace:
    """In a live stream: forget the text streamed so far and show ``text`` instead. Sent when a generated
    answer streamed as the model wrote it was then rejected by verification (``reason`` is the fallback's
    code, e.g. ``rejected``) or cleaned up (``reason`` None)."""

    text: str
    reason: str | None = None
