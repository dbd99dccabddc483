"""The chat page's words in Arabic and English: labels, buttons, answer modes, messages.

The page chrome follows the language the reader picks; answers keep the language of their question.
"""

from __future__ import annotations

from typing import Literal

UiLanguage = Literal["ar", "en"]
#: The language choices of the page chrome, as (label, value).
LANGUAGES = [("العربية", "ar"), ("English", "en")]

#: Example questions shown under the input, in both languages (each is asked in its own language).
EXAMPLES: list[str] = [
    "لماذا لم يعلن عن الزيارة مسبقا؟",
    "Why was the visit not announced in advance?",
    "ما هي الدول الضامنة لمحادثات أستانا؟",
    "Who are the guarantor states of the Astana talks?",
    "أين التقى الأسد وبوتين؟",
    "How many warships does Moscow plan to deploy?",
]

STRINGS: dict[UiLanguage, dict[str, str]] = {
    "ar": {
        "app_name": "خبر",
        "tagline": "اسأل عن المقال بالعربية أو بالإنجليزية، وانقر على رقم المصدر لترى موضعه في النص.",
        "article": "المقال",
        "more_articles": "و{n} غيرها",
        "language": "لغة الواجهة",
        "chat_label": "المحادثة",
        "chat_placeholder": "اطرح سؤالاً عن المقال، أو اختر أحد الأمثلة أدناه.",
        "question_label": "سؤالك",
        "question_placeholder": "مثلاً: لماذا لم يعلن عن الزيارة مسبقا؟",
        "send": "إرسال",
        "new_conversation": "محادثة جديدة",
        "conversations": "المحادثات السابقة",
        "no_conversations": "لا محادثات محفوظة بعد في هذا المتصفح.",
        "delete_conversation": "احذف المحادثة",
        "stop": "إيقاف",
        "back_to_chat": "→ العودة إلى المحادثة",
        "close": "إغلاق",
        # Accessible names of Gradio's own controls, which its Arabic translation leaves in English.
        "aria_copy": "نسخ الرسالة",
        "aria_sidebar": "إظهار الشريط الجانبي أو إخفاؤه",
        "aria_chat": "المحادثة",
        "aria_user": "رسالة القارئ: ",
        "aria_bot": "رسالة خبر: ",
        "mode_label": "طريقة الجواب",
        "mode_choice_extractive": "اقتباس من المقال",
        "mode_choice_generative": "صياغة بالنموذج اللغوي",
        "mode_on": "الصياغة أبطأ، ويُتحقَّق من كل جملة فيها مقابل المقال.",
        "mode_off_unreachable": "الصياغة بالنموذج غير متاحة الآن: خادم النموذج اللغوي لا يستجيب.",
        "mode_off_not_installed": "الصياغة بالنموذج غير متاحة: لا يوجد نموذج لغوي مثبّت على هذا الخادم.",
        "mode_off_failed": "الصياغة بالنموذج غير متاحة: تعذّر تشغيل النموذج اللغوي.",
        "stopped": "أُوقف الجواب. سؤالك في المربع لتعدّله أو تعيد إرساله.",
        "examples": "أمثلة",
        "sources": "المصادر",
        "sources_empty": "ستظهر هنا المقاطع التي يستشهد بها الجواب، مع تظليل الكلمات الداعمة. "
                         "انقر على رقم مثل [1] في الجواب لفتح مصدره.",
        "sources_for": "مصادر الجواب عن:",
        "related_note": "لا يجيب المقال عن هذا السؤال. هذه أقرب المقاطع إليه، للقراءة فقط: "
                        "ليست دليلا على جواب.",
        "passage_place": "المقطع {index} من {total}",
        "passage_place_unknown": "المقطع {index}",
        "show_in_article": "أظهره في المقال",
        "read_article": "اقرأ المقال كاملاً",
        "read_article_marked": "اقرأ المقال كاملاً (المقاطع المستشهد بها مظللة)",
        "no_citations": "لم يستشهد هذا الجواب بأي مقطع.",
        "role_headline": "العنوان",
        "role_lede": "المقدمة",
        "role_subheadline": "عنوان فرعي",
        "role_body": "متن المقال",
        "mode_extractive": "منقول من كلمات المقال",
        "mode_generative": "صياغة مولَّدة ومتحقَّق منها",
        "mode_fallback": "منقول من المقال (تعذّر التحقق من الصياغة المولَّدة)",
        "mode_not_found": "غير موجود في المقال",
        "fallback_rejected": "لم تدعم المقاطع المستشهد بها الجوابَ المصاغ، فاستُبدل بكلمات المقال نفسها.",
        "fallback_llm_unavailable": "تعذّر الوصول إلى النموذج اللغوي، فهذه كلمات المقال نفسها.",
        "fallback_cancelled": "توقّف الجواب المصاغ قبل أن يكتمل، فهذه كلمات المقال نفسها.",
        "fallback_no_passages": "لم يُعطَ النموذج اللغوي مقاطع يكتب منها، فهذه كلمات المقال نفسها.",
        "details": "التفاصيل والتوقيت",
        "timing_total": "المجموع",
        "ms": "مللي ثانية",
        "note": "ملاحظة",
        "search_query": "استعلام البحث",
        "thinking": "جارٍ البحث في المقال…",
        "error_prefix": "تعذّر الجواب",
        "error_generic": "حدث خطأ غير متوقع أثناء إعداد الجواب. حاول مرة أخرى.",
        "busy": "الخادم مشغول بأسئلة أخرى الآن. أعد إرسال سؤالك بعد {seconds} ثوان تقريبا.",
        "too_long": "السؤال طويل جداً: {length} حرفاً، والحد الأقصى {limit} حرف. اختصره ثم أعد الإرسال.",
        "feedback_prompt": "شكراً على تقييمك. أضف تعليقاً إن شئت (اختياري):",
        "feedback_placeholder": "ما الذي كان جيداً أو خاطئاً في هذا الجواب؟",
        "feedback_send": "إرسال التعليق",
        "feedback_saved": "حُفظ تعليقك. شكراً!",
        "feedback_failed": "تعذّر حفظ التقييم.",
        "feedback_not_answer": "تُقيَّم الإجابات فقط، لا رسائل الخطأ.",
        "feedback_wait": "قيّم الإجابة بعد اكتمالها.",
    },
    "en": {
        "app_name": "Khabar",
        "tagline": "Ask about the article in Arabic or English, and click a source number to see where "
                   "the answer comes from.",
        "article": "Article",
        "more_articles": "and {n} more",
        "language": "Page language",
        "chat_label": "Conversation",
        "chat_placeholder": "Ask a question about the article, or pick one of the examples below.",
        "question_label": "Your question",
        "question_placeholder": "e.g. Why was the visit not announced in advance?",
        "send": "Send",
        "new_conversation": "New conversation",
        "conversations": "Earlier conversations",
        "no_conversations": "No conversations saved in this browser yet.",
        "delete_conversation": "Delete conversation",
        "stop": "Stop",
        "back_to_chat": "← Back to the conversation",
        "close": "Close",
        "aria_copy": "Copy message",
        "aria_sidebar": "Toggle Sidebar",
        "aria_chat": "chatbot conversation",
        "aria_user": "user's message: ",
        "aria_bot": "bot's message: ",
        "mode_label": "Answer mode",
        "mode_choice_extractive": "Quoted from the article",
        "mode_choice_generative": "Written by the language model",
        "mode_on": "Written answers take longer; each sentence is checked against the article.",
        "mode_off_unreachable": "Written answers are unavailable now: the language model server does not "
                                "answer.",
        "mode_off_not_installed": "Written answers are unavailable: no language model is installed on this "
                                  "server.",
        "mode_off_failed": "Written answers are unavailable: the language model could not be started.",
        "stopped": "Answer stopped. Your question is back in the box to edit or send again.",
        "examples": "Examples",
        "sources": "Sources",
        "sources_empty": "The passages an answer cites will appear here, with the supporting words "
                         "highlighted. Click a marker such as [1] in an answer to open its source.",
        "sources_for": "Sources of the answer to:",
        "related_note": "The article does not answer this question. These are the closest passages, for "
                        "reading only: they are not evidence of an answer.",
        "passage_place": "Passage {index} of {total}",
        "passage_place_unknown": "Passage {index}",
        "show_in_article": "Show in the article",
        "read_article": "Read the whole article",
        "read_article_marked": "Read the whole article (cited passages highlighted)",
        "no_citations": "This answer cites no passage.",
        "role_headline": "headline",
        "role_lede": "lede",
        "role_subheadline": "sub-headline",
        "role_body": "body",
        "mode_extractive": "From the article's words",
        "mode_generative": "Generated and verified",
        "mode_fallback": "Quoted from the article (the generated answer could not be verified)",
        "mode_not_found": "Not in the article",
        "fallback_rejected": "The cited passages did not support the written answer, so it was replaced by "
                             "the article's own words.",
        "fallback_llm_unavailable": "The language model could not be reached, so these are the article's own "
                                    "words.",
        "fallback_cancelled": "The written answer stopped before it was finished, so these are the article's "
                              "own words.",
        "fallback_no_passages": "The language model had no passage to write from, so these are the article's "
                                "own words.",
        "details": "Details and timings",
        "timing_total": "total",
        "ms": "ms",
        "note": "Note",
        "search_query": "Search query",
        "thinking": "Searching the article…",
        "error_prefix": "No answer",
        "error_generic": "Something went wrong while preparing the answer. Please try again.",
        "busy": "The server is busy with other questions. Send yours again in about {seconds} s.",
        "too_long": "The question is too long: {length} characters; the limit is {limit}. Please shorten it.",
        "feedback_prompt": "Thanks for rating. Add a comment if you like (optional):",
        "feedback_placeholder": "What was good or wrong about this answer?",
        "feedback_send": "Send comment",
        "feedback_saved": "Your comment was saved. Thank you!",
        "feedback_failed": "The rating could not be saved.",
        "feedback_not_answer": "Only answers can be rated, not error messages.",
        "feedback_wait": "Rate the answer once it is complete.",
    },
}


def t(language: str, key: str, **values: object) -> str:
    """The string ``key`` in ``language`` (English if the language is unknown), with ``values`` filled in."""
    table = STRINGS.get(language if language in STRINGS else "en")  # type: ignore[call-overload]
    text = table[key]
    return text.format(**values) if values else text


def ui_language(value: object, default: UiLanguage = "en") -> UiLanguage:
    """``ar`` or ``en`` from a setting, query parameter or Accept-Language header; ``default`` otherwise."""
    if isinstance(value, str):
        head = value.strip().lower()[:2]
        if head in ("ar", "en"):
            return head  # type: ignore[return-value]
    return default
