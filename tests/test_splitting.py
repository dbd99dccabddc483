"""Splitting the article into passages and sentences with exact offsets."""

import itertools

import pytest

from assistant.errors import ArticleError
from assistant.ingest.loading import article_from_text, load_article
from assistant.ingest.splitting import split_article, split_units


def words(text: str) -> int:
    return len(text.split())


def test_default_article_roles_and_offsets(article_path):
    article = load_article(article_path)
    assert article.id == "assad-putin-sochi"
    assert article.title == "الأسد يلتقي بوتين في سوتشي في زيارة غير معلنة"
    assert article.language == "ar"
    passages = split_article(article, max_tokens=200, count_tokens=words)
    roles = [p.role for p in passages]
    assert roles[:7] == ["headline", "lede", *["subheadline"] * 4, "body"]
    assert set(roles[6:]) == {"body"}
    for p in passages:
        assert article.text[p.span.start:p.span.end] == p.text
    assert [p.id for p in passages] == [f"assad-putin-sochi#p{i}" for i in range(len(passages))]


def test_passages_are_bounded_in_tokens_and_cover_the_paragraph():
    text = "العنوان\n\n" + " ".join(f"جملة رقم {i} عن المحادثات في سوتشي." for i in range(40))
    article = article_from_text(text, source="t.txt", article_id="t")
    passages = split_article(article, max_tokens=30, count_tokens=words)
    body = [p for p in passages if p.role != "headline"]
    assert len(body) > 1
    assert all(words(p.text) <= 30 for p in body)
    # Consecutive passages leave only whitespace between them: nothing is lost.
    for a, b in itertools.pairwise(body):
        assert article.text[a.span.end:b.span.start].strip() == ""


def test_sentences_split_on_arabic_punctuation_and_keep_clauses():
    text = ("عنوان\n\nهل انتهت الجولة؟ نعم انتهت الجولة التاسعة؛ وقال المتحدث إن اللقاء كان وديا جدا، "
            "وإن الطرفين ناقشا صفقة الصواريخ بالتفصيل الكامل.")
    article = article_from_text(text, source="t.txt", article_id="t")
    body = split_article(article, max_tokens=200, count_tokens=words)[1]
    units = split_units(article, body)
    texts = [u.text for u in units]
    assert texts[0] == "هل انتهت الجولة؟"
    assert texts[1] == "نعم انتهت الجولة التاسعة؛"
    assert "وقال المتحدث إن اللقاء كان وديا جدا" in texts  # a clause, without its comma
    for u in units:
        assert article.text[u.span.start:u.span.end] == u.text


def test_markdown_and_html_articles_load_as_text(tmp_path):
    md = tmp_path / "news.md"
    md.write_text("# عنوان الخبر\n\nفقرة **مهمة** عن [سوتشي](http://x).\n", encoding="utf-8")
    article = load_article(md)
    assert article.title == "عنوان الخبر"
    assert "فقرة مهمة عن سوتشي." in article.text
    html = tmp_path / "news.html"
    html.write_text("<html><head><script>x()</script></head><body><h1>Title</h1><p>One &amp; two.</p>"
                    "</body></html>", encoding="utf-8")
    article = load_article(html)
    assert article.text == "Title\n\nOne & two."
    assert article.language == "en"
    # The page's <title> is its <h1> too: one headline, not two identical passages.
    html.write_text("<html><head><title>مترو القاهرة</title></head><body><nav><a href=/>الرئيسية</a></nav>"
                    "<h1>مترو القاهرة</h1><p>افتتح الخط الثالث.</p></body></html>", encoding="utf-8")
    assert load_article(html).text.count("مترو القاهرة") == 1


def test_hostile_markup_in_an_article_leaves_only_its_text(tmp_path):
    """Scripts, styles, event handlers and `javascript:` links are not article text; escaped markup stays
    literal text (the page escapes it when showing it)."""
    html = tmp_path / "hostile.html"
    html.write_text(
        '<html><head><style>body{display:none}</style><script>steal()</script></head>'
        '<body onload="steal()"><h1>قمة سوتشي</h1><p>ناقشت القمة <img src=x onerror="steal()">ملف الغاز.</p>'
        '<p>وقع <a href="javascript:steal()">الاتفاق</a> في الربيع. &lt;b&gt;نص&lt;/b&gt;</p>'
        '<iframe src="https://example.org">إطار</iframe><svg><script>steal()</script></svg></body></html>',
        encoding="utf-8")
    article = load_article(html)
    assert article.text == "قمة سوتشي\n\nناقشت القمة ملف الغاز.\n\nوقع الاتفاق في الربيع. <b>نص</b>"
    md = tmp_path / "hostile.md"
    md.write_text('# ملاحظات\n\nتبادل الوفدان [الهدايا](javascript:steal()) في النهاية.\n\n'
                  '<script>steal()</script>\n\n<style>#khabar-chat{display:none}</style>\n\n'
                  'كان الطقس <img src=x onerror="steal()">ماطرا.\n', encoding="utf-8")
    article = load_article(md)
    assert article.text == "ملاحظات\n\nتبادل الوفدان الهدايا في النهاية.\n\nكان الطقس ماطرا."
    assert "steal" not in article.text and "display" not in article.text


def test_markdown_front_matter_is_metadata_not_text(tmp_path):
    md = tmp_path / "summit.md"
    md.write_text("---\ntitle: قمة سوتشي\nauthor: مراسل\n---\n\nالتقى الرئيسان في سوتشي.\n", encoding="utf-8")
    article = load_article(md)
    # The front matter's title heads the text (the headline), its other fields are gone.
    assert article.text == "قمة سوتشي\n\nالتقى الرئيسان في سوتشي."
    assert article.title == "قمة سوتشي"
    # Front matter and nothing else is no article (it used to become one titled "title: x").
    empty = tmp_path / "empty.md"
    empty.write_text("---\ntitle: x\n---\n", encoding="utf-8")
    with pytest.raises(ArticleError, match="no text"):
        load_article(empty)
    # Two horizontal rules around text are not front matter: the text stays.
    rules = article_from_text("---\n\nنص بين خطين.\n\n---\n\nنص بعدهما.", source="r.md", article_id="r",
                              kind=".md")
    assert rules.text == "نص بين خطين.\n\nنص بعدهما."
    # Values as written (no date or boolean), behind a byte-order mark too.
    dated = article_from_text("\ufeff---\ntitle: 2018-05-17\n---\n\nنص.", source="d.md", article_id="d",
                              kind=".md")
    assert dated.title == "2018-05-17" and dated.text == "2018-05-17\n\nنص."
