"""Stage 2, split: an article into passages (for retrieval) and sentences (for quoting), with offsets.

Written by hand because the offsets matter: LangChain's text splitters return chunk strings, while every
passage and sentence here must point back to its exact characters in the source so the page can highlight
them. Sizes are bounded in the embedding model's own tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from assistant.schemas import Article, Passage, PassageRole, Sentence, Span

# A sentence ends at . ! ? or their Arabic forms (؟ ؛) followed by space; ، and , mark clauses.
_SENTENCE_END = re.compile(r"(?<=[.!?؟؛;])\s+")
_CLAUSE_END = re.compile(r"(?<=[،,])\s+")
_TERMINAL = tuple(".!?؟؛;:\"'»”)")
SUBHEADLINE_MAX_WORDS = 14
#: Clauses shorter than this are not quoted alone: they rarely make sense without their sentence.
MIN_CLAUSE_WORDS = 6
#: Phrases: windows of this many words, every PHRASE_STRIDE words, over sentences longer than the window.
#: A 60-word sentence that mixes topics embeds as its average; a 10-word window embeds as what it says, so a
#: short question finds the words that answer it (and those words are what a citation highlights).
PHRASE_WORDS = 10
PHRASE_STRIDE = 5

TokenCounter = Callable[[str], int]


def _word_count(text: str) -> int:
    return len(text.split())


def _pieces(text: str, start: int, pattern: re.Pattern[str]) -> Iterator[Span]:
    """Spans of ``text`` (which starts at ``start`` in the article) cut at ``pattern``, trimmed."""
    pos = 0
    for match in pattern.finditer(text):
        yield Span(start=start + pos, end=start + match.start())
        pos = match.end()
    if pos < len(text):
        yield Span(start=start + pos, end=start + len(text.rstrip()))


def paragraphs(text: str) -> list[Span]:
    """Spans of the non-empty lines of ``text``; a line is a paragraph in plain-text articles."""
    spans, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append(Span(start=offset + lead, end=offset + lead + len(stripped)))
        offset += len(line) + 1
    return spans


def _role(index: int, text: str, seen_body: bool) -> PassageRole:
    if index == 0:
        return "headline"
    if _word_count(text) <= SUBHEADLINE_MAX_WORDS and not text.endswith(_TERMINAL):
        return "subheadline"
    return "body" if seen_body or index > 1 else "lede"


def sentence_spans(text: str, span: Span) -> list[Span]:
    """The sentences of the passage ``text`` located at ``span``."""
    return [s for s in _pieces(text, span.start, _SENTENCE_END) if s.end > s.start]


def _bounded(article: Article, span: Span, limit: int, count: TokenCounter) -> list[Span]:
    """Group the sentences of a paragraph into runs of at most ``limit`` tokens."""
    text = article.text[span.start:span.end]
    if count(text) <= limit:
        return [span]
    units: list[Span] = []
    for sentence in sentence_spans(text, span):
        sentence_text = article.text[sentence.start:sentence.end]
        if count(sentence_text) <= limit:
            units.append(sentence)
        else:
            units.extend(_hard_split(article.text, sentence, limit, count))
    runs: list[Span] = []
    for unit in units:
        if runs and count(article.text[runs[-1].start:unit.end]) <= limit:
            runs[-1] = Span(start=runs[-1].start, end=unit.end)
        else:
            runs.append(unit)
    return runs


def _hard_split(source: str, span: Span, limit: int, count: TokenCounter) -> list[Span]:
    """Cut an over-long sentence at clause marks, else at word boundaries."""
    out: list[Span] = []
    for clause in _pieces(source[span.start:span.end], span.start, _CLAUSE_END):
        start = clause.start
        words = list(re.finditer(r"\S+", source[clause.start:clause.end]))
        for i, word in enumerate(words):
            end = clause.start + word.end()
            if count(source[start:end]) > limit and end > start:
                prev_end = clause.start + words[i - 1].end() if i else end
                out.append(Span(start=start, end=prev_end))
                start = clause.start + word.start()
        out.append(Span(start=start, end=clause.end))
    return [s for s in out if s.end > s.start]


def split_article(article: Article, *, max_tokens: int, count_tokens: TokenCounter) -> list[Passage]:
    """Passages of ``article`` in order: headline, lede, sub-headlines and body runs, with roles."""
    passages: list[Passage] = []
    seen_body = False
    for p_index, span in enumerate(paragraphs(article.text)):
        role = _role(p_index, article.text[span.start:span.end], seen_body)
        seen_body = seen_body or role in ("body", "lede")
        for run in _bounded(article, span, max_tokens, count_tokens):
            index = len(passages)
            passages.append(Passage(id=f"{article.id}#p{index}", article_id=article.id, index=index,
                                    role=role, text=article.text[run.start:run.end], span=run))
    return passages


def split_units(article: Article, passage: Passage) -> list[Sentence]:
    """Quotable units of a passage: each sentence, the clauses of sentences that have several, and phrases
    (overlapping word windows) of sentences longer than :data:`PHRASE_WORDS`."""
    units: list[tuple[Span, str]] = []
    for sentence in sentence_spans(passage.text, passage.span):
        units.append((sentence, "sentence"))
        clauses = list(_pieces(article.text[sentence.start:sentence.end], sentence.start, _CLAUSE_END))
        if len(clauses) > 1:
            for clause in clauses:
                text = article.text[clause.start:clause.end]
                if _word_count(text) >= MIN_CLAUSE_WORDS:
                    # The clause mark belongs to the sentence, not to the quote.
                    units.append((Span(start=clause.start, end=clause.end - text.endswith(("،", ","))),
                                  "clause"))
        units.extend((span, "phrase") for span in _phrases(article.text, sentence))
    return [
        Sentence(id=f"{passage.id}/s{i}", passage_id=passage.id, article_id=article.id,
                 text=article.text[u.start:u.end], span=u, kind=kind)
        for i, (u, kind) in enumerate(units)
    ]


def _phrases(source: str, sentence: Span) -> list[Span]:
    """Overlapping windows of :data:`PHRASE_WORDS` words over a long sentence (the last reaches its end)."""
    words = [(sentence.start + m.start(), sentence.start + m.end())
             for m in re.finditer(r"\S+", source[sentence.start:sentence.end])]
    if len(words) <= PHRASE_WORDS:
        return []
    starts = list(range(0, len(words) - PHRASE_WORDS + 1, PHRASE_STRIDE))
    if starts[-1] + PHRASE_WORDS < len(words):
        starts.append(len(words) - PHRASE_WORDS)
    spans = []
    for i in starts:
        start, end = words[i][0], words[i + PHRASE_WORDS - 1][1]
        # Punctuation at the edges belongs to the sentence, not to the phrase.
        while end > start and source[end - 1] in "،,.؛;:!?؟\"'»”)":
            end -= 1
        spans.append(Span(start=start, end=end))
    return spans
