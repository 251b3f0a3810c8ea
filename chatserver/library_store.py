"""The reply library the assistant suggests from, kept in the database and edited by admins.

On first start the bundled files (``responses/libraries/<name>/``) seed the
database; from then on the database is the library, and the files are only
what a fresh install starts with. Every change is validated by the pure
``responses`` package first, stored with a version record, and then the
in-memory :class:`~responses.library.Library` is rebuilt and swapped in one
assignment, so a suggestion always reads one complete, consistent library.

Usage counters (how often a reply was suggested, sent as is, edited, ignored)
are buffered in memory and written in one upsert a moment later:
:meth:`LibraryStore.record_usage` never waits and never raises into the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chatserver.storage import repository as repo
from chatserver.storage.models import USAGE_KINDS, ReplyPublic, ReplyVersionPublic
from chatserver.storage.writer import MessageWriter
from responses.errors import DUPLICATE_ID, DUPLICATE_SHORTCUT, INVALID_FIELD, LibraryError
from responses.library import Library, Response, load_library, validate_response

__all__ = ["IMPORT_MODES", "LibraryStore", "ReplyNotFound", "StoredReply", "VersionConflict"]

log = logging.getLogger(__name__)

ImportMode = Literal["replace", "merge"]
IMPORT_MODES: tuple[ImportMode, ...] = ("replace", "merge")
IMPORT_FILE = "<import>"
# Usage counts wait this long in memory, so a busy chat costs one upsert per interval.
USAGE_FLUSH_S = 1.0
_MAX_LANGUAGE = 35
_MAX_ID = 100


class ReplyNotFound(LookupError):
    """No such reply, or no such version of it."""


class VersionConflict(Exception):
    """An edit was based on a version that is no longer the current one."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the reply is at version {current}, not {expected}; reload it and edit again")
        self.expected, self.current = expected, current


@dataclass(frozen=True)
class StoredReply:
    """A reply as stored: the validated response plus its version and who changed it last."""

    response: Response
    version: int
    updated_at: float
    updated_by: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.response.to_json(),
            "version": self.version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


