"""Verification of a generated answer against the passages it cites, because a 1.5B model invents facts.

:func:`verify` takes the model's raw answer and the numbered passages it was given:

1. chat-template artefacts are removed and citation markers are normalised to ``[n]`` (``[1, 2]``,
   ``[Passage 2]``, ``[المقطع ٢]``, a marker after the full stop); markers ``[n]`` pointing to passages that
   were not given are dropped;
2. an answer without any valid citation is rejected; a refusal ("the article does not answer") while
   retrieval is confident is rejected;
3. per sentence, against the passages it cites (or, for a sentence without a marker, all passages the
   answer cites):

   * **numbers** (digits, and number words such as ``التاسعة`` / ``ninth``) must occur there: the strict
     check;
   * **names**: in English sentences, capitalised words that are not the sentence's first word; in Arabic
     sentences, Latin-script words. A name passes if it occurs as a word, if its consonant skeleton
     matches an Arabic word's (a rough transliteration check: ``Putin``/``بوتين`` both give ``BTN``), or if
     a short lexicon of names that Arabic translates rather than transliterates (``United States`` /
     ``الولايات المتحدة``) finds its Arabic form. Arabic has no capitals: there, a word that is missing
     from the cited passages but present in another passage given to the model counts as a name taken
     from the wrong passage;
   * **support**: an Arabic sentence must share at least :data:`MIN_COVERAGE` of its content words (stemmed,
     normalised) with its passages or the question. A sentence in another language than its passages
     (English answer, Arabic article) cannot be compared word by word: when a :class:`Similarity` is given
     (the answerer passes one backed by the embedding model), its cited passage must be nearly the most
     similar of the given passages and above a floor; without one, only its numbers and names are checked;
   * **CLDR names**: a country, time-zone city, month or weekday the sentence names must be in the cited
     words under its CLDR Arabic name (every Arabic locale's month names); a dateline is no evidence;
   * **every word of an Arabic sentence** must be in the cited words (as a form without clitics, or the
     nisba of a place they name) or the question;
   * **polarity and scope**: a thing named as absent, boycotted… cannot be stated as fact, and words a
     cited negation governs cannot be affirmed; a nisba adjective must name the cited country;
   * **who did what**: the answer's subject must be the agent of the cited verb (Arabic word order), and
     two named sides must stand agent-first as in the cited clause;
   * **causes and relations**: a cause or purpose must be in (or, in English, embed close to) the cited
     words, an alliance or hostility must be stated by them.
   * **every English word** (with ``every_word``, the default): each content word of an English sentence
     over Arabic passages that is no stop word, name, number or word of the question must have a cited
     Arabic word the embedding model puts close to it. Precision first: on held-back answers most right
     English paraphrases fail it too (bench/README.md).

When every check passes, the answer's markers are renumbered to be contiguous (``[1]``..``[n]`` in order of
first use) and :class:`Verification` says which given passage each new number stands for and which answer
sentences cite it. When one fails, :class:`Verification` carries a user-readable reason;
:mod:`assistant.facade` then returns the extractive answer instead.

The package: :mod:`.markers` (reading markers, answer sentences), :mod:`.entities` (numbers and names and
where they occur), :mod:`.gazetteer` (CLDR names), :mod:`.polarity` and :mod:`.scope` (negation, nisba),
:mod:`.roles` (who did what), :mod:`.causes` (causes, relations), :mod:`.wording` (every English
word), :mod:`.checks` (the checks and
:func:`verify`). Measured as a classifier in bench/README.md.
"""

from assistant.answer.verification.checks import Similarity, Verification, is_decline, verify
from assistant.answer.verification.entities import (
    arabic_skeleton,
    latin_skeleton,
    numbers_in,
    skeletons_match,
)
from assistant.answer.verification.markers import answer_sentences, normalise_markers, strip_chat_artefacts

__all__ = ["Similarity", "Verification", "answer_sentences", "arabic_skeleton", "is_decline",
           "latin_skeleton", "normalise_markers", "numbers_in", "skeletons_match", "strip_chat_artefacts",
           "verify"]
