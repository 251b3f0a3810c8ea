"""The visitor widget as shops load it: one classic script joined from its parts in ``widget/src/``.

A shop embeds the widget with a single ``<script src=".../widget.js">`` tag, so on the wire it must
stay one file with one IIFE. The source is kept in parts by purpose so that each stays readable;
they are fragments of that one function (the first opens it, the last closes it), not modules,
and are joined byte for byte in the order of :data:`WIDGET_PARTS`, with nothing added between.
"""

from __future__ import annotations

from pathlib import Path

WIDGET_SRC_DIR = Path(__file__).resolve().parents[2] / "widget" / "src"

# The order the parts are joined in (also their file-name order: the numbers make it visible).
WIDGET_PARTS: tuple[str, ...] = (
    "00-head.js",  # banner, IIFE start, wire names (frame types T, error codes E), server origin
    "10-i18n.js",  # texts per language, language choice, wait-time wording
    "20-state.js",  # localStorage/sessionStorage helpers, the state object and its persistence
    "30-dom.js",  # element and icon builders, initials, clock
    "40-styles.js",  # the stylesheet adopted by the shadow root
    "50-panel.js",  # building the bubble and panel, opening/closing, the unread badge
    "55-header-status.js",  # header, queue/wait/transfer status line, connection line
    "60-messages.js",  # the ordered message list and incoming messages
    "65-outbox.js",  # sending, retrying and acknowledging the visitor's messages
    "70-socket.js",  # session, WebSocket connect/resume, reconnect with backoff, page reports
    "75-frames.js",  # handlers for each incoming frame type
    "80-typing.js",  # typing indicators both ways
    "85-leave-message.js",  # leaving a message (with an optional email), the answer promised
    "88-boundary.js",  # the abusive visitor protocol: the cool-down and the block
    "90-rating.js",  # the rating and NPS card when a chat ends
    "99-start.js",  # restoring the log and outbox, start-up, the public handle, IIFE end
)


def widget_part_paths() -> list[Path]:
    """The part files, in the order they are joined."""
    return [WIDGET_SRC_DIR / name for name in WIDGET_PARTS]


def widget_stamp() -> tuple[int, ...]:
    """The parts' modification times: a cache of the joined script is stale once this changes."""
    return tuple(path.stat().st_mtime_ns for path in widget_part_paths())


def widget_source() -> bytes:
    """The script served at ``/widget.js``: every part, in order (raises ``OSError`` if one is missing)."""
    return b"".join(path.read_bytes() for path in widget_part_paths())
