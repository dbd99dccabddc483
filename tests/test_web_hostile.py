"""Hostile articles on the page, in real Chromium: an ingested plain-text, HTML and Markdown article carrying
scripts, event handlers, `javascript:` links and CSS is shown inert in the chat, the sources panel and the
article view, with its words readable as text.

The articles are indexed with the real embedding model, beside the default one; the page is the real app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_browser import ask, browser, open_page  # noqa: F401 (browser: the shared fixture)

from assistant import Assistant
from assistant.server import create_app, serve_in_thread

pytestmark = pytest.mark.browser

#: Every handler or script below would set this global; it must stay undefined.
FLAG = "window.__khabarHostile"
TXT_ARTICLE = f"""نشرة المحرر عن الموقع

نشر الموقع صورة الغلاف الجديدة للمجلة <img src=x onerror="{FLAG}='txt-img'"> في عدد الشهر الماضي.

ودعا المحرر القراء إلى زيارة [صفحة الاشتراك](javascript:{FLAG}='txt-link') للحصول على النسخة الورقية.

وأضاف أن تصميم الموقع تغير <style>#khabar-chat, body {{display:none !important}}</style> بعد شكاوى القراء.

وختم المحرر مقاله بعبارة <script>{FLAG}='txt-script'</script> شكرا لكل المتابعين.
"""
HTML_ARTICLE = f"""<html><head><title>تقرير القمة</title><style>body{{display:none}}</style>
<script>{FLAG}='html-script'</script></head><body onload="{FLAG}='html-onload'">
<h1>تقرير عن مائدة العشاء في القمة</h1>
<p>قدم الطهاة طبق السمك المشوي <img src=x onerror="{FLAG}='html-img'"> على مائدة العشاء الرسمية.</p>
<p>ونشر أحد الضيوف تعليقا نصه &lt;script&gt;{FLAG}='html-escaped'&lt;/script&gt; على حسابه بعد العشاء.</p>
<p style="position:fixed;inset:0;background:red">وقال <a href="javascript:{FLAG}='html-link'">الطاهي</a>
إن الحلوى كانت من الفستق الحلبي.</p></body></html>
"""
MD_ARTICLE = f"""# ملاحظات عن الهدايا

تبادل الوفدان [الهدايا التذكارية](javascript:{FLAG}='md-link') في نهاية اللقاء.

<img src=x onerror="{FLAG}='md-img'">

كان الطقس في سوتشي ماطرا <span onmouseover="{FLAG}='md-hover'">طوال اليوم</span> بحسب الوكالة.
"""
QUESTIONS = [
    "ماذا نشر الموقع عن صورة الغلاف؟",
    "إلى أين دعا المحرر القراء للحصول على النسخة الورقية؟",
    "لماذا تغير تصميم الموقع؟",
    "بماذا ختم المحرر مقاله؟",
    "ما الطبق الذي قدمه الطهاة على مائدة العشاء؟",
    "ماذا نشر أحد الضيوف على حسابه؟",
    "ماذا تبادل الوفدان في نهاية اللقاء؟",
    "كيف كان الطقس في سوتشي؟",
]


@pytest.fixture(scope="module")
def hostile_url(make_settings, embedder, article_path, tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {"editor-note.ar.txt": TXT_ARTICLE, "dinner.ar.html": HTML_ARTICLE, "gifts.ar.md": MD_ARTICLE}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = make_settings(index_dir=folder / "index", data_dir=folder / "data",
                             corpus=[Path(article_path), *(folder / name for name in files)])
    assistant = Assistant(settings, embedder=embedder)
    with serve_in_thread(create_app(assistant)) as url:
        yield url
    assistant.close()


def test_hostile_articles_are_shown_inert_with_their_words_as_text(browser, hostile_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ar")
    page = context.new_page()
    page.set_default_timeout(60_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        open_page(page, hostile_url, lang="ar")
        shown: list[str] = []
        for question in QUESTIONS:
            ask(page, question)
            # Open every article view the sources panel offers, so that their text is laid out too.
            for details in page.locator(".khabar-sources details.khabar-article").all():
                details.evaluate("el => el.open = true")
            page.locator(".khabar-sources a.khabar-goto").first.click()
            shown.append(page.locator(".khabar-sources").text_content() or "")
            page.mouse.move(400, 400)  # over whatever is there (a mouseover handler would fire)

            assert page.evaluate(f"typeof {FLAG}") == "undefined", page.evaluate(FLAG)
            assert dialogs == []
            live = page.evaluate("""() => {
                const inside = [...document.querySelectorAll('#khabar-chat *, .khabar-sources *')];
                return {
                    handlers: inside.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                    jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
                    images: document.querySelectorAll('#khabar-chat img, .khabar-sources img').length,
                    styles: inside.filter(e => ['STYLE', 'SCRIPT', 'IFRAME'].includes(e.tagName)).length,
                    chatShown: getComputedStyle(document.querySelector('#khabar-chat')).display !== 'none',
                    bodyShown: getComputedStyle(document.body).display !== 'none',
                };
            }""")
            assert live == {"handlers": 0, "jsLinks": 0, "images": 0, "styles": 0, "chatShown": True,
                            "bodyShown": True}, (question, live)

        answers = page.locator("#khabar-chat .khabar-answer").all_inner_texts()
        assert len(answers) == len(QUESTIONS)
        text = "\n".join(shown)
        # The plain-text article's markup is part of its words: shown, as text.
        assert f'<img src=x onerror="{FLAG}=' in text and f"<script>{FLAG}=" in text
        # The HTML and Markdown articles were reduced to their text when loaded: their words are there,
        # their markup is not, except what the HTML article itself wrote as escaped text.
        assert "طبق السمك المشوي" in text and "الفستق الحلبي" in text and "الهدايا التذكارية" in text
        assert f"&lt;script&gt;{FLAG}" not in text and f"<script>{FLAG}='html-escaped'" in text
        for gone in ("html-img", "html-onload", "html-link", "md-link", "md-img", "md-hover", "inset:0"):
            assert gone not in text, gone
    finally:
        context.close()
