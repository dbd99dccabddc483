"""Questions typed into a chat box, read as a newspaper would write them: the chat openers dropped ("ok now
tell me who Peskov is", «طيب، وين التقوا؟») and the function words of spoken Arabic given in Standard Arabic
(«وين» is «أين», «ليش» «لماذا», «شو» «ماذا», «هالشي» «هذا الشيء»).

The embedding model places «وين التقوا؟» and "ok now tell me who Peskov is" too far from the article's
sentences to pass the not-found threshold, and the follow-up rules read «ومين…؟» only in its Standard form.
Written by hand: no maintained library maps dialect words to Standard Arabic offline (CAMeL Tools fetches
its data at run time), and only the question words, demonstratives and a few verbs that questions use are
needed; content words are left as typed.
"""

from __future__ import annotations

import re

from assistant.textnorm import fold_for_match

#: Arabic letters (not the Arabic comma, question mark or tatweel, which share their Unicode block).
L = "\u0621-\u063A\u0641-\u064A\u0671-\u06D3"

# Levantine, Egyptian, Gulf and Iraqi function words (as typed, hamza dropped or not) -> Standard Arabic. Left
# out because they are also names or Standard words: «وش» (ب + «وش» is Bush), «هادي» (Hadi; calm), «مو» (Mo),
# «ايه» (what, and yes), «يعني» (a filler, and the verb "means").
_STANDARD = {
    "وين": "أين", "فين": "أين", "ليش": "لماذا", "ليه": "لماذا", "شو": "ماذا", "ايش": "ماذا", "إيش": "ماذا",
    "شنو": "ماذا", "مين": "من", "منو": "من", "امتى": "متى", "إمتى": "متى", "ايمتى": "متى", "إيمتى": "متى",
    "قديش": "كم", "قديه": "كم", "كام": "كم", "كيفه": "كيف", "شلون": "كيف", "ازاي": "كيف", "إزاي": "كيف",
    "اللي": "الذي",
    "هاي": "هذه", "هيدا": "هذا", "هيدي": "هذه", "هاد": "هذا", "هادا": "هذا", "هذي": "هذه",
    "مش": "ليس", "بدها": "تريد", "بده": "يريد", "بدهم": "يريدون", "بدي": "أريد", "بدك": "تريد",
    "هلق": "الآن", "هلأ": "الآن", "هسا": "الآن", "هسه": "الآن", "كمان": "أيضا", "هيك": "هكذا",
}
# A word and its leading «و» (and) or «ب» (in, by): «ووين» is «وأين», «بشو» «بماذا».
_WORD = re.compile(rf"(?<![\w{L}])([وب]?)([{L}]+)(?![\w{L}])")
# «هالـ» + noun: this (noun) — «هالانتخابات» is «هذه الانتخابات», «هالشي» «هذا الشي».
_THIS = re.compile(rf"(?<![\w{L}])(و?)هال(?=([{L}]{{2,}}))")
_FEMININE = re.compile(r"(?:ات|ة|ه)$")

# Openers of a chat message that ask nothing: acknowledgements, "tell me", "one more thing".
_OPENER_EN = re.compile(
    r"^(?:(?:ok(?:ay)?|now|so|well|hmm+|um+|alright|all right|thanks|thank you|please"
    r"|(?:can|could|would) you (?:please )?tell me|tell me|i (?:want|would like|'d like) to know|i wonder"
    r"|do you know|one more (?:thing|question)|another question|different (?:thing|question|topic)"
    r"|(?:a )?quick question)\b(?![-'’])[\s,.!:;]*)+(?=\S)", re.IGNORECASE)
# «هاي» is "hi" before a question word («هاي، متى زار الأسد روسيا؟») and "this" before a noun.
_QUESTION_WORD = rf"(?:متى|امتى|وين|شو|ليش|مين|كيف|هل|ما|ماذا|من|اين|أين|لماذا|كم|قديش|ايش)(?![{L}])"
_OPENER_AR = re.compile(
    r"^(?:(?:طيب|طب|اوك|أوك|اوكي|أوكي|تمام|شكرا|حسنا|حسناً|بعدين|مرحبا|اهلا|أهلا|هلا|السلام عليكم"
    r"|سؤال (?:تاني|ثاني|آخر|اخر)"
    r"|(?:شي|شيء) (?:تاني|ثاني|آخر|اخر)|قلي|قل لي|قولي|قول لي|خبرني|احكيلي|احكي لي|بدي اعرف|بدي أعرف"
    r"|اريد ان اعرف|أريد أن أعرف|ممكن تقلي|ممكن تقولي|ممكن تخبرني)" rf"(?![{L}])[\s،,.!:؛-]*"
    rf"|هاي(?=[\s،,.!]*{_QUESTION_WORD})[\s،,.!]*)+(?=\S)")


def standard_arabic(text: str) -> str:
    """``text`` with the dialect function words of :data:`_STANDARD` in Standard Arabic."""
    text = _THIS.sub(lambda m: m.group(1) + ("هذه ال" if _FEMININE.search(m.group(2)) else "هذا ال"), text)

    def standard(found: re.Match[str]) -> str:
        prefix, word = found.groups()
        if word in _STANDARD:
            return prefix + _STANDARD[word]
        if prefix and prefix + word in _STANDARD:  # «بدها» is a word of its own, not «ب» + «دها»
            return _STANDARD[prefix + word]
        return found.group()

    return _WORD.sub(standard, text)


def without_opener(question: str) -> str:
    """``question`` without the chat opener before what it asks ("ok now tell me who Peskov is" -> "who
    Peskov is"); unchanged when nothing would be left."""
    kept = _OPENER_AR.sub("", _OPENER_EN.sub("", question.strip()))
    return kept if re.search(r"\w", kept) else question  # "thanks!" alone is not read as "!"


def as_written(question: str) -> str:
    """``question`` as a newspaper would write it: no chat opener, Standard Arabic function words."""
    return standard_arabic(without_opener(question))


# The words of a message that only acknowledges, thanks or greets ("ok thanks!", «شكرا كتير», "hi"), folded.
_ACKNOWLEDGING_WORDS = (
    "thanks thank you thx ty ok okay k cool great nice got it i see perfect awesome good alright bye goodbye "
    "hi hello hey so much a lot very many cheers understood fine wow lol "
    "شكرا مشكور مشكوره تسلم تسلمي يسلمو يسلموا تمام اوك اوكي طيب حلو ممتاز مرحبا اهلا هلا السلام عليكم مع "
    "السلامه جزاك الله خيرا كثير كتير جزيلا يعطيك العافيه رائع فهمت واضح")
_ACKNOWLEDGING = frozenset(_ACKNOWLEDGING_WORDS.split())


def is_acknowledgement(message: str) -> bool:
    """True for a chat message that asks nothing: thanks, ok, a greeting, or only emoji and marks ("thanks!",
    «شكرا كتير», "👍"). Inside a conversation such a message would otherwise be joined to the previous
    question and answered with its passage."""
    words = re.findall(r"\w+", fold_for_match(message))
    return all(w in _ACKNOWLEDGING for w in words) and not re.search(r"\d", message)
