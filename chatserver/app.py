"""``create_app(settings)``: routes plus a lifespan that builds the database, broker, writer and hub."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from chatserver.assistant import Assistant
from chatserver.broker import broker_from_url
from chatserver.core.engine import Engine
from chatserver.library_store import LibraryStore
from chatserver.mail import mail_sender
from chatserver.settings import Settings
from chatserver.situation_learning import SituationLearning
from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine, migrate
from chatserver.storage.writer import MessageWriter
from chatserver.transport import rest
from chatserver.transport.admin_api import admin_routes
from chatserver.transport.admin_operators_api import admin_operator_routes
from chatserver.transport.assistant_api import assistant_routes
from chatserver.transport.auth import TokenSigner
from chatserver.transport.blocks_api import block_routes
from chatserver.transport.console_routes import console_routes
from chatserver.transport.cors import VisitorCorsMiddleware
from chatserver.transport.customer_api import customer_routes
from chatserver.transport.hold_api import hold_routes
from chatserver.transport.http_edge import ApiError, api_error_handler, http_error_handler
from chatserver.transport.hub import Hub
from chatserver.transport.ideas_api import ideas_routes
from chatserver.transport.limits import Limits
from chatserver.transport.metrics_api import metrics_routes
from chatserver.transport.operator_ws import operator_endpoint
from chatserver.transport.redis_core_log import RedisLog
from chatserver.transport.reports_api import report_routes
from chatserver.transport.state import Clock, ServerState
from chatserver.transport.static_routes import static_routes
from chatserver.transport.supervision_api import supervision_routes
from chatserver.transport.visitor_ws import visitor_endpoint

log = logging.getLogger("chatserver")

SECRET_SETTING = "token_secret"


def settle_heap() -> None:
    """Keep what startup built (modules, the recognizer's weights, libraries) out of every GC pass.

    A full collection walked all of it each time: measured 190-250 ms pauses in the middle of
    a chat load, every few seconds, each one a stall for every socket. Frozen objects are
    never collected, which is right for data that lives as long as the process.

    Then collect the young generation every 50,000 allocations rather than 700: a message's
    objects live for its group commit (milliseconds), and at 700 they outlived a young
    collection, were promoted and made full collections (which walk every socket's
    objects, ~70 each) come every few seconds.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(settings: Settings | None = None, *, clock: Clock = time.time) -> Starlette:
    """The app; ``clock`` (wall-clock seconds) is the one clock of its hub, library, routes and sockets."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = create_db_engine(settings.database_url, background_checkpoints=True)
        migrate(db)
        writer = MessageWriter(db, checkpoint_every_s=1.0)
        await writer.start()
        broker = broker_from_url(settings.redis_url)
        await broker.connect()
        key = settings.secret_key or await writer.run(
            repo.set_setting_if_absent, key=SECRET_SETTING, value=secrets.token_hex(32)
        )
        assert key

        def new_engine() -> Engine:
            return Engine(
                default_capacity=settings.default_capacity,
                grace_s=settings.operator_grace_s,
                default_handle_s=settings.default_handle_s,
                transfer_offer_s=settings.transfer_offer_s,
                transfer_max_offers=settings.transfer_max_offers,
                hold_interval_s=settings.hold_interval_s,
                silence_s=settings.silence_s,
                promise_notice_s=settings.promise_notice_s,
                check_back_remind_s=settings.check_back_remind_s,
            )

        engine = new_engine()
        # With Redis, every process keeps a replica of the routing core fed by one shared log.
        core_log: RedisLog | None = None
        if settings.redis_url:
            core_log = RedisLog(
                settings.redis_url, secret=hashlib.sha256(b"core-log:" + key.encode()).digest()
            )
            await core_log.connect()
        library = LibraryStore(writer, clock=clock)
        await library.load()
        learning = SituationLearning(writer, broker, clock=clock)
        await learning.start()
        assistant = None
        if settings.suggestions:
            assistant = Assistant(lambda: library.current, company_name=settings.company_name)
        hub = Hub(
            engine=engine,
            broker=broker,
            writer=writer,
            assistant=assistant,
            record_usage=library.record_usages,
            record_feedback=learning.record,
            suggest_cpu_share=settings.suggest_cpu_share,
            clock=clock,
            core_log=core_log,
            process=f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}" if core_log else "",
            new_engine=new_engine,
            db_ping_timeout_s=settings.db_ping_timeout_s,
            mail=mail_sender(settings.mail_url, settings.mail_from),
        )
        app.state.chat = ServerState(
            settings=settings,
            db=db,
            writer=writer,
            broker=broker,
            signer=TokenSigner(key.encode()),
            hub=hub,
            library=library,
            learning=learning,
            clock=clock,
            limits=Limits(settings),
        )
        await hub.start()
        settle_heap()
        try:
            yield
        finally:
            await hub.stop()
            if core_log is not None:
                await core_log.close()
            await library.close()
            await learning.close()
            await broker.disconnect()
            await writer.stop()
            db.dispose()

    routes = [
        Route("/healthz", rest.healthz),
        Route("/readyz", rest.readyz),
        Route("/api/visitor/sessions", rest.create_visitor_session, methods=["POST"]),
        Route("/api/operators/login", rest.operator_login, methods=["POST"]),
        Route(
            "/api/admin/operators/{operator_id:int}/deactivate", rest.deactivate_operator, methods=["POST"]
        ),
        WebSocketRoute("/ws/visitor", visitor_endpoint),
        WebSocketRoute("/ws/operator", operator_endpoint),
        *customer_routes(),
        *admin_routes(),
        *admin_operator_routes(),
        *block_routes(),
        *assistant_routes(),
        *ideas_routes(),
        *supervision_routes(),
        *report_routes(),
        *console_routes(),
        *hold_routes(),
        *metrics_routes(),
        *static_routes(demo=settings.demo, identity_secret=settings.identity_secret),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(VisitorCorsMiddleware, origins=settings.allowed_origins)],
        exception_handlers={ApiError: api_error_handler, HTTPException: http_error_handler},
    )
