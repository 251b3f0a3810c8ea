"""Lean websocket client and tiny HTTP/1.1 JSON client for the relay benchmark.

The load generator is Python too, so its per-frame cost matters: this client is
an ``asyncio.Protocol`` that parses server frames in ``data_received`` and hands
each text message to a plain callback (no task, no future per frame). It speaks
RFC 6455 (masked client frames, ping/pong, close, fragmentation) and, when
asked, permessage-deflate (RFC 7692) the way browsers offer it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import random
import zlib
from collections.abc import Callable
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TAIL = b"\x00\x00\xff\xff"

OnMessage = Callable[[str], None]
OnClose = Callable[[int, str], None]


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte masking ``key`` (big-int trick, no loop)."""
    n = len(payload)
    if n == 0:
        return payload
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


class WSClient(asyncio.Protocol):
    """One client websocket; incoming text messages go to ``on_message``."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        on_message: OnMessage,
        on_close: OnClose | None = None,
        origin: str | None = None,
        compression: bool = False,
    ) -> None:
        self.on_message = on_message
        self.on_close = on_close
        self._host = f"{host}:{port}"
        self._path = path
        self._origin = origin
        self._offer_deflate = compression
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._transport: asyncio.Transport | None = None
        self._open = False
        self._buf = b""
        self._frag: list[bytes] = []
        self._frag_compressed = False
        self._frag_opcode = 0
        self._close_sent = False
        self.closed = False
        self.close_code = 0
        self.close_reason = ""
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # permessage-deflate state (negotiated in the handshake response)
        self._deflate = False
        self._inflater: Any = None
        self._deflater: Any = None
        self._server_no_ctx = False
        self._client_no_ctx = False
        self._server_bits = 15
        self._client_bits = 15

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the upgrade request."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        lines = [
            f"GET {self._path} HTTP/1.1",
            f"Host: {self._host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self._origin:
            lines.append(f"Origin: {self._origin}")
        if self._offer_deflate:
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        """Parse the handshake response, then frames."""
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if not self._open:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buf = data
                return
            head, data = data[:end].decode("latin-1"), data[end + 4 :]
            if not self._handshake_ok(head):
                return
        self._frames(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Report the end of the connection once."""
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError(f"connection lost in handshake: {exc}"))
        if not self.closed:
            self.closed = True
            if not self.close_code:
                self.close_code = 1006
            if self.on_close is not None:
                self.on_close(self.close_code, self.close_reason)

    # -- handshake --------------------------------------------------------
    def _handshake_ok(self, head: str) -> bool:
        lines = head.split("\r\n")
        status = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if len(status) < 2 or status[1] != "101":
            err = ConnectionRefusedError(f"handshake refused: {lines[0]}")
            self.handshake.set_exception(err)
            assert self._transport is not None
            self._transport.close()
            return False
        accept = base64.b64encode(hashlib.sha1(self._key.encode() + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            self.handshake.set_exception(ConnectionError("bad Sec-WebSocket-Accept"))
            assert self._transport is not None
            self._transport.close()
            return False
        ext = headers.get("sec-websocket-extensions", "")
        if ext:
            self._negotiate(ext)
        self._open = True
        self.handshake.set_result(None)
        return True

    def _negotiate(self, ext: str) -> None:
        parts = [p.strip() for p in ext.split(";")]
        if parts[0] != "permessage-deflate":
            return
        self._deflate = True
        for p in parts[1:]:
            name, _, value = p.partition("=")
            value = value.strip('"')
            if name == "server_no_context_takeover":
                self._server_no_ctx = True
            elif name == "client_no_context_takeover":
                self._client_no_ctx = True
            elif name == "server_max_window_bits" and value:
                self._server_bits = int(value)
            elif name == "client_max_window_bits" and value:
                self._client_bits = int(value)
        self._inflater = zlib.decompressobj(-self._server_bits)
        self._deflater = zlib.compressobj(6, zlib.DEFLATED, -self._client_bits)

    # -- frames in --------------------------------------------------------
    def _frames(self, data: bytes) -> None:
        pos = 0
        size = len(data)
        while size - pos >= 2:
            b0 = data[pos]
            b1 = data[pos + 1]
            length = b1 & 0x7F
            hdr = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                hdr = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                hdr = 10
            if b1 & 0x80:
                hdr += 4
            end = pos + hdr + length
            if end > size:
                break
            payload = data[pos + hdr : end]
            if b1 & 0x80:
                payload = _mask(payload, data[pos + hdr - 4 : pos + hdr])
            pos = end
            self._frame(b0, payload)
            if self.closed:
                return
        if pos < size:
            self._buf = data[pos:]

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode == 1 and fin and not b0 & 0x40:  # the common case
            self.on_message(payload.decode())
            return
        if opcode in (1, 2):
            self._frag_opcode = opcode
            self._frag_compressed = bool(b0 & 0x40)
            self._frag = [payload]
        elif opcode == 0:
            self._frag.append(payload)
        elif opcode == 9:
            self._send_frame(0x8A, payload)
            return
        elif opcode == 10:
            return
        elif opcode == 8:
            self._got_close(payload)
            return
        if not fin:
            return
        data = b"".join(self._frag)
        self._frag = []
        if self._frag_compressed:
            data = self._inflater.decompress(data + _TAIL)
            if self._server_no_ctx:
                self._inflater = zlib.decompressobj(-self._server_bits)
        if self._frag_opcode == 1:
            self.on_message(data.decode())

    def _got_close(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        self.close_code = code
        self.close_reason = payload[2:].decode(errors="replace")
        if not self._close_sent:
            self._send_frame(0x88, payload[:2])
            self._close_sent = True
        assert self._transport is not None
        self._transport.close()

    # -- frames out -------------------------------------------------------
    def _send_frame(self, b0: int, payload: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        n = len(payload)
        key = random.getrandbits(32).to_bytes(4, "little")
        if n < 126:
            head = bytes((b0, 0x80 | n))
        elif n < 65536:
            head = bytes((b0, 0xFE)) + n.to_bytes(2, "big")
        else:
            head = bytes((b0, 0xFF)) + n.to_bytes(8, "big")
        transport.write(head + key + _mask(payload, key))

    def send(self, text: str) -> bool:
        """Queue one text message; False if the socket is no longer open."""
        if self.closed or self._close_sent:
            return False
        data = text.encode()
        if self._deflate:
            out = self._deflater.compress(data) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
            if out.endswith(_TAIL):
                out = out[:-4]
            if self._client_no_ctx:
                self._deflater = zlib.compressobj(6, zlib.DEFLATED, -self._client_bits)
            self._send_frame(0xC1, out)
        else:
            self._send_frame(0x81, data)
        return True

    def close(self, code: int = 1000) -> None:
        """Start a clean close; the transport closes when the server answers."""
        if not self._close_sent and not self.closed:
            self._close_sent = True
            self._send_frame(0x88, code.to_bytes(2, "big"))
            asyncio.get_running_loop().call_later(2.0, self.abort)

    def abort(self) -> None:
        """Drop the TCP connection now."""
        if self._transport is not None:
            self._transport.abort()

    @property
    def compressed(self) -> bool:
        """Whether permessage-deflate was negotiated."""
        return self._deflate

    @property
    def write_buffer(self) -> int:
        """Bytes queued in the transport, not yet written to the socket."""
        return self._transport.get_write_buffer_size() if self._transport else 0


async def ws_connect(
    host: str,
    port: int,
    path: str,
    on_message: OnMessage,
    on_close: OnClose | None = None,
    *,
    origin: str | None = None,
    compression: bool = False,
    local_addr: str | None = None,
    timeout: float = 15.0,
) -> WSClient:
    """Open a websocket and wait for the upgrade to complete."""
    loop = asyncio.get_running_loop()

    def factory() -> WSClient:
        return WSClient(host, port, path, on_message, on_close, origin, compression)

    la = (local_addr, 0) if local_addr else None
    _, proto = await asyncio.wait_for(loop.create_connection(factory, host, port, local_addr=la), timeout)
    try:
        await asyncio.wait_for(proto.handshake, timeout)
    except BaseException:
        proto.abort()
        raise
    return proto


async def http_json(
    host: str,
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    origin: str | None = None,
    local_addr: str | None = None,
    timeout: float = 15.0,
) -> tuple[int, Any]:
    """One HTTP/1.1 request (``Connection: close``); returns (status, decoded JSON or text)."""

    async def go() -> tuple[int, Any]:
        la = (local_addr, 0) if local_addr else None
        reader, writer = await asyncio.open_connection(host, port, local_addr=la)
        try:
            payload = b"" if body is None else json.dumps(body).encode()
            head = [
                f"{method} {path} HTTP/1.1",
                f"Host: {host}:{port}",
                "Connection: close",
                "Accept: application/json",
            ]
            if origin:
                head.append(f"Origin: {origin}")
            if body is not None:
                head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            raw = await reader.read()
        finally:
            writer.close()
        header, _, rest = raw.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get("transfer-encoding") == "chunked":
            rest = _dechunk(rest)
        elif "content-length" in headers:
            rest = rest[: int(headers["content-length"])]
        text = rest.decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    return await asyncio.wait_for(go(), timeout)


def _dechunk(data: bytes) -> bytes:
    out = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2 :]
    return b"".join(out)


class LoginFailed(Exception):
    """An operator of the bench could not sign in (the detail says why)."""


async def login_operator(host: str, port: int, op: dict[str, Any], *, origin: str | None = None) -> str:
    """The operator's session token from the real server's login route."""
    try:
        status, body = await http_json(
            host,
            port,
            "POST",
            "/api/operators/login",
            {"email": op["email"], "password": op["password"]},
            origin=origin,
        )
    except (OSError, TimeoutError) as exc:
        raise LoginFailed(repr(exc)) from exc
    if status != 200 or not isinstance(body, dict) or "token" not in body:
        raise LoginFailed(f"HTTP {status} {body}")
    return str(body["token"])
