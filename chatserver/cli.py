"""``chatserver serve [--demo]`` and ``chatserver operator add|deactivate``."""

from __future__ import annotations

import argparse
import dataclasses
import resource
import signal
import sys
import time
from collections.abc import Sequence

from chatserver.demo import CUSTOMER_ID, DemoSeed, seed_demo_history
from chatserver.logs import configure_logging
from chatserver.settings import Settings, SettingsError
from chatserver.storage import repository as repo
from chatserver.storage.db import create_db_engine, migrate
from chatserver.storage.errors import DuplicateEmail
from chatserver.transport.auth import hash_password

DEMO_ACCOUNTS = (
    ("anna@demo.example", "Anna Nowak", "Customer care", "operator", "demo-anna", ("support",)),
    ("tomas@demo.example", "Tomáš Dvořák", "Technical specialist", "operator", "demo-tomas", ("technical",)),
    ("admin@demo.example", "Demo Admin", "Team lead", "admin", "demo-admin", ("support",)),
)


def raise_open_file_limit() -> int:
    """Each chat holds sockets: lift the soft limit (and the hard one when allowed) as far as we may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (1_048_576, 262_144, 65_536):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
            return target
        except (ValueError, OSError):
            continue
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    except (ValueError, OSError):
        return soft


def _prepared_db(settings: Settings):  # type: ignore[no-untyped-def]
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    return engine


def create_demo_accounts(settings: Settings) -> list[tuple[str, str, str]]:
    engine = _prepared_db(settings)
    logins = []
    for email, name, title, role, password, teams in DEMO_ACCOUNTS:
        try:
            repo.create_operator(
                engine,
                email=email,
                name=name,
                title=title,
                role=role,
                teams=teams,
                password_hash=hash_password(password),
                now=time.time(),
            )
        except DuplicateEmail:
            pass
        logins.append((role, email, password))
    engine.dispose()
    return logins


DEMO_IDENTITY_SECRET = "demo-identity-secret"  # --demo only: signs the demo customer in


def seed_demo(settings: Settings) -> DemoSeed:
    """The demo customer and a week of history, across the demo operators (once per database)."""
    engine = _prepared_db(settings)
    try:
        accounts = [repo.get_operator_by_email(engine, email=account[0]) for account in DEMO_ACCOUNTS]
        operators = [op for op in accounts if op is not None and op.role == "operator"]
        return seed_demo_history(engine, operators, now=time.time())
    finally:
        engine.dispose()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from chatserver.app import create_app
    from chatserver.transport.ws_protocol import uvicorn_config

    raise_open_file_limit()
    if args.demo:
        # The demo shop signs its demo customer in (/demo/customer) unless the shop's secret is set.
        secret = settings.identity_secret or DEMO_IDENTITY_SECRET
        settings = dataclasses.replace(settings, demo=True, identity_secret=secret)
        print("Demo accounts (role, email, password):")
        for role, email, password in create_demo_accounts(settings):
            print(f"  {role:9} {email:22} {password}")
        seeded = seed_demo(settings)
        if seeded.conversations:
            print(
                f"Demo history: {seeded.conversations} closed chats over the last 7 days, "
                f"{seeded.ratings} rated; customer {CUSTOMER_ID} with {seeded.orders} orders"
            )
        print(f"Operator login: POST http://{args.host}:{args.port}/api/operators/login")
        print(f"Demo shop with the chat widget: http://{args.host}:{args.port}/demo")
        print(f"The same, signed in as the demo customer: http://{args.host}:{args.port}/demo/customer")
    config = uvicorn_config(
        create_app(settings),
        host=args.host,
        port=args.port,
        max_frame_bytes=settings.max_frame_bytes,
        log_level=args.log_level,
        json_logs=settings.log_format == "json",
        access_log=args.access_log,
    )
    # uvicorn shuts down gracefully on SIGTERM (stops accepting, sockets answer what they took
    # and close with 1001, then the lifespan flushes the writer), then raises the signal again
    # against the handler found before it ran. That graceful stop is a clean exit: with this
    # handler the process ends with 0, not as killed by SIGTERM.
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.Server(config).run()
    return 0


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM after uvicorn's graceful shutdown: nothing left to do."""