def _dump(response: Response) -> str:
    return json.dumps(response.to_json(), ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """The repository's errors for a reply, as the store's own (what the admin API maps to 404/409)."""
    try:
        yield
    except repo.UnknownReply as exc:
        raise ReplyNotFound(str(exc)) from None
    except repo.ReplyVersionConflict as exc:
        raise VersionConflict(exc.expected, exc.current) from None


class LibraryStore:
    """One library in the database, its current in-memory copy, and its usage counters."""

    def __init__(
        self,
        writer: MessageWriter,
        *,
        name: str = "default",
        usage_flush_s: float = USAGE_FLUSH_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._writer = writer
        self._clock = clock
        self._usage_flush_s = usage_flush_s
        self._library = Library(name, [])
        self._replies: dict[tuple[str, str], StoredReply] = {}
        # Every live reply in the database, also one that no longer validates (so it can be fixed).
        self._live: set[tuple[str, str]] = set()
        self._revision = -1
        self._lock = asyncio.Lock()
        self._pending: Counter[tuple[str, str, str]] = Counter()
        self._flush_task: asyncio.Task[None] | None = None

    # --- reading ------------------------------------------------------------

    @property
    def current(self) -> Library:
        """The library as it is now; replaced (never changed in place) after every edit."""
        return self._library

    def replies(self, language: str) -> list[StoredReply]:
        """The replies of one language in library order, with their versions."""
        return [self._replies[(language, r.id)] for r in self._library.in_language(language)]

    def get(self, language: str, response_id: str) -> StoredReply:
        try:
            return self._replies[(language, response_id)]
        except KeyError:
            raise ReplyNotFound(f"no reply {response_id!r} in {language!r}") from None

    def export(self) -> dict[str, Any]:
        """The whole library, every language, as one JSON document (``Library.to_json``)."""
        return self._library.to_json()

    async def versions(self, language: str, response_id: str) -> list[ReplyVersionPublic]:
        """Every version of a reply, oldest first; deleted replies keep theirs."""
        found = await self._writer.read(
            repo.reply_versions, library=self.name, language=language, response_id=response_id
        )
        if not found:
            raise ReplyNotFound(f"no reply {response_id!r} in {language!r}")
        return found

    # --- loading ------------------------------------------------------------

    async def load(self) -> None:
        """Seed an empty library from the bundled files, then read it into memory."""
        async with self._lock:
            try:
                bundled: Library | None = await asyncio.to_thread(load_library, self.name)
            except FileNotFoundError:
                bundled = None
            if bundled is not None:
                seeds = [repo.NewReply(r.language, r.id, _dump(r)) for r in bundled]
                seeded = await self._writer.run(
                    repo.seed_replies, library=self.name, replies=seeds, now=self._clock()
                )
                if seeded:
                    log.info("library %r: seeded %d replies from the bundled files", self.name, seeded)
            await self._reload()

    async def refresh(self) -> bool:
        """Re-read the library if another process changed it; True when it did."""
        async with self._lock:
            return await self._sync()

    async def _sync(self) -> bool:
        revision = await self._writer.read(repo.reply_revision, library=self.name)
        if revision == self._revision:
            return False
        await self._reload()
        return True

    async def _reload(self) -> None:
        revision = await self._writer.read(repo.reply_revision, library=self.name)
        rows = await self._writer.read(repo.list_replies, library=self.name)
        replies: dict[tuple[str, str], StoredReply] = {}
        shortcuts: dict[tuple[str, str], str] = {}
        for row in rows:
            stored = self._from_row(row)
            if stored is None:
                continue
            response = stored.response
            taken = (response.language, response.shortcut.casefold())
            if response.shortcut and taken in shortcuts:
                log.warning(
                    "library %r: %s/%s skipped, its shortcut %s is %s's",
                    self.name,
                    response.language,
                    response.id,
                    response.shortcut,
                    shortcuts[taken],
                )
                continue
            shortcuts[taken] = response.id
            replies[(response.language, response.id)] = stored
        library = Library(self.name, [s.response for s in replies.values()])
        # One assignment each and no await between them: readers see old or new, never half.
        self._library, self._replies, self._revision = library, replies, revision
        self._live = {(row.language, row.response_id) for row in rows}

    def _from_row(self, row: ReplyPublic) -> StoredReply | None:
        """The stored reply, or None (logged) if it no longer passes validation."""
        try:
            response = validate_response(
                json.loads(row.data), file=self._file(row.language), language=row.language
            )
        except (LibraryError, ValueError) as exc:
            log.warning("library %r: stored reply %s/%s skipped: %s", self.name, row.language, row.id, exc)
            return None
        if response.id != row.response_id:
            log.warning("library %r: stored reply %s holds id %r", self.name, row.response_id, response.id)
            return None
        return StoredReply(response, row.version, row.updated_at, row.updated_by)

    # --- editing ------------------------------------------------------------

    def _file(self, language: str) -> str:
        return f"{self.name}/{language}"

    def _validate(self, language: str, data: Any) -> Response:
        if not isinstance(data, Mapping):
            raise LibraryError(
                self._file(language), None, None, INVALID_FIELD, "a reply must be a JSON object"
            )
        return validate_response(data, file=self._file(language), language=language)

    def _check_unique(self, response: Response, *, replacing: bool) -> None:
        """Refuse an id (for a new reply) or a shortcut that another live reply of the language has."""
        file = self._file(response.language)
        for other in self._library.in_language(response.language):
            if other.id == response.id:
                if not replacing:
                    raise LibraryError(
                        file, response.id, "id", DUPLICATE_ID, f"a reply {response.id!r} already exists"
                    )
                continue
            if response.shortcut and other.shortcut.casefold() == response.shortcut.casefold():
                raise LibraryError(
                    file,
                    response.id,
                    "shortcut",
                    DUPLICATE_SHORTCUT,
                    f"shortcut {response.shortcut!r} is already used by {other.id!r}",
                )

    def _check_version(self, language: str, response_id: str, expected: int | None) -> None:
        """An edit of a missing or changed reply hears so first, before any complaint about its content."""
        if (language, response_id) not in self._live:
            raise ReplyNotFound(f"no reply {response_id!r} in {language!r}")
        stored = self._replies.get((language, response_id))
        if expected is not None and stored is not None and stored.version != expected:
            raise VersionConflict(expected, stored.version)

    async def create(self, language: str, data: Any, *, operator_id: int | None) -> StoredReply:
        """Add a reply at the end of its language (a deleted id comes back as its next version)."""
        async with self._lock:
            await self._sync()
            response = self._validate(language, data)
            self._check_unique(response, replacing=False)
            try:
                await self._writer.run(
                    repo.create_reply,
                    library=self.name,
                    language=language,
                    response_id=response.id,
                    data=_dump(response),
                    operator_id=operator_id,
                    now=self._clock(),
                )
            except repo.ReplyExists as exc:
                raise LibraryError(self._file(language), response.id, "id", DUPLICATE_ID, str(exc)) from None
            await self._reload()
            return self.get(language, response.id)

    async def update(
        self,
        language: str,
        response_id: str,
        data: Any,
        *,
        operator_id: int | None,
        expected_version: int | None = None,
    ) -> StoredReply:
        """Replace a reply's data; the id cannot change. ``expected_version`` guards against lost edits."""
        if isinstance(data, Mapping):
            data = {"id": response_id, **data}
            if data["id"] != response_id:
                raise LibraryError(
                    self._file(language),
                    response_id,
                    "id",
                    INVALID_FIELD,
                    "the id of a reply cannot change; create the new one and delete this one",
                )
        async with self._lock:
            await self._sync()
            self._check_version(language, response_id, expected_version)
            response = self._validate(language, data)
            self._check_unique(response, replacing=True)
            with _store_errors():
                await self._writer.run(
                    repo.update_reply,
                    library=self.name,
                    language=language,
                    response_id=response_id,
                    data=_dump(response),
                    operator_id=operator_id,
                    now=self._clock(),
                    expected_version=expected_version,
                )
            await self._reload()
            return self.get(language, response_id)

    async def delete(
        self,
        language: str,
        response_id: str,
        *,
        operator_id: int | None,
        expected_version: int | None = None,
    ) -> int:
        """Delete a reply (it keeps its versions and can be restored); the deletion's version."""
        async with self._lock:
            with _store_errors():
                row = await self._writer.run(
                    repo.delete_reply,
                    library=self.name,
                    language=language,
                    response_id=response_id,
                    operator_id=operator_id,
                    now=self._clock(),
                    expected_version=expected_version,
                )
            await self._reload()
            return row.version

    async def restore(
        self, language: str, response_id: str, version: int, *, operator_id: int | None
    ) -> StoredReply:
        """Make an old version's data current again, as a new "restore" version."""
        async with self._lock:
            await self._sync()
            old = await self._writer.read(
                repo.get_reply_version,
                library=self.name,
                language=language,
                response_id=response_id,
                version=version,
            )
            if old is None:
                raise ReplyNotFound(f"no version {version} of reply {response_id!r} in {language!r}")
            if old.data is None:
                raise LibraryError(
                    self._file(language),
                    response_id,
                    "version",
                    INVALID_FIELD,
                    f"version {version} is a deletion; restore a version before it",
                )
            # The rules may have changed since (a variable removed, a shortcut taken).
            response = self._validate(language, json.loads(old.data))
            self._check_unique(response, replacing=True)
            await self._writer.run(
                repo.restore_reply,
                library=self.name,
                language=language,
                response_id=response_id,
                data=_dump(response),
                operator_id=operator_id,
                now=self._clock(),
            )
            await self._reload()
            return self.get(language, response_id)

    async def import_(
        self, document: Any, *, operator_id: int | None, mode: ImportMode = "replace"
    ) -> dict[str, Any]:
        """Import an export (or one ``<lang>.json`` file): all of it, or nothing.

        The whole document is validated, and the library it would produce checked,
        before anything is written. ``replace`` makes the library exactly the
        document (only the file's language for a ``<lang>.json``), deleting the
        rest; ``merge`` adds and updates and leaves other replies alone.
        """
        if mode not in IMPORT_MODES:
            raise ValueError(f"mode must be one of {', '.join(IMPORT_MODES)}, not {mode!r}")
        async with self._lock:
            await self._sync()
            imported = Library.from_json(document, file=IMPORT_FILE)
            if imported.name != self.name:
                raise LibraryError(
                    IMPORT_FILE,
                    None,
                    "library",
                    INVALID_FIELD,
                    f"the document holds library {imported.name!r}, not {self.name!r}",
                )
            language = document.get("language")
            languages = None if language is None else [language]
            if mode == "merge":
                keys = {(r.language, r.id) for r in imported}
                kept = [r for r in self._library if (r.language, r.id) not in keys]
            else:
                kept = [r for r in self._library if languages is not None and r.language not in languages]
            # The result must hold together too: a merged shortcut may clash with a kept reply.
            Library(self.name, [*kept, *imported], file=IMPORT_FILE)
            summary = await self._writer.run(
                repo.import_replies,
                library=self.name,
                replies=[repo.NewReply(r.language, r.id, _dump(r)) for r in imported],
                replace=mode == "replace",
                languages=languages,
                operator_id=operator_id,
                now=self._clock(),
            )
            await self._reload()
            return {"mode": mode, **summary}

    # --- usage --------------------------------------------------------------

    def record_usage(self, language: str, response_id: str, kind: str) -> None:
        """Count one use of a reply (``kind`` in USAGE_KINDS); returns at once, never raises."""
        try:
            if (
                kind not in USAGE_KINDS
                or not isinstance(language, str)
                or not isinstance(response_id, str)
                or not 0 < len(language) <= _MAX_LANGUAGE
                or not 0 < len(response_id) <= _MAX_ID
            ):
                log.warning("ignored usage %r of reply %r in %r", kind, response_id, language)
                return
            self._pending[(language, response_id, kind)] += 1
            if self._flush_task is None:
                loop = asyncio.get_running_loop()
                self._flush_task = loop.create_task(self._flush_later(), name="reply-usage-flush")
        except Exception:
            log.exception("could not record reply usage")

    def record_usages(self, usage: Iterable[tuple[str, str, str]]) -> None:
        """Count several uses, each ``(language, response_id, kind)``: the hub's ``record_usage`` hook."""
        try:
            for language, response_id, kind in usage:
                self.record_usage(language, response_id, kind)
        except Exception:
            log.exception("could not record reply usage")

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self._usage_flush_s)
        finally:
            self._flush_task = None
        await self.flush()

    async def flush(self) -> None:
        """Write the buffered usage counts now; a failure is logged and those counts dropped."""
        if not self._pending:
            return
        batch, self._pending = self._pending, Counter()
        try:
            await self._writer.run(
                repo.increment_reply_usage, library=self.name, counts=dict(batch), now=self._clock()
            )
        except Exception as exc:
            log.warning("lost %d reply usage counts: %r", sum(batch.values()), exc)

    async def usage(self, language: str | None = None) -> dict[str, dict[str, dict[str, int]]]:
        """Counts by language, then reply id, then kind (buffered counts included)."""
        await self.flush()
        rows = await self._writer.read(repo.reply_usage, library=self.name, language=language)
        counts: dict[str, dict[str, dict[str, int]]] = {}
        for row in rows:
            counts.setdefault(row.language, {}).setdefault(row.response_id, {})[row.kind] = row.count
        return counts

    async def close(self) -> None:
        """Write what is still buffered; call before the writer stops."""
        task = self._flush_task
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.flush()
