"""Starts Khabar: the chat page and the HTTP API on one port (host and port from KHABAR_ settings).

Bot-only deployments serve the API alone: ``uvicorn --factory assistant.server:api_only_app``.
"""

from assistant.server import main

if __name__ == "__main__":
    main()
