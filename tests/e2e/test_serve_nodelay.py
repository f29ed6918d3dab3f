"""`forecourt serve` binds its socket itself: the connections it accepts must have Nagle's
algorithm off, as asyncio does for TCP sockets. With it on, a response written in two
parts (head, then body) waited ~40 ms for the client's delayed ACK on every keep-alive
request (found by bench/workspace.py)."""

from __future__ import annotations

import asyncio
import socket
import threading

from forecourt.cli.main import _listen


def test_connections_accepted_on_the_serve_socket_send_at_once() -> None:
    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    found: list[int] = []

    async def main() -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            found.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        while not found:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in
    # this one for the session.
    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join()
    assert found and found[0] != 0
