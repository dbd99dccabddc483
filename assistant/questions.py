"""What a question asks for, read from its words: the kind of answer (a reason, a date, a number), whether it
leans on the conversation before it, and the named things and quantities it needs the article to state.

Shared by retrieval (answer-type cues rank units), the facade (follow-up or new question) and answerability.
Patterns match folded text (:func:`assistant.textnorm.fold_for_match`: no hamza forms, ta marbuta as ha,
alef maqsura as ya, lower case). Written by hand: no library offers question typing for Arabic and English.
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

from assistant import cldr
from assistant.colloquial import as_written, standard_arabic
from assistant.textnorm import fold_for_match, plain_text, tokenize

#: Answer-type cues: a question of a kind (why, when, how many) favours units that carry that kind of answer
#: (a reason, a date, a number). Cross-lingual embeddings rank an English "why" question close to every
#: sentence about the visit; the cue tells the one giving the reason.
ANSWER_TYPE_BONUS = 0.06
_ANSWER_TYPES: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\bwhy\b|what (?:was|is|were) the reason|for what reason|\breasons? (?:for|behind)\b"
                r"|لماذا|لما ذا|ما سبب|ما هو سبب|لاي سبب|ما الداعي|ما الدافع"),
     re.compile(r"لدواع|بسبب|\bلان\b|نظرا|بهدف|من اجل|لضمان|حرصا|because|due to|in order to")),
    (re.compile(r"\bwhen\b|what (?:day|year|date|month)|متي|في اي (?:عام|سنه|يوم|شهر)"),
     re.compile(r"(?<!\d)(?:1\d|20)\d\d(?!\d)|منذ|بعد يوم|\bago\b|" + cldr.date_words())),
    # How long: a unit of time answers without a digit ("a day after", «بعد يوم»).
    (re.compile(r"\bhow long\b|كم من الوقت|كم استغرق|ما مده|كم (?:ساع|يوم|ايام|اسبوع|شهر|سن|عام)"),
     re.compile(r"\d|\b(?:[وب]?ال|[وب])?(?:يوم|يومين|ايام|ساع\w*|اسبوع\w*|شهر|اشهر|عام|اعوام|سنه|سنوات)\b"
                r"|\b(?:hours?|days?|weeks?|months?|years?)\b")),
    (re.compile(r"how many|how much|(?<!\w)و?كم\b|ما عدد"), re.compile(r"\d")),
    # Which one of a series ("which round", «أي جولة»): an ordinal («الجولة التاسعة», "the ninth").
    (re.compile(r"\b(?:which|what) (?:[\w-]+ )?(?:round|session|edition|term)\b"
                r"|(?<!\w)(?:اي|ما|باي|في اي) (?:هي )?"
                r"(?:ال)?(?:جوله|دوره|ولايه)(?!\w)"),
     re.compile(r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))\b"
                r"|(?<!\w)(?:وال|ال|و)?(?:اول|اولي|ثاني|ثانيه|ثالث|ثالثه|رابع|رابعه|خامس|خامسه|سادس|سادسه"
                r"|سابع|سابعه|ثامن|ثامنه|تاسع|تاسعه|عاشر|عاشره)(?!\w)")),
    # How something was described: news quotes the words used (وصف «…», "detailed talks").
    (re.compile(r"\bdescrib\w*|\bcharacteri[sz]\w*|(?:كيف|بماذا|بما|بم) (?:وصف|وصفت|يصف|تصف|وصفوا)|ما وصف"),
     re.compile(r'"[^"]+"|«[^»]+»|“[^”]+”')),
]


# A question asking which countries (or states) favours units that name several countries (from CLDR).
_ASKS_COUNTRIES = re.compile(r"\b(?:which|what) (?:countries|states|nations)\b|\bguarantor states\b"
                             r"|(?:ما|من) (?:هي )?الدول|\bاي الدول\b|الدول الضامن")


#: Words that say only what kind of answer is sought ("and when?", «وكم عددها؟»), as tokens.
_KIND_WORDS = frozenset(tokenize(
    "how many much when where why which who what time date day year number count long since "
    "متى ومتى كم وكم عدد عددها عددهم لماذا ولماذا اين واين من ومن ما وما ماذا وماذا"))


def bare_answer_type(question: str) -> re.Pattern[str] | None:
    """What a question that asks nothing but a kind of answer ("and when?", «ومتى؟», «وكم عددها؟»: a
    follow-up whose topic is the conversation's) must find in the quoted text (a pattern on folded text),
    else None. For such a question the kind is everything it says: the quote must carry it."""
    q = fold_for_match(question)
    if set(tokenize(question)) - _KIND_WORDS:
        return None
    return next((answer for cue, answer in _ANSWER_TYPES if cue.search(q)), None)


# "When" as the question word, not the conjunction ("Which round had ended when Assad arrived?", "When Putin
# received Assad, what did he congratulate him for?").
_ASKS_DATE = re.compile(r"^\W*(?:(?:and|so|but|then|ok|okay)\W+)?(?:since )?when\b"
                        r"(?![^,]*,\s*(?:what|who|whom|which|where|why|how|did|does|do|is|was|were)\b)"
                        r"|\b(?:what|which) (?:day|year|date|month)\b|\bon what day\b"
                        r"|(?<!\w)و?متي(?!\w)|في اي (?:عام|سنه|يوم|شهر|تاريخ)")


def date_asked(question: str) -> re.Pattern[str] | None:
    """The pattern (on folded text) of a date, when ``question`` asks "when?", else None. Only dates: a
    quote is not chosen for carrying any number ("how many killed?" would get the S-300's 300, and the
    quantity check of answerability, which reads the chosen quotes, would let it through)."""
    return _ANSWER_TYPES[1][1] if _ASKS_DATE.search(fold_for_match(question)) else None


def answer_type_bonus(question: str, text: str) -> float:
    """Bonus for a unit of text that carries the kind of answer the question asks for."""
    q, s = fold_for_match(question), fold_for_match(text)
    if any(cue.search(q) and ans.search(s) for cue, ans in _ANSWER_TYPES):
        return ANSWER_TYPE_BONUS
    if _ASKS_COUNTRIES.search(q) and len(cldr.named_in(text)) >= 2:
        return ANSWER_TYPE_BONUS
    return 0.0


# A question about the article's headings ("How does the headline describe…?", «ماذا يقول العنوان الفرعي؟») is
# answered by the passages the splitter gave that role: nothing in their words says "headline".
_ASKS_SUBHEADLINE = re.compile(r"\bsub-?(?:headlines?|heads?|headings?)\b"
                               r"|العنوان الفرعي|العناوين الفرعيه")
# Not "title" (a person's title) nor «بعنوان» ("entitled").
_ASKS_HEADLINE = re.compile(r"\bheadline\b|(?<!\S)(?:ال|في ال|وال)?عنوان(?:ه|ها)?(?!\S)")


def asked_roles(question: str) -> frozenset[str]:
    """The passage roles a question asks about by name: ``subheadline`` or ``headline``, else none."""
    folded = fold_for_match(question)
    if _ASKS_SUBHEADLINE.search(folded):
        return frozenset({"subheadline"})
    if _ASKS_HEADLINE.search(folded):
        return frozenset({"headline"})
    return frozenset()


# Questions answered by a few words (a name, a place, a date, a number, a list): their answer leads with
# those words. "Why" and "how" questions are answered by the sentence.
_ASKS_FOR_WORDS = re.compile(
    r"^\s*(?:and |so )?(?:who|whom|whose|which|where|when|how many|how much|what (?:is|was|were|are) the "
    r"(?:name|number|date|day|city|country|round)|name)\b"
    r"|^\s*و?(?:من |ما هي|ما هو|اين|متي|كم|في اي|اي |ما اسم|ما عدد)")


def asks_for_words(question: str) -> bool:
    """True for who/which/where/when/how-many questions, whose answer is a few words."""
    return bool(_ASKS_FOR_WORDS.search(fold_for_match(question)))


# A follow-up leans on the turn before: an elliptic start ("and who…?", "what about…?", "وماذا عن…؟"), or, in
# a short question, a pronoun or "there" standing for something named earlier ("who boycotted them?",
# "وكم عددها؟"). A longer question usually names what its pronouns stand for ("…التي تخطط موسكو لنشرها؟").
_ELLIPTIC_EN = re.compile(r"^\s*(?:and|but|also|what about|how about|so)\b", re.IGNORECASE)
_ELLIPTIC_AR = re.compile(r"^\s*و(?:من|ما|ماذا|كم|اين|متي|لماذا|هل|كيف|اي)\b|^\s*(?:ماذا|ما) عن\b")
_POINTING_EN = re.compile(
    r"\b(?:it|its|they|them|their|theirs|he|him|his|she|her|hers|there|then|that one|those|these)\b"
    r"|\bthe same\b|\bthe other\b", re.IGNORECASE)
# Arabic: a preposition or noun with an attached pronoun (عنها، فيها، منه، عددها، لهم), or a demonstrative.
_POINTING_AR = re.compile(r"\b(?:عن|في|من|له|ل|ب|مع|علي|الي|عند)(?:ها|هم|هما|هن|ه)\b"
                          r"|\b\w{2,}(?:ها|هم|هما)\b|\bهناك\b|\bذلك\b|\bتلك\b|\bهؤلاء\b"
                          r"|(?<!\S)و?(?:هذا|هذه|هذان|هاتان|هكذا)(?!\w)")
#: Words up to which a pronoun is taken to point outside the question.
SHORT_QUESTION_WORDS = 6


def looks_like_followup(question: str) -> bool:
    """True when the question's own words point back at the conversation (ellipsis, or pronouns in a short
    question)."""
    folded = _folded(question)
    return _elliptic(question, folded) or _points_back(question, folded)


def _folded(question: str) -> str:
    return fold_for_match(standard_arabic(question))


def _elliptic(question: str, folded: str) -> bool:
    return bool(_ELLIPTIC_EN.search(question) or _ELLIPTIC_AR.search(folded))


def points_back(question: str) -> bool:
    """True when the question has a pronoun, "there" or a demonstrative standing for something named earlier:
    a short question ("who boycotted them?", «وكم عددها؟», «وهاي المصالحات شو عملت؟»), or one that opens
    with "and" ("And what has it given the Syrian regime since then?"). An opening "and" alone is not enough:
    Arabic opens sentences with «و», and "and what about the warships Russia plans to deploy?" names its
    topic."""
    return _points_back(question, _folded(question))


def _points_back(question: str, folded: str) -> bool:
    pointing = bool(_POINTING_EN.search(question) or _POINTING_AR.search(folded))
    return pointing and (len(question.split()) <= SHORT_QUESTION_WORDS or _elliptic(question, folded))


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: A word that opens a sentence is capitalised whatever it is.
_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)$")
_OPENS_QUESTION = re.compile(r"^(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|did|does|do"
                             r"|can|could|will|would|has|have|had|whats|whos|wheres|hows)\b", re.IGNORECASE)
#: The possessive ending of a name ("erdogan's", "peskov’s", "the guarantors'").
_POSSESSIVE = re.compile(r"['’]s?$")
#: Addresses pasted into a question are left as written: their words are no names.
_ADDRESS = re.compile(r"\S*(?:://|www\.|@)\S*")


#: A question whose Latin words inside its sentences are capitalised at least this often is written in title
#: case or capitals ("WHY WAS THE VISIT NOT ANNOUNCED?"): its capitals say nothing about names. A sentence
#: naming several countries ("Did Jordan, Iran and Russia attend?", 3 of 5) is not.
SHOUTING_SHARE = 0.75


def _common(word: str) -> bool:
    """Whether the English dictionary (simplemma) knows lower-case ``word`` as a common word, not a name."""
    return simplemma.is_known(word, lang="en") and not simplemma.lemmatize(word, lang="en")[:1].isupper()


@lru_cache(maxsize=1)
def _country_words() -> frozenset[str]:
    """One-word country names, demonyms and capitals, lower case: names, though the dictionary has "turkey",
    "china" and "iranian" as common words (the answerability checks read them capitalised)."""
    from assistant import nations  # nations reads CLDR and countryinfo: loaded on first use

    names = {n.english.lower() for n in cldr.names() if n.kind == "country"}
    return frozenset(w for w in names | nations.names() if w.isalpha())


@lru_cache(maxsize=1)
def _speller():
    from spellchecker import SpellChecker  # its word list loads in about 0.4 s: on first use only

    return SpellChecker(distance=1)


def _misspelt(word: str) -> bool:
    """Whether lower-case ``word`` is one edit from a word of pyspellchecker's list ("anounced", "becuase"):
    a typo, not a name to look for in the article. Names far from any word ("erdogan", "lavrov") are not;
    a few names one edit from a word ("peskov" / Pskov) are taken for typos, which only spares them the check.
    """
    fixed = _speller().correction(word)
    return fixed is not None and fixed != word


def _proper_case(word: str, typos: bool = False) -> str:
    """Lower-case ``word`` capitalised when it is a name: a country, demonym or capital; a proper noun to the
    dictionary ("damascus"); or a word the dictionary does not know and is not made of two words it knows
    ("erdogan"; not "ceasefire", "subheadline"). With ``typos``, not a word one edit from a known word
    either ("anounced"). A contraction typed without its apostrophe stays ("whats", "isnt")."""
    if word[:1].isupper() or len(word) < 3:
        return word
    if possessive := _POSSESSIVE.search(word):  # "erdogan's reaction": the name before the 's
        stem = word[:possessive.start()]
        return _proper_case(stem, typos) + possessive.group() if "'" not in stem and "’" not in stem else word
    if "'" in word or "’" in word:
        return word
    if word in _country_words():
        return word[:1].upper() + word[1:]
    for stem in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("nt") else ""):
        if stem and simplemma.is_known(stem, lang="en"):
            return word if _common(stem) else word[:1].upper() + word[1:]
    if any(_common(word[:i]) and _common(word[i:]) for i in range(3, len(word) - 2)):
        return word
    if typos and _misspelt(word):
        return word
    return word[:1].upper() + word[1:]


def _unshouted(word: str) -> str:
    """A word of a question in title case or capitals: a common word in lower case ("WAS", "The"), a country
    or a name the dictionary knows capitalised ("JORDAN", "IRANIAN", "SYRIA"); acronyms and names the
    dictionary does not know stay as written ("UN", "Peskov")."""
    lower = word.lower()
    if lower in _country_words() or (simplemma.is_known(lower, lang="en") and not _common(lower)):
        return lower[:1].upper() + lower[1:]
    return lower if _common(lower) else word


def truecased(question: str, *, typos: bool = False) -> str:
    """An English question as written by someone who capitalises names, and only names, and ends a question
    with "?" ("who is peskov" -> "Who is Peskov?", "WHY WAS THE VISIT NOT ANNOUNCED" -> "Why was the
    visit not announced?"); a question with Arabic letters unchanged.

    Readers type into a chat box in lower case, or in capitals. The embedding model places "who is peskov"
    further from «بيسكوف» than "Who is Peskov?", and the answerability checks read capitals as names.
    Written by hand: truecasing models need a corpus this project does not ship; the dictionary
    (simplemma) tells names. ``typos``: leave a word one edit from a known word in lower case (for the
    answerability checks, which would take "Anounced" for a name the article never mentions; retrieval
    reads "who is peskov" better as "Who is Peskov?" though Pskov is one edit away).
    """
    words = _LATIN_WORD.findall(question)
    if re.search(r"[\u0600-\u06FF]", question) or not words:
        return question
    text = question.strip()
    inside = [m.group() for m in _LATIN_WORD.finditer(text)
              if len(m.group()) > 1 and not _SENTENCE_START.search(text[:m.start()])]
    if len(inside) >= 2 and sum(w[0].isupper() for w in inside) >= SHOUTING_SHARE * len(inside):
        text = _outside_addresses(text, lambda part: _LATIN_WORD.sub(lambda m: _unshouted(m.group()), part))
    text = _outside_addresses(text, lambda part: _LATIN_WORD.sub(
        lambda m: _proper_case(m.group(), typos), part))
    text = text[:1].upper() + text[1:]
    if _OPENS_QUESTION.match(text) and not text.endswith(("?", ".", "!")):
        text += "?"
    return text


def _outside_addresses(text: str, change) -> str:
    """``text`` with ``change`` applied to every stretch outside a URL or e-mail address."""
    kept = list(_ADDRESS.finditer(text))
    parts, start = [], 0
    for found in kept:
        parts += [change(text[start:found.start()]), found.group()]
        start = found.end()
    return "".join([*parts, change(text[start:])])


def reading(question: str, *, typos: bool = False) -> str:
    """The question as retrieval (and, with ``typos``, the answerability checks) read it: plain letters
    (:func:`assistant.textnorm.plain_text`: «لِمَاذَا» is «لماذا», full-width Latin is Latin), as written
    rather than chatted (:func:`assistant.colloquial.as_written`: «طيب، وين التقوا؟» is «أين التقوا؟») and
    English names capitalised (:func:`truecased`)."""
    return truecased(as_written(plain_text(question)), typos=typos)


# "What is the article about?", "summarize", «لخص المقال», «عن ماذا يتحدث المقال؟»: the whole article is
# asked for, which no passage is close to (0.18-0.25); its headline and summary lines answer it.
_ASKS_GIST = re.compile(
    r"\bsummari[sz]e\b|\bsummary\b|\btl;? ?dr\b|\bgist\b|\bmain points\b|\bkey points\b|\boverview\b"
    r"|\bwhat(?:'s|s| is| was)? (?:this|the|that|it) (?:(?:article|story|news|piece|text|report) )?"
    r"(?:is |was )?about\b"
    r"|(?<!\w)(?:لخص|ملخص|تلخيص|خلاصه)|(?:موضوع|فكره|مضمون) (?:ال)?(?:مقال|مقاله|خبر|نص)"
    r"|(?:عن ماذا|عما|عن شو|شو) (?:يتحدث|يتكلم|يحكي|تتحدث|تتكلم|تحكي) (?:ال)?(?:مقال|مقاله|خبر|نص)")
#: Words of such a question (tokens as :func:`assistant.textnorm.tokenize` makes them). Any other word asks
#: about something in particular: "What is the article saying about Iran?", «ما هو ملخص الاتفاق؟».
_GIST_WORDS = frozenset(tokenize(
    "summarize summarise summary gist main key points overview tl dr article story news piece text report "
    "about saying says say tell give please briefly brief short this that it what whats can could you me "
    "one sentence paragraph few words lines "
    "لخص ملخص تلخيص خلاصة موضوع فكرة مضمون المقال مقال المقالة مقالة الخبر خبر النص نص القصة يتحدث يتكلم "
    "يحكي تتحدث تتكلم تحكي باختصار شو ماذا عن عما لي"))


def asks_for_gist(question: str) -> bool:
    """True when the question asks what the whole article is about ("Summarize the article", «لخص المقال»)
    and about nothing in particular."""
    question = question.replace("’", "'")  # the curly apostrophe of phone keyboards
    return bool(_ASKS_GIST.search(fold_for_match(question))) and set(tokenize(question)) <= _GIST_WORDS


# "Who is de Mistura?", "what's Kalibr", «من هو دي ميستورا؟», «مين بيسكوف»: the question asks what the article
# says of something it names. On folded text, spoken forms as :func:`reading` gives them («مين» is «من», «شو
# يعني» «ماذا يعني»). «من» with no pronoun takes one word only: «من بيسكوف» asks who he is, «من التقى بوتين»
# asks something else.
_DEFINITION = re.compile(
    r"^(?:and |so |ok |okay |please )?(?:who|what)(?:'s|s| is| was| are| were)\s+(?:the |a |an )?"
    r"(?P<en>[^?!.]+?)\s*[?!.]*$"
    r"|^(?:(?:من فضلك|لو سمحت)[،,]? )?و?(?:(?:من|ما) (?:هو|هي|هم|هما|يكون|تكون)(?: (?:ال)?دور)?"
    r"|(?:ماذا|ما|مين|شو|ايش) (?:يعني|تعني|معني|دور|هو دور))\s+(?P<ar>[^؟?!.]+?)\s*[؟?!.]*$"
    r"|^و?من\s+(?P<one>[^\s؟?!.]+)\s*[؟?!.]*$")
#: Longer "terms" are questions of their own ("who is the head of the opposition delegation").
DEFINED_TERM_WORDS = 4


def defined_term(question: str) -> str | None:
    """The thing a "who is X?" or "what is X?" question asks about (folded: lower case, Arabic folded), or
    None for any other question."""
    match = _DEFINITION.match(fold_for_match(question.replace("’", "'")))
    if not match:
        return None
    term = match.group("en") or match.group("ar") or match.group("one")
    # What someone does is asked as their role: "what is de Mistura's role", «ما دور دي ميستورا».
    term = _ROLE_OF.sub("", term)
    return term if len(term.split()) <= DEFINED_TERM_WORDS else None


_ROLE_OF = re.compile(r"^role of (?:the )?|'s? (?:role|job|position)$")