def cmd_operator_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = _prepared_db(settings)
    try:
        operator = repo.create_operator(
            engine,
            email=args.email,
            name=args.name,
            title=args.title,
            role=args.role,
            teams=args.team,
            capacity=args.capacity,
            password_hash=hash_password(args.password),
            now=time.time(),
        )
    except DuplicateEmail:
        print(f"error: an operator with email {args.email} already exists", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(operator.id)
    return 0


def cmd_operator_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    engine = _prepared_db(settings)
    try:
        operator = repo.get_operator_by_email(engine, email=args.email)
        if operator is None:
            print(f"error: no operator with email {args.email}", file=sys.stderr)
            return 1
        repo.set_operator_active(engine, operator_id=operator.id, active=False)
    finally:
        engine.dispose()
    print(f"deactivated {args.email} (a running server closes their sockets on their next sign-in check)")
    return 0


def cmd_assistant_retrain(args: argparse.Namespace, settings: Settings) -> int:
    """Retrain the situation model on the dev set and the operators' feedback; store and announce it."""
    import asyncio
    import json

    from chatserver.retraining import retrain
    from responses import devset
    from responses.recognize.learned import SituationModel

    engine = _prepared_db(settings)
    try:
        latest = repo.latest_situation_model(engine)
        current = SituationModel.from_bytes(latest.data) if latest is not None else None
        base = devset.load("train")[: args.base_items] if args.base_items else None
        outcome = retrain(repo.list_situation_feedback(engine), current, base=base, seed=args.seed)
        model_id = repo.store_situation_model(
            engine, data=outcome.model.to_bytes(), report=outcome.report, operator_id=None, now=time.time()
        )
    finally:
        engine.dispose()
    if settings.redis_url:
        asyncio.run(_announce_model(settings.redis_url, model_id))
    print(json.dumps({"id": model_id, **outcome.report}, indent=2))
    return 0


async def _announce_model(redis_url: str, model_id: int) -> None:
    """Tell the running servers to load the new model (without Redis they load it on start-up)."""
    from chatserver.broker import broker_from_url
    from chatserver.situation_learning import MODEL_CHANNEL

    broker = broker_from_url(redis_url)
    await broker.connect()
    try:
        await broker.publish(MODEL_CHANNEL, str(model_id))
    finally:
        await broker.disconnect()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatserver", description="Live-chat server for customer service teams"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="create demo operators and an admin, print their logins"
    )
    levels = ["critical", "error", "warning", "info", "debug"]
    serve.add_argument("--log-level", default="info", choices=levels)
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request and every websocket opened and closed (off: not on the hot path)",
    )
    serve.set_defaults(run=cmd_serve)

    operator = sub.add_parser("operator", help="manage operator accounts")
    op_sub = operator.add_subparsers(dest="operator_command", required=True)
    add = op_sub.add_parser("add", help="create an operator or admin account")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", choices=["operator", "admin", "supervisor"], default="operator")
    add.add_argument("--team", action="append", default=[])
    add.add_argument("--capacity", type=int, default=None)
    add.add_argument("--title", default="")
    add.set_defaults(run=cmd_operator_add)
    deactivate = op_sub.add_parser("deactivate", help="turn an account off")
    deactivate.add_argument("--email", required=True)
    deactivate.set_defaults(run=cmd_operator_deactivate)

    assistant = sub.add_parser("assistant", help="the reply assistant's situation model")
    as_sub = assistant.add_subparsers(dest="assistant_command", required=True)
    retrain = as_sub.add_parser(
        "retrain", help="retrain the situation model from the operators' feedback and report its accuracy"
    )
    retrain.add_argument("--seed", type=int, default=0)
    retrain.add_argument(
        "--base-items",
        type=int,
        default=0,
        help="train on only the first N dev-set items beside the feedback (a quick look; 0: all)",
    )
    retrain.set_defaults(run=cmd_assistant_retrain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if getattr(args, "capacity", 0) is None:
        args.capacity = settings.default_capacity
    if getattr(args, "capacity", 1) is not None and getattr(args, "capacity", 1) < 1:
        print("error: --capacity must be at least 1", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
