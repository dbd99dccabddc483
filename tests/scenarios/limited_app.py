"""An API over a stand-in assistant for ``uvicorn --workers N --factory limited_app:app``: several worker
processes, as a deployment would run them, each naming itself in an ``X-Worker-Pid`` header. Settings come
from the environment (``KHABAR_DATA_DIR``, ``KHABAR_API_KEYS``, ``KHABAR_RATE_LIMIT_PER_MINUTE``)."""

import os

from assistant import Settings
from assistant.api import create_api
from assistant.schemas import ArticleInfo


class Listing:
    """Just enough of an Assistant to list articles: the rate limit is the point, not the answers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def ready(self) -> bool:
        return True

    def articles(self) -> list[ArticleInfo]:
        return []


def app():
    api = create_api(Listing(Settings(_env_file=None)))

    @api.middleware("http")
    async def name_the_worker(request, call_next):
        response = await call_next(request)
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return api
