"""Arabic-aware text normalisation, tokenising for BM25, and language detection."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer

from assistant.schemas import Language

# Harakat, tanwin, shadda, sukun, superscript alef and Quranic marks: they vary between writers.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
# Hamza carriers and alef forms fold to their bare letter; alef maqsura to ya; ta marbuta to ha.
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ؤ": "و", "ئ": "ي", "ى": "ي", "ة": "ه",
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
})
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_WORD = re.compile(r"\w+", re.UNICODE)

# Function words that carry no topic. bm25s ships English stop words but not Arabic ones; this short list
# is in normalised form (see `normalize_arabic`) so it matches after folding.
ARABIC_STOPWORDS = frozenset(
    """في من الي علي عن مع ان او ثم ما لا لم لن هل قد كان كانت هو هي هم هذا هذه ذلك تلك التي الذي الذين بين
    بعد قبل حيث كما لكن بل اذا اي كل عند منذ حول دون غير ايضا وهي وهو فيما""".split()  # noqa: SIM905 - a word list reads best as words
)
ENGLISH_STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been being it its this that
    these those what which who whom whose why how when where did do does has have had will would can
    could should there their they them he she his her as into about than not no""".split()  # noqa: SIM905 - a word list reads best as words
)


def _light_normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _DIACRITICS.sub("", text).replace(_TATWEEL, "")


def normalize_arabic(text: str) -> str:
    """Fold the spelling variants of Arabic so equal words compare equal.

    Removes diacritics and tatweel, folds hamza forms and alef variants to bare alef, alef maqsura to ya and
    ta marbuta to ha, Arabic-Indic digits to ASCII, and applies Unicode NFKC (presentation forms).
    """
    return _light_normalize(text).translate(_FOLD)


def fold_for_match(text: str) -> str:
    """Normalise for substring comparison: Arabic folding, lower case, whitespace collapsed."""
    return " ".join(normalize_arabic(text).lower().split())


_local = threading.local()


#: Words whose stems are remembered, for all threads together. PyStemmer caches up to 10,000 words in each
#: Stemmer object, and every worker thread of the server has its own stemmers: those caches were the
#: largest Python allocation kept after answers (bench/memory.py), refilled by each new worker thread.
STEM_CACHE_SIZE = 20_000


def _stemmer(language: str) -> Stemmer.Stemmer:
    # PyStemmer objects must not be used by two threads at once, and requests run on several threads.
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if language not in stemmers:
        stemmer = Stemmer.Stemmer(language)
        stemmer.maxCacheSize = 0  # :func:`stem` caches once for every thread
        stemmers[language] = stemmer
    return stemmers[language]


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(language: str, word: str) -> str:
    """The Snowball stem of ``word`` (``language``: ``arabic`` or ``english``), from a cache shared by all
    threads and bounded by :data:`STEM_CACHE_SIZE`."""
    return _stemmer(language).stemWord(word)


def strip_clitics(word: str, min_stem: int = 2) -> list[str]:
    """A folded Arabic word and its forms without attached clitics, shortest last.

    One conjunction (و ف) may come first, then one preposition or the article (بال كال لل ال ب ل); a form
    is kept only if at least ``min_stem`` letters remain. Used by BM25 tokens and by answer verification.
    """
    forms = [word]
    stem = word
    if len(stem) > 3 and stem[0] in "وف" and len(stem) - 1 >= min_stem:
        stem = stem[1:]
        forms.append(stem)
    for prefix in ("بال", "كال", "لل", "ال", "ب", "ل"):
        if stem.startswith(prefix) and len(stem) - len(prefix) >= min_stem:
            forms.append(stem[len(prefix):])
            break
    return forms


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: normalised, stop words dropped, Arabic and English words stemmed.

    Snowball's Arabic stemmer strips the article and attached prefixes (و ب ل ال), so that
    ``والأستانا`` and ``أستانا`` meet at one stem.
    """
    tokens: list[str] = []
    for word in _WORD.findall(_light_normalize(text).lower()):
        folded = word.translate(_FOLD)
        if _ARABIC_LETTER.search(word):
            if folded in ARABIC_STOPWORDS or len(folded) < 2:
                continue
            # Snowball's Arabic stemmer is inconsistent: it strips a final ta marbuta but not the ha people
            # often type for it, and it stems "محادثات" and "للمحادثات" differently. Each word is therefore
            # indexed under the stems of its written form, its folded form and its prefix-stripped form.
            forms = (word, folded, strip_clitics(folded, min_stem=3)[-1])
            tokens.extend(dict.fromkeys(stem("arabic", f).translate(_FOLD) for f in forms))
        elif word.isdigit():
            tokens.append(folded)
        elif word not in ENGLISH_STOPWORDS and len(word) > 1:
            tokens.append(stem("english", word))
    return tokens


_ARABIC_RUN = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")


def written_language(text: str) -> Language | None:
    """``ar`` when words in Arabic script are at least as many as words in Latin script, ``en`` when fewer,
    None when ``text`` has no letters ("2019 – 2021").

    A script count is exact for this choice between two languages of different scripts, and unlike
    statistical detectors it does not misjudge a three-word question. Words are counted, not letters: «ما هو
    ChatGPT؟» has more Latin letters than Arabic ones and is an Arabic question.
    """
    arabic = len(_ARABIC_RUN.findall(text))
    latin = len(_LATIN_RUN.findall(text))
    if arabic == 0 and latin == 0:
        return None
    return "ar" if arabic >= latin else "en"


def detect_language(text: str, default: Language = "en") -> Language:
    """:func:`written_language`, or ``default`` for a text with no letters."""
    return written_language(text) or default


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bidi marks, embeddings and isolates only steer display: removed (not made spaces, which would split a word).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Zero-width characters, invisible operators and the soft hyphen sit inside words pasted from chat apps,
# Persian keyboards and web pages ("pes\u200bkov", «من\u200c هو»). The question is shown as typed (ZWNJ
# spells Persian, ZWJ joins emoji); the copy that is read has none of them.
_INVISIBLE = re.compile("[\u00ad\u034f\u200b\u200c\u200d\u2060-\u2064\ufeff]")


def plain_text(text: str) -> str:
    """``text`` in the letters a reader means: compatibility forms unified (NFKC: Arabic presentation forms,
    full-width Latin), no invisible characters, no Arabic diacritics and no tatweel. Spelling is kept (hamza,
    ta marbuta): unlike :func:`fold_for_match`, the result is still text to embed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _DIACRITICS.sub("", text).replace(_TATWEEL, "")


def clean_question(text: str) -> str:
    """Drop control and bidi characters and collapse whitespace; the result may be empty (or invisible:
    :func:`plain_text` of it may be empty)."""
    return " ".join(_CONTROL.sub(" ", _BIDI.sub("", text)).split())
