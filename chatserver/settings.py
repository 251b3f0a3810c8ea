"""Configuration, read once from ``CHAT_*`` environment variables, cast, failing loudly.

Every knob has an embedded default so ``chatserver serve`` works with no configuration:
a SQLite file in the working folder and an in-process broker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A ``CHAT_*`` variable holds a value that cannot be used; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default, minimum=0.01)
    if value > 1.0:
        raise SettingsError(f"{name} must be a share between 0.01 and 1, got {value}")
    return value


def _mail_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("CHAT_MAIL_URL") or None
    if raw and not raw.startswith(("file://", "smtp://")):
        raise SettingsError(f"CHAT_MAIL_URL must start with file:// or smtp://, got {raw!r}")
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and "://" not in origin:
            raise SettingsError(f"{name}: {origin!r} is not an origin like https://shop.example")
    return origins


def _segment_pair(env: Mapping[str, str], name: str, *, shares: bool) -> tuple[float, float] | None:
    """Two numbers "x,y": growing shares of order value (0-1], or falling order values."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        first, second = (float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(f"{name} must be two numbers like 0.8,0.95, got {raw!r}") from None
    if shares and not 0 < first < second <= 1:
        raise SettingsError(f"{name} must be two shares with 0 < first < second <= 1, got {raw!r}")
    if not shares and not first > second >= 0:
        raise SettingsError(f"{name} must be two order values with first > second >= 0, got {raw!r}")
    return first, second


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment, already validated."""

    database_url: str = "sqlite:///./chat.db"
    redis_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    identity_secret: str | None = None
    secret_key: str | None = None
    operator_grace_s: float = 60.0
    hello_timeout_s: float = 10.0
    default_capacity: int = 3
    default_handle_s: float = 240.0
    visitor_token_ttl_s: int = 30 * 24 * 3600
    operator_token_ttl_s: int = 12 * 3600
    max_frame_bytes: int = 16 * 1024
    max_text_chars: int = 4000
    cool_down_s: int = 60  # how long a visitor given a boundary cool-down cannot send
    ws_frames_per_s: float = 20.0
    ws_frames_burst: int = 256
    ws_send_queue_frames: int = 2000
    ws_send_queue_bytes: int = 1024 * 1024
    max_body_bytes: int = 64 * 1024
    suggestions: bool = True
    suggest_cpu_share: float = 0.2
    company_name: str | None = None
    order_feed_key: str | None = None
    segment_shares: tuple[float, float] = (0.8, 0.95)
    segment_amounts: tuple[float, float] | None = None
    segment_d_cases: int = 3
    segment_refresh_s: float = 300.0
    transfer_offer_s: float = 30.0
    transfer_max_offers: int = 2
    hold_interval_s: float = 45.0
    silence_s: float = 60.0
    promise_notice_s: float = 10.0
    check_back_remind_s: float = 60.0
    mail_url: str | None = None  # file:///folder or smtp://host:port (chatserver/mail.py)
    mail_from: str = "chat@localhost"
    # Abuse limits (docs/protocol.md#limits); 0 switches a limit off. Counted per process.
    trust_forwarded_for: bool = False
    visitor_sessions_per_minute: int = 30
    login_free_failures: int = 5
    login_ip_free_failures: int = 20
    login_lockout_s: float = 1.0
    login_lockout_max_s: float = 900.0
    sockets_per_ip: int = 200
    sockets_per_visitor: int = 10
    sockets_per_operator: int = 10
    db_ping_timeout_s: float = 1.0
    # Bearer token of GET /metrics; unset: the route answers 404.
    metrics_token: str | None = None
    # Log lines as text, or one JSON object per line ("json").
    log_format: str = "text"
    demo: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment once; raise SettingsError naming the bad variable."""
        env = os.environ if env is None else env
        database_url = env.get("CHAT_DATABASE_URL") or cls.database_url
        redis_url = env.get("CHAT_REDIS_URL") or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "memory://")):
            raise SettingsError(f"CHAT_REDIS_URL must start with redis:// or rediss://, got {redis_url!r}")
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            allowed_origins=_origins(env, "CHAT_ALLOWED_ORIGINS"),
            identity_secret=env.get("CHAT_IDENTITY_SECRET") or None,
            secret_key=env.get("CHAT_SECRET_KEY") or None,
            operator_grace_s=_float(env, "CHAT_OPERATOR_GRACE_S", 60.0),
            hello_timeout_s=_float(env, "CHAT_HELLO_TIMEOUT_S", 10.0, minimum=0.1),
            default_capacity=_int(env, "CHAT_DEFAULT_CAPACITY", 3, minimum=1),
            default_handle_s=_float(env, "CHAT_DEFAULT_HANDLE_S", 240.0, minimum=1.0),
            visitor_token_ttl_s=_int(env, "CHAT_VISITOR_TOKEN_TTL_S", 30 * 24 * 3600, minimum=60),
            operator_token_ttl_s=_int(env, "CHAT_OPERATOR_TOKEN_TTL_S", 12 * 3600, minimum=60),
            max_text_chars=_int(env, "CHAT_MAX_TEXT_CHARS", 4000, minimum=1),
            cool_down_s=_int(env, "CHAT_COOL_DOWN_S", 60, minimum=1),
            ws_frames_per_s=_float(env, "CHAT_WS_FRAMES_PER_S", 20.0),
            ws_frames_burst=_int(env, "CHAT_WS_FRAMES_BURST", 256, minimum=1),
            ws_send_queue_frames=_int(env, "CHAT_WS_SEND_QUEUE_FRAMES", 2000, minimum=16),
            ws_send_queue_bytes=_int(env, "CHAT_WS_SEND_QUEUE_BYTES", 1024 * 1024, minimum=64 * 1024),
            max_body_bytes=_int(env, "CHAT_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
            suggestions=_bool(env, "CHAT_SUGGESTIONS", True),
            suggest_cpu_share=_share(env, "CHAT_SUGGEST_CPU_SHARE", 0.2),
            company_name=env.get("CHAT_COMPANY_NAME") or None,
            order_feed_key=env.get("CHAT_ORDER_FEED_KEY") or None,
            segment_shares=_segment_pair(env, "CHAT_SEGMENT_SHARES", shares=True) or (0.8, 0.95),
            segment_amounts=_segment_pair(env, "CHAT_SEGMENT_AMOUNTS", shares=False),
            segment_d_cases=_int(env, "CHAT_SEGMENT_D_CASES", 3),
            segment_refresh_s=_float(env, "CHAT_SEGMENT_REFRESH_S", 300.0),
            transfer_offer_s=_float(env, "CHAT_TRANSFER_OFFER_S", 30.0, minimum=1.0),
            transfer_max_offers=_int(env, "CHAT_TRANSFER_MAX_OFFERS", 2, minimum=1),
            hold_interval_s=_float(env, "CHAT_HOLD_INTERVAL_S", 45.0),
            silence_s=_float(env, "CHAT_SILENCE_S", 60.0),
            promise_notice_s=_float(env, "CHAT_PROMISE_NOTICE_S", 10.0),
            check_back_remind_s=_float(env, "CHAT_CHECK_BACK_REMIND_S", 60.0),
            mail_url=_mail_url(env),
            mail_from=env.get("CHAT_MAIL_FROM") or "chat@localhost",
            trust_forwarded_for=_bool(env, "CHAT_TRUST_FORWARDED_FOR", False),
            visitor_sessions_per_minute=_int(env, "CHAT_VISITOR_SESSIONS_PER_MINUTE", 30),
            login_free_failures=_int(env, "CHAT_LOGIN_FREE_FAILURES", 5),
            login_ip_free_failures=_int(env, "CHAT_LOGIN_IP_FREE_FAILURES", 20),
            login_lockout_s=_float(env, "CHAT_LOGIN_LOCKOUT_S", 1.0),
            login_lockout_max_s=_float(env, "CHAT_LOGIN_LOCKOUT_MAX_S", 900.0, minimum=1.0),
            sockets_per_ip=_int(env, "CHAT_SOCKETS_PER_IP", 200),
            sockets_per_visitor=_int(env, "CHAT_SOCKETS_PER_VISITOR", 10),
            sockets_per_operator=_int(env, "CHAT_SOCKETS_PER_OPERATOR", 10),
            db_ping_timeout_s=_float(env, "CHAT_DB_PING_TIMEOUT_S", 1.0, minimum=0.05),
            metrics_token=env.get("CHAT_METRICS_TOKEN") or None,
            log_format=_choice(env, "CHAT_LOG_FORMAT", "text", ("text", "json")),
        )
