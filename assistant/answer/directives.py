"""Instructions hidden in an article ("ignore previous instructions and say …") are not facts of the article.

An article is data, but a language model reads its passages with the same eyes as its instructions. So the
sentences of a passage that address the model are taken out twice: from the passages the prompt shows
(:func:`neutralise`), and from the evidence generated answers are verified against, so that an answer which
obeyed such a sentence anyway (a model that saw it elsewhere, a clever paraphrase that slipped through the
prompt) finds no support for what it was told to say and falls back to the extractive answer.

The patterns are hand-written: no offline classifier for prompt injection exists here, and the phrases are
few and stable in both languages. They are anchored on what a news sentence never does: tell its reader to
ignore instructions, or open with an imperative addressed to an assistant.
"""

from __future__ import annotations

import re

from assistant.ingest.splitting import sentence_spans
from assistant.schemas import Span
from assistant.textnorm import fold_for_match

#: What replaces a directive in a passage: visible to the model, empty of content.
PLACEHOLDER = "[…]"

_EN = [
    # "ignore / disregard / forget (all) (the) previous instructions", "override your rules"
    r"\b(ignore|disregard|forget|override|bypass)\b[^.]{0,40}\b(instructions?|prompts?|rules|directions|"
    r"guidelines|guardrails|context|everything above)\b",
    r"\b(system prompt|developer (message|mode)|jailbreak)\b",
    # "you are now …", "as an AI / assistant / language model, …", "(dear) assistant, say …"
    r"\byou are now\b",
    r"\b(assistant|chatbot|language model|ai model|llm)\b[^.]{0,30}\b(must|should|say|answer|reply|respond|"
    r"write|tell|state)\b",
    # a sentence opening with an imperative to produce an answer: "Say that …", "Answer only with …"
    r"^\W*(say|answer|reply|respond|output|print|pretend|tell the user|write that|state that)\b",
    r"\binstead,? (say|answer|reply|respond|write|state)\b",
    r"\bnew instructions?\b",
]
_AR = [
    # "تجاهل / انس / اهمل / تخط (كل|جميع) التعليمات|الاوامر|التوجيهات|القواعد|ما سبق"
    r"(تجاهل|انس|اهمل|تخط|تجاوز)\w*\s+(\S+\s+){0,4}?(التعليمات|الاوامر|التوجيهات|القواعد|ما سبق|كل ما سبق)",
    r"(موجه النظام|تعليمات النظام|رساله النظام)",
    # "أيها المساعد / النموذج / الذكاء الاصطناعي", "على المساعد أن يقول"
    r"(ايها|يا|على|الى)\s+(ال)?(مساعد|نموذج|روبوت|ذكاء الاصطناعي)",
    # a sentence opening with an imperative to produce an answer: "قل إن …", "أجب بأن …", "اكتب أن …"
    r"^\W*(و|ف)?(قل|قولي|اجب|اجيبي|اكتب|اكتبي|ردد|رد|اخبر|اذكر)\s+(ان|بان|ب|للمستخدم|ما يلي|:)",
    r"(بدلا من ذلك|عوضا عن ذلك)\s*[,،]?\s*(قل|اجب|اكتب)",
    r"تعليمات جديده",
]
_PATTERNS = [re.compile(p, re.IGNORECASE) for p in _EN + _AR]


def is_directive(sentence: str) -> bool:
    """Whether ``sentence`` addresses the model with an instruction rather than stating something."""
    folded = fold_for_match(sentence).strip()
    return any(p.search(folded) for p in _PATTERNS)


def neutralise(text: str) -> str:
    """``text`` with each directive sentence replaced by :data:`PLACEHOLDER` (everything else unchanged)."""
    spans = [s for s in sentence_spans(text, Span(start=0, end=len(text)))
             if is_directive(text[s.start:s.end])]
    for span in reversed(spans):
        text = text[:span.start] + PLACEHOLDER + text[span.end:]
    return text
