"""Files served from memory: read once per change, answered with an ETag, gzipped when asked to.

An asset's bytes come from a ``Source``: a file on disk (``FileSource``, re-read when its mtime
changes) or any callable (``CallableSource``, e.g. several files joined at serve time, re-read
when its ``version`` changes). Each route decides its own headers; what this module keeps the
same everywhere is the caching: ``304`` for a matching ``If-None-Match``, ``HEAD`` with the
length, and a plain ``404`` when the bytes cannot be read.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CachedAsset", "CallableSource", "FileSource", "LoadedAsset", "Source", "media_type_of", "mtimes"]

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def media_type_of(name: str | Path) -> str:
    """The Content-Type for a file name, by its suffix."""
    return MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


class Source(Protocol):
    """Where an asset's bytes come from. Both methods may raise OSError (answered 404)."""

    def version(self) -> Hashable:
        """Changes whenever the bytes may have changed; cheap, asked on every request."""
        ...

    def read(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class FileSource:
    """One file on disk, versioned by its mtime."""

    path: Path

    def version(self) -> Hashable:
        return self.path.stat().st_mtime_ns

    def read(self) -> bytes:
        return self.path.read_bytes()


def mtimes(paths: Iterable[Path]) -> Callable[[], Hashable]:
    """A version for bytes built from these files: it changes when any of them does."""
    frozen = tuple(paths)
    return lambda: tuple(path.stat().st_mtime_ns for path in frozen)


def _unversioned() -> Hashable:
    return None


@dataclass(frozen=True, slots=True)
class CallableSource:
    """Bytes made by a callable; without a ``version`` they are made once and kept."""

    make: Callable[[], bytes]
    version_of: Callable[[], Hashable] = _unversioned

    def version(self) -> Hashable:
        return self.version_of()

    def read(self) -> bytes:
        return self.make()


@dataclass(frozen=True, slots=True)
class LoadedAsset:
    version: Hashable
    raw: bytes
    gz: bytes | None
    etag: str


class CachedAsset:
    """One asset in memory (plain, and gzipped when ``compress``) until its source's version changes."""

    def __init__(
        self, source: Source, *, media_type: str, cache_control: str, compress: bool = False
    ) -> None:
        self.source = source
        self.media_type = media_type
        self.cache_control = cache_control
        self.compress = compress
        self._loaded: LoadedAsset | None = None

    @classmethod
    def file(cls, path: Path, *, cache_control: str, compress: bool = False) -> CachedAsset:
        return cls(
            FileSource(path), media_type=media_type_of(path), cache_control=cache_control, compress=compress
        )

    def load(self) -> LoadedAsset:
        version = self.source.version()
        loaded = self._loaded
        if loaded is None or loaded.version != version:
            raw = self.source.read()
            gz = gzip.compress(raw, compresslevel=9, mtime=0) if self.compress else None
            loaded = LoadedAsset(version, raw, gz, '"' + hashlib.sha256(raw).hexdigest()[:20] + '"')
            self._loaded = loaded
        return loaded

    def respond(self, request: Request, headers: Mapping[str, str] | None = None) -> Response:
        """The asset, ``304`` or ``404``; ``headers`` are the route's own, sent with each answer."""
        try:
            loaded = self.load()
        except OSError:
            return Response("not found", status_code=404, media_type="text/plain")
        answer = {"Cache-Control": self.cache_control, "ETag": loaded.etag}
        if self.compress:
            answer["Vary"] = "Accept-Encoding"
        answer.update(headers or {})
        if loaded.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=answer)
        body = loaded.raw
        if loaded.gz is not None and "gzip" in request.headers.get("accept-encoding", "").lower():
            body = loaded.gz
            answer["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            answer["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=answer, media_type=self.media_type)
        return Response(body, headers=answer, media_type=self.media_type)
