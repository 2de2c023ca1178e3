"""A loopback proxy that lets redshift-connector talk to plain PostgreSQL (the Redshift stand-in).

redshift-connector sends startup parameters only Redshift knows (``client_protocol_version``
and friends; PostgreSQL refuses the connection over them) and parses ``server_version`` as a
bare version number (Debian's "15.18 (Debian 15.18-1)" makes it raise). The proxy keeps the
startup parameters PostgreSQL knows, trims the reported version, and passes everything else
through unchanged. It listens on 127.0.0.1 only and runs in a thread of the test process.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .standins import free_port

SSL_REQUEST = 80877103
#: Startup parameters PostgreSQL accepts; redshift-connector's others are dropped.
KEPT_PARAMETERS = {"user", "database", "application_name", "client_encoding", "options"}


def _startup(body: bytes) -> bytes:
    """The StartupMessage with only the parameters PostgreSQL knows."""
    protocol = body[:4]
    fields = body[4:].split(b"\0")
    pairs = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i]]
    kept = b"".join(k + b"\0" + v + b"\0" for k, v in pairs if k.decode() in KEPT_PARAMETERS)
    payload = protocol + kept + b"\0"
    return struct.pack("!I", len(payload) + 4) + payload


def _server_message(kind: bytes, body: bytes) -> bytes:
    """A backend message, with ParameterStatus(server_version) cut to its number."""
    if kind == b"S":
        name, value, _ = body.split(b"\0")
        if name == b"server_version":
            body = name + b"\0" + value.split(b" ")[0] + b"\0"
    return kind + struct.pack("!I", len(body) + 4) + body


async def _client_to_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _server_to_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readexactly(5)
            (length,) = struct.unpack("!I", head[1:])
            body = await reader.readexactly(length - 4)
            writer.write(_server_message(head[:1], body))
            await writer.drain()
    except asyncio.IncompleteReadError:
        writer.close()


async def _serve_one(
    socket_path: str, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            (length,) = struct.unpack("!I", await client_reader.readexactly(4))
            body = await client_reader.readexactly(length - 4)
            if struct.unpack("!I", body[:4])[0] == SSL_REQUEST:
                client_writer.write(b"N")  # no SSL here; the client then sends its startup
                continue
            break
        server_reader, server_writer = await asyncio.open_unix_connection(socket_path)
        server_writer.write(_startup(body))
        await asyncio.gather(
            _client_to_server(client_reader, server_writer),
            _server_to_client(server_reader, client_writer),
        )
    except (asyncio.IncompleteReadError, ConnectionError):
        client_writer.close()


@contextmanager
def redshift_proxy(socket_path: str) -> Iterator[int]:
    """Serve the proxy for PostgreSQL's Unix socket ``socket_path``; yield its TCP port."""
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def main() -> asyncio.Server:
        server = await asyncio.start_server(
            lambda r, w: _serve_one(socket_path, r, w), "127.0.0.1", port
        )
        started.set()
        return server

    server_holder: list[asyncio.Server] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        server_holder.append(loop.run_until_complete(main()))
        loop.run_forever()

    thread = threading.Thread(target=run, name="redshift-proxy", daemon=True)
    thread.start()
    if not started.wait(timeout=30):
        raise TimeoutError("the Redshift proxy did not start")
    try:
        yield port
    finally:

        async def shutdown() -> None:
            """Close the listener, cancel the connections still open, then stop: a loop
            stopped with tasks pending warns "Task was destroyed but it is pending"."""
            server_holder[0].close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.call_soon(loop.stop)

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
