"""The resources one server process builds in its lifespan, handed to every route."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine as DbEngine

from chatserver.broker.base import Broker
from chatserver.settings import Settings
from chatserver.storage.writer import MessageWriter

from .auth import TokenSigner
from .hub import Hub
from .limits import Limits

Clock = Callable[[], float]


@dataclass
class ServerState:
    settings: Settings
    db: DbEngine
    writer: MessageWriter
    broker: Broker
    signer: TokenSigner
    hub: Hub
    library: Any = None  # chatserver.library_store.LibraryStore: the editable reply library
    learning: Any = None  # chatserver.situation_learning.SituationLearning: feedback and retraining
    # Wall-clock seconds for every route and socket: one clock, so a test can move time for all.
    clock: Clock = time.time
    # Abuse limits of this process (sessions, logins, sockets), built from ``settings``.
    limits: Limits = field(default_factory=Limits)


def server_state(app: Any) -> ServerState:
    state: ServerState = app.state.chat
    return state
