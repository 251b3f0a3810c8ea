"""The page the visitor is on, as the widget reports it: which addresses and titles are kept.

The page is stored per visitor (it survives a reconnect and is seen by every server
process) and shown in the context beside the chat; ``transport.visitor_pages`` takes the
widget's frame and tells the operator who has the chat.
"""

from __future__ import annotations

MAX_URL = 2048
MAX_TITLE = 300


def kept_url(url: str) -> str | None:
    """The address without surrounding spaces, or None: only http(s) addresses up to MAX_URL are kept."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        return None
    return url


def kept_title(title: object) -> str | None:
    """The title trimmed to MAX_TITLE characters; None for no title or a blank one."""
    if not isinstance(title, str):
        return None
    return title.strip()[:MAX_TITLE] or None
