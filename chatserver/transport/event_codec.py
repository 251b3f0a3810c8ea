"""Core events as JSON, so every server process can feed its core the same events in the same order.

An event is ``{"t": <class name>, <field>: <value>, ...}``; frozensets travel as sorted lists.
Only the classes in ``core.events.Event`` decode: anything else is refused, never constructed.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from chatserver.core import events as ev

_CLASSES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(ev.Event)}
_SET_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(
        field for field, hint in typing.get_type_hints(cls).items() if typing.get_origin(hint) is frozenset
    )
    for name, cls in _CLASSES.items()
}


class UndecodableEvent(ValueError):
    """The data is not one of the core's events."""


def encode_event(event: ev.Event) -> dict[str, Any]:
    data: dict[str, Any] = {"t": type(event).__name__}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        data[field.name] = sorted(value) if isinstance(value, frozenset) else value
    return data


def decode_event(data: dict[str, Any]) -> ev.Event:
    name = data.get("t")
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise UndecodableEvent(f"unknown event type {name!r}")
    sets = _SET_FIELDS[cls.__name__]
    kwargs = {k: frozenset(v) if k in sets else v for k, v in data.items() if k != "t"}
    try:
        event: ev.Event = cls(**kwargs)
    except TypeError as exc:
        raise UndecodableEvent(str(exc)) from exc
    return event
