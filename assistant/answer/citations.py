"""Stage 6, cite: turning chosen passages and spans into numbered citations, and reading markers back."""

from __future__ import annotations

import re

from assistant.schemas import Citation, CitationKind, ScoredPassage, Span

#: A citation marker ``[n]`` in answer text: the one pattern every stage reads markers with.
MARKER = re.compile(r"\[(\d{1,2})\]")


def make_citation(n: int, scored: ScoredPassage, span: Span | None = None,
                  kind: CitationKind = "support") -> Citation:
    """Citation ``[n]`` of a retrieved passage; ``span`` is the supporting part (whole passage if None)."""
    passage = scored.passage
    span = span or passage.span
    offset = span.start - passage.span.start
    quote = passage.text[offset: offset + (span.end - span.start)]
    return Citation(n=n, passage_id=passage.id, article_id=passage.article_id, text=passage.text, span=span,
                    quote=quote, passage_span=passage.span, score=round(scored.score, 6), kind=kind)


def markers(text: str) -> list[int]:
    """The citation numbers used in ``text``, in order of first use."""
    return list(dict.fromkeys(int(m) for m in MARKER.findall(text)))


def strip_markers(text: str, keep: set[int]) -> str:
    """Remove markers whose number is not in ``keep`` (citations to passages that were never given)."""
    cleaned = MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in keep else "", text)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def marker_label(numbers: list[int]) -> str:
    """``[1] [2]`` for the given numbers."""
    return " ".join(f"[{n}]" for n in numbers)
