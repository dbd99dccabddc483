"""Starts Khabar: the chat page and the HTTP API on one port (host and port from KHABAR_ settings)."""

from assistant.server import main

if __name__ == "__main__":
    main()
