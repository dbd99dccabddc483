"""Metric functions: pure, on plain values, so that each can be checked on hand-made cases.

Every aggregate returns ``None`` when no case applies (a metric with nothing to measure is not 0).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from assistant.answer.citations import strip_markers
from assistant.schemas import Language
from assistant.textnorm import detect_language, fold_for_match, normalize_arabic

# --- retrieval -------------------------------------------------------------------------------------------


def first_hit_rank(passages: Sequence[object], is_evidence: Callable[[object], bool]) -> int | None:
    """1-based rank of the first passage that is evidence, or None when none is."""
    for rank, passage in enumerate(passages, 1):
        if is_evidence(passage):
            return rank
    return None


def contains_snippet(passage_text: str, snippets: Iterable[str]) -> bool:
    """Whether the passage contains one of the snippets, after Arabic folding and whitespace collapsing."""
    folded = fold_for_match(passage_text)
    return any(fold_for_match(s) in folded for s in snippets if s.strip())


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of cases whose first evidence passage is ranked ``k`` or better."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank of the first evidence passage (0 when no retrieved passage is evidence)."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r) / len(ranks)


# --- answers: SQuAD/MLQA-style EM and F1 -----------------------------------------------------------------

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_ENGLISH_ARTICLES = re.compile(r"\b(a|an|the)\b")
# The Arabic definite article at the start of a word, alone or with the conjunction و before it (both go:
# "والروسية" and "الروسية" compare equal). MLQA's script
# deletes every "ال" anywhere in the text (`re.sub('\sال^|ال', ' ', text)`), which also cuts words that
# merely contain the two letters; only word-initial articles are removed here, and only when at least two
# letters remain, so short words such as "الا" survive.
_ARABIC_ARTICLE = re.compile(r"^و?ال(?=\w{2,})")


def _is_punctuation(ch: str) -> bool:
    # MLQA's set: every Unicode punctuation character (categories P*) plus ASCII punctuation.
    return ch in _ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD/MLQA answer normalisation that also handles Arabic.

    Lower case; Arabic diacritics and tatweel removed and hamza/alef forms, alef maqsura and ta marbuta
    folded (as :func:`normalize_arabic`); punctuation removed (every Unicode punctuation character, so
    ``، ؛ ؟ « »`` too; replaced by a space where MLQA deletes it, so ``سبتمبر/ايلول`` stays two words);
    the English articles and the word-initial Arabic article ``ال`` (also ``وال``)
    removed; whitespace collapsed. One function serves both languages: their scripts do not overlap, and an
    English question's extractive answer quotes Arabic text.
    """
    text = normalize_arabic(text).lower()
    text = "".join(" " if _is_punctuation(ch) else ch for ch in text)
    text = _ENGLISH_ARTICLES.sub(" ", text)
    words = [_ARABIC_ARTICLE.sub("", word) for word in text.split()]
    return " ".join(w for w in words if w)


def exact_match(prediction: str, references: Sequence[str]) -> float | None:
    """1.0 when the normalised prediction equals a normalised reference (best over references)."""
    if not references:
        return None
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(ref) for ref in references))


def _f1(pred_tokens: list[str], ref_tokens: list[str]) -> float:
    if not pred_tokens or not ref_tokens:
        # SQuAD v2: two empty answers agree; one empty and one not share nothing.
        return float(pred_tokens == ref_tokens)
    common = Counter(pred_tokens) & Counter(ref_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred_tokens), overlap / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, references: Sequence[str]) -> float | None:
    """SQuAD token F1 of the normalised prediction, best over references (whitespace tokens)."""
    if not references:
        return None
    pred = normalize_answer(prediction).split()
    return max(_f1(pred, normalize_answer(ref).split()) for ref in references)


def contains_reference(answer: str, references: Sequence[str]) -> bool | None:
    """Whether a normalised reference occurs in the normalised answer as a run of whole words."""
    if not references:
        return None
    padded = f" {normalize_answer(answer)} "
    return any(f" {ref} " in padded for ref in (normalize_answer(r) for r in references) if ref)


# --- answers: required content and language --------------------------------------------------------------


def missing_groups(answer: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The must-include groups none of whose alternatives occurs in the answer (folded comparison)."""
    folded = fold_for_match(answer)
    return [list(group) for group in groups if not any(fold_for_match(alt) in folded for alt in group)]


_QUOTED = re.compile(r"«[^»]*»|\"[^\"]*\"|“[^”]*”")


def answer_prose(answer: str) -> str:
    """The answer's own words: citation markers and quoted source text removed.

    An English answer may quote the Arabic article; its language is that of the words around the quotes.
    """
    return _QUOTED.sub(" ", strip_markers(answer, keep=set())).strip()


def answer_language(answer: str, fallback: Language) -> Language:
    """The language the answer is written in (its prose, see :func:`answer_prose`)."""
    prose = answer_prose(answer)
    return detect_language(prose, default=fallback) if prose else fallback


def answer_core(answer: str) -> str:
    """What EM/F1 compare: the quoted spans if the answer quotes, else its text, without markers."""
    text = strip_markers(answer, keep=set())
    quotes = [m.group(0)[1:-1] for m in re.finditer(r"«[^»]*»", text)]
    return " ".join(quotes) if quotes else text


# --- refusals and citations -------------------------------------------------------------------------------


def refusal_precision_recall(pairs: Sequence[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """Precision and recall of refusals from ``(answerable, refused)`` pairs.

    Precision: refused cases that were unanswerable / refused cases (None if nothing was refused).
    Recall: refused unanswerable cases / unanswerable cases (None if every case was answerable).
    """
    refused = [answerable for answerable, did_refuse in pairs if did_refuse]
    unanswerable = [did_refuse for answerable, did_refuse in pairs if not answerable]
    precision = sum(1 for answerable in refused if not answerable) / len(refused) if refused else None
    recall = sum(unanswerable) / len(unanswerable) if unanswerable else None
    return precision, recall


def citation_precision(flags: Sequence[bool]) -> float | None:
    """Share of one answer's citations whose passage contains evidence."""
    return sum(flags) / len(flags) if flags else None


# --- aggregation ------------------------------------------------------------------------------------------


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None, or None if there are none."""
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))
