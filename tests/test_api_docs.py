"""The API's documentation works offline: /docs (Swagger UI) and /redoc load every script, style and icon
from the server itself (fastapi-offline's packaged copies), never from a CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from api_support import sibling

from assistant.server import create_app, serve_in_thread


class _Assets(HTMLParser):
    """Collects every URL a page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def referenced(html: str) -> list[str]:
    """The asset URLs of a page, plus URLs its inline scripts load (the OpenAPI document)."""
    parser = _Assets()
    parser.feed(html)
    inline = re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
    return parser.urls + inline


@pytest.fixture(scope="module")
def base_url(assistant):
    with serve_in_thread(create_app(sibling(assistant, rate_limit_per_minute=0))) as url:
        yield url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_page_and_all_its_assets_come_from_the_server(base_url, page):
    with httpx.Client(base_url=base_url, timeout=60) as c:
        response = c.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
        urls = referenced(response.text)
        kinds = {urlsplit(u).path.rsplit(".", 1)[-1] for u in urls}
        assert "js" in kinds, urls  # the page really references its script bundle
        assert "/openapi.json" in urls
        for url in urls:
            absolute = urljoin(f"{base_url}{page}", url)
            assert absolute.startswith(base_url), f"{page} loads {url} from elsewhere"
            asset = c.get(absolute)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url  # a real file, not an empty answer
        # No CDN, no web font service, not even in text the browser might follow.
        for host in ("cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis.com", "fastapi.tiangolo.com"):
            assert host not in response.text


def test_swagger_bundle_is_the_real_swagger_ui(base_url):
    page = httpx.get(f"{base_url}/docs", timeout=60).text
    bundle = next(u for u in referenced(page) if u.endswith("swagger-ui-bundle.js"))
    body = httpx.get(urljoin(base_url, bundle), timeout=60)
    assert "javascript" in body.headers["content-type"]
    assert "SwaggerUIBundle" in body.text and len(body.content) > 500_000
