"""How a finished answer text is cut into the chunks every interface streams."""

from __future__ import annotations

from collections.abc import Iterator

#: Words per streamed chunk of a text computed whole (so that every interface handles one kind of stream).
STREAM_CHUNK_WORDS = 3


def chunks(text: str) -> Iterator[str]:
    """``text`` in pieces of a few words; the pieces add up to ``text`` exactly."""
    words = text.split(" ")
    for i in range(0, len(words), STREAM_CHUNK_WORDS):
        piece = " ".join(words[i:i + STREAM_CHUNK_WORDS])
        yield piece if i + STREAM_CHUNK_WORDS >= len(words) else piece + " "
