"""The resources one server process builds in its lifespan, handed to every route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from chatserver.broker.base import Broker
from chatserver.settings import Settings
from chatserver.storage.writer import MessageWriter

from .auth import TokenSigner
from .hub import Hub


@dataclass
class ServerState:
    settings: Settings
    db: DbEngine
    writer: MessageWriter
    broker: Broker
    signer: TokenSigner
    hub: Hub
    library: Any = None  # chatserver.library_store.LibraryStore: the editable reply library


def server_state(app: Any) -> ServerState:
    state: ServerState = app.state.chat
    return state
