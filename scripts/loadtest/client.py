"""One browser's side of Streamlit's WebSocket protocol, without a browser.

A ``Client`` connects to ws://HOST/_stcore/stream, reads every ForwardMsg into its ``PageModel``,
sends ``BackMsg`` reruns carrying all widget values (as the browser does), waits for the script
run to finish, and answers custom components (the sign-in cookie manager) as their iframes would.
``interact`` times one message-to-finish round and records it, or its timeout or disconnect, in
the shared ``Stats``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import time

from scripts.loadtest.page import VALUE_FIELDS, PageModel, ProtocolError
from scripts.loadtest.report import Stats
from scripts.loadtest.server import ServerProcess


class RunTimeout(Exception):
    """A script run of the server did not finish within ``--timeout`` seconds."""


def _proto():
    # Imported when first used: the pure parts (and their tests) need no protobuf classes.
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    return BackMsg, ForwardMsg


class Client:
    def __init__(self, number: int, username: str, base: str, stats: Stats,
                 server: ServerProcess, timeout: float, exclusive_cpu: bool):
        self.number, self.username = number, username
        self.base = base
        self.stats, self.server = stats, server
        self.timeout = timeout
        # Only a session alone on the server can put the server's CPU time on its interaction.
        self.exclusive_cpu = exclusive_cpu
        self.model = PageModel()
        self.ws = None
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.closed = False
        self.interactions = 0

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        host = self.base.split("//", 1)[1]
        self.ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                max_size=64 * 2**20, open_timeout=self.timeout,
                                ping_interval=20, ping_timeout=60)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        _, ForwardMsg = _proto()
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                try:
                    self.model.apply(msg)
                except ProtocolError as exc:
                    self.stats.error("protocol", "protocol", str(exc))
                kind = msg.WhichOneof("type")
                if kind == "script_finished":
                    await self.inbox.put(msg.script_finished)
        except Exception as exc:  # noqa: BLE001 - any end of the stream is a disconnect
            if not self.closed:
                self.stats.error("connection", "disconnect", repr(exc)[:200])
        finally:
            if not self.closed:
                self.closed = True
                await self.inbox.put(None)

    async def close(self) -> None:
        self.closed = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    async def send_rerun(self, **client_state) -> None:
        BackMsg, _ = _proto()
        msg = BackMsg()
        msg.rerun_script.CopyFrom(self.model.client_state(url=self._url(), **client_state))
        await self.ws.send(msg.SerializeToString())

    async def heartbeat(self) -> None:
        BackMsg, _ = _proto()
        msg = BackMsg()
        msg.app_heartbeat = True
        await self.ws.send(msg.SerializeToString())

    def _url(self) -> str:
        return f"{self.base}/{'?' + self.model.query_string if self.model.query_string else ''}"

    async def wait_finished(self) -> None:
        """Until a run finishes completely (a run that ends early for another keeps us waiting)."""
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunTimeout()
            try:
                status = await asyncio.wait_for(self.inbox.get(), remaining)
            except asyncio.TimeoutError as exc:
                raise RunTimeout() from exc
            if status is None:
                raise ConnectionError("disconnected")
            if status in (0, 1, 3) and self.inbox.empty():
                return

    async def interact(self, kind: str, send) -> bool:
        """Send one BackMsg, wait for the script's finish, answer components; time it."""
        while not self.inbox.empty():
            self.inbox.get_nowait()
        cpu_before = self.server.cpu_seconds() if self.exclusive_cpu else None
        started = time.perf_counter()
        try:
            await send()
            await self.wait_finished()
            await self.answer_components()
        except RunTimeout:
            self.stats.error(kind, "timeout", f"session {self.number} ({self.username})")
            return False
        except (ConnectionError, OSError) as exc:
            self.stats.error(kind, "disconnect", f"session {self.number}: {exc!r}"[:200])
            self.closed = True
            return False
        except Exception as exc:  # noqa: BLE001 - a closed socket raises the library's own kinds
            self.stats.error(kind, "disconnect", f"session {self.number}: {exc!r}"[:200])
            self.closed = True
            return False
        elapsed = time.perf_counter() - started
        cpu_after = self.server.cpu_seconds() if self.exclusive_cpu else None
        cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        self.stats.record(kind, elapsed, cpu)
        self.interactions += 1
        for problem in self.model.errors():
            if not self.expected_error(kind, problem):
                self.stats.error(kind, "error shown",
                                 f"session {self.number} ({self.username}): {problem}")
        return True

    def expected_error(self, kind: str, problem: str) -> bool:
        """Whether the page was right to show this error (a subclass knows its user's view)."""
        return False

    async def answer_components(self) -> None:
        """Answer each custom component once, as its iframe would: the cookie manager sends the
        browser's cookies, and confirms a cookie it was asked to set or delete. Each answer is a
        widget value, so it reruns the script."""
        for _ in range(5):
            unanswered = []
            for component in self.model.components():
                token = (component.id, component.json_args)
                if token not in self.model.answered_components:
                    unanswered.append((component, token))
            if not unanswered:
                return
            for component, token in unanswered:
                self.model.answered_components.add(token)
                args = json.loads(component.json_args or "{}")
                method = args.get("method")
                if method == "getAll":
                    value = dict(self.model.cookies)
                elif method == "set":
                    self.model.cookies[args.get("cookie", "")] = str(args.get("value", ""))
                    value = True
                elif method == "delete":
                    self.model.cookies.pop(args.get("cookie", ""), None)
                    value = True
                else:
                    value = None
                self.model.values[component.id] = ("json_value", json.dumps(value))
            await self.send_rerun()
            await self.wait_finished()

    async def click(self, kind: str, label: str) -> bool:
        button = self.model.widget("button", label)
        if button is None:
            self.stats.error(kind, "button missing", f"session {self.number}: {label}")
            return False
        return await self.interact(kind, lambda: self.send_rerun(
            triggers={button.id: ("trigger_value", True)}, fragment_id=button.fragment_id))

    async def set_widget(self, kind: str, widget_kind: str, label: str, value) -> bool:
        widget = self.model.widget(widget_kind, label)
        if widget is None:
            self.stats.error(kind, "widget missing", f"session {self.number}: {label}")
            return False
        self.model.values[widget.id] = (VALUE_FIELDS[widget_kind], value)
        return await self.interact(kind, lambda: self.send_rerun(fragment_id=widget.fragment_id))

