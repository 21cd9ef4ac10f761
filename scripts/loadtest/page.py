"""What a browser shows and sends, rebuilt from the ForwardMsgs of one session.

``PageModel`` reads the server's ForwardMsgs as the browser's frontend does: elements by delta
path, widget values it must keep and send on every rerun, the query string and pages the app
writes, and cached messages by hash. What it shows (title, caption, table, errors) is what the
checks read; ``client_state`` is the ``ClientState`` a browser would send with its next rerun.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

CAPTION = re.compile(
    r"([\d,]+)–([\d,]+) of ([\d,]+) orders · page ([\d,]+) of ([\d,]+)(?: · captured (\S+))?"
)
SIGN_IN_COOKIE = "orderdesk_session"  # the app's sign-in cookie, as the browser keeps it
# The browser's time zone: the server is started with the same (server.start_server).
TIMEZONE, TIMEZONE_OFFSET = "Europe/Warsaw", -60


@dataclass(frozen=True)
class Caption:
    first: int
    last: int
    total: int
    page: int
    pages: int


def parse_caption(text: str) -> Caption | None:
    """The Orders pager caption ("1–15 of 12,345 orders · page 1 of 823 · captured …")."""
    match = CAPTION.search(text or "")
    if not match:
        return None
    return Caption(*(int(part.replace(",", "")) for part in match.groups()[:5]))


# Element types that are widgets, and how the browser sends each one's value.
VALUE_FIELDS = {
    "text_input": "string_value",
    "text_area": "string_value",
    "selectbox": "string_value",
    "multiselect": "string_array_value",
    "checkbox": "bool_value",
    "number_input": "double_value",
    "date_input": "string_array_value",
    "component_instance": "json_value",
}
TRIGGERS = {"button", "download_button"}


def element_value(kind: str, widget, known: bool):
    """The value a browser holds for a widget element it has just been sent: the server's value
    when it sets one, else the default on first sight, else None (keep what the client has)."""
    if kind == "component_instance" or (known and not getattr(widget, "set_value", False)):
        return None
    set_value = getattr(widget, "set_value", False)
    if kind in ("text_input", "text_area"):
        return widget.value if set_value else widget.default
    if kind == "selectbox":
        if set_value:
            return widget.raw_value
        return widget.options[widget.default] if 0 <= widget.default < len(widget.options) else None
    if kind == "multiselect":
        if set_value:
            return list(widget.raw_values)
        return [widget.options[i] for i in widget.default if 0 <= i < len(widget.options)]
    if kind == "checkbox":
        return widget.value if set_value else widget.default
    if kind == "number_input":
        return widget.value if set_value else widget.default
    if kind == "date_input":
        return list(widget.value) if set_value else list(widget.default)
    return None


@dataclass
class Widget:
    id: str
    kind: str
    label: str
    form_id: str
    element: object
    fragment_id: str = ""  # the st.fragment it is drawn in: its interactions rerun that alone


class PageModel:
    """What a browser would show, rebuilt from the ForwardMsgs of one session.

    Elements are kept by their delta path; a finished run drops those it did not draw, as the
    browser does. Widget values live in ``values`` (id → value), sent in full on every rerun.
    """

    def __init__(self) -> None:
        self.elements: dict[tuple, tuple[str, object]] = {}
        self.drawn: set[tuple] = set()
        self.widgets_drawn: set[str] = set()
        self.values: dict[str, tuple[str, object]] = {}
        self.pending: dict[str, tuple[str, object]] = {}  # form widgets edited, not submitted
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path → page script hash
        self.running = False
        self.finished: list[int] = []
        self.runs = 0
        self.answered_components: set[tuple[str, str]] = set()
        self.cookies: dict[str, str] = {}
        self.set_values: list[tuple[str, object]] = []  # (widget label, value) the server set
        self.fragment_of: dict[tuple, str] = {}  # element path → the fragment that drew it
        self.fragment_run = ""  # the fragment the last rerun asked for ("" = the whole script)
        self._cache: dict[str, object] = {}

    # -- reading ForwardMsgs ---------------------------------------------------------------------

    def apply(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if msg.hash and msg.metadata.cacheable:
            self._cache[msg.hash] = msg
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                raise ProtocolError(f"unknown cached message {msg.ref_hash}")
            cached_copy = type(cached)()
            cached_copy.CopyFrom(cached)
            cached_copy.metadata.CopyFrom(msg.metadata)
            return self.apply(cached_copy)
        if kind == "new_session":
            self.running = True
            self.runs += 1
            self.drawn, self.widgets_drawn = set(), set()
            self.page_script_hash = msg.new_session.page_script_hash
            self._read_pages(msg.new_session.app_pages)
        elif kind == "navigation":
            self._read_pages(msg.navigation.app_pages)
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._apply_delta(tuple(msg.metadata.delta_path), msg.delta)
        elif kind == "script_finished":
            status = msg.script_finished
            self.finished.append(status)
            if status in (0, 1):  # finished (or a compile error): the browser clears what is stale
                self.running = False
                self.elements = {p: e for p, e in self.elements.items() if self._kept(p)}
                self.values = {k: v for k, v in self.values.items() if k in self.widgets_drawn}
            elif status == 3:  # a fragment's run: the browser clears what is stale in it alone
                self.running = False
                self.elements = {p: e for p, e in self.elements.items() if self._kept(p)
                                 or self.fragment_of.get(p) != self.fragment_run}
        elif kind == "session_status_changed":
            if not msg.session_status_changed.script_is_running:
                self.running = False

    def _kept(self, path: tuple) -> bool:
        return path in self.drawn

    def _read_pages(self, app_pages) -> None:
        for app_page in app_pages:
            self.pages[app_page.url_pathname] = app_page.page_script_hash

    def _apply_delta(self, path: tuple, delta) -> None:
        which = delta.WhichOneof("type")
        self.fragment_of[path] = delta.fragment_id
        if which == "add_block":
            # A new block replaces whatever was below its path.
            self.elements = {p: e for p, e in self.elements.items()
                             if not (len(p) > len(path) and p[: len(path)] == path)}
            self.elements[path] = ("block", delta.add_block)
            self._mark(path)
        elif which == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type")
            self.elements[path] = (kind, element)
            self._mark(path)
            if kind in VALUE_FIELDS or kind in TRIGGERS or kind == "dataframe":
                self._see_widget(kind, getattr(element, kind))

    def _mark(self, path: tuple) -> None:
        for depth in range(1, len(path) + 1):
            self.drawn.add(path[:depth])

    def _see_widget(self, kind: str, widget) -> None:
        widget_id = getattr(widget, "id", "")
        if not widget_id:
            return
        self.widgets_drawn.add(widget_id)
        if kind in TRIGGERS or kind == "dataframe":
            return  # a trigger is sent once, with its click; a table's selection, by the session
        value = element_value(kind, widget, widget_id in self.values)
        if value is not None:
            if widget_id in self.values and getattr(widget, "set_value", False):
                self.set_values.append((getattr(widget, "label", widget_id), value))
            self.values[widget_id] = (VALUE_FIELDS[kind], value)

    # -- what the page shows ---------------------------------------------------------------------

    def ordered(self):
        return [self.elements[path] for path in sorted(self.elements)]

    def of_kind(self, kind: str) -> list:
        return [element for k, element in self.ordered() if k == kind]

    def widget(self, kind: str, label: str) -> Widget | None:
        for path in sorted(self.elements):
            element_kind, element = self.elements[path]
            if element_kind == kind and (widget := getattr(element, kind)).label == label:
                return Widget(widget.id, kind, widget.label, widget.form_id, widget,
                              self.fragment_of.get(path, ""))
        return None

    def fragment_id(self, widget_id: str) -> str:
        """The fragment the widget ``widget_id`` is drawn in ("" when none)."""
        for path, (kind, element) in self.elements.items():
            if getattr(getattr(element, kind, None), "id", None) == widget_id:
                return self.fragment_of.get(path, "")
        return ""

    def texts(self) -> list[str]:
        out = []
        for kind, element in self.ordered():
            if kind == "markdown":
                out.append(element.markdown.body)
            elif kind == "heading":
                out.append(element.heading.body)
            elif kind == "alert":
                out.append(element.alert.body)
        return out

    def metric(self, label: str) -> str | None:
        """The value a metric tile shows (the first with this label), or None."""
        for element in self.of_kind("metric"):
            if element.metric.label == label:
                return element.metric.body
        return None

    def title(self) -> str | None:
        for element in self.of_kind("heading"):
            if element.heading.tag == "h1":
                return element.heading.body
        return None

    def caption(self) -> Caption | None:
        for text in self.texts():
            if parsed := parse_caption(text):
                return parsed
        return None

    def errors(self) -> list[str]:
        """What a user would read as an error: exceptions shown and ``st.error`` boxes."""
        found = []
        for kind, element in self.ordered():
            if kind == "exception":
                found.append(f"exception {element.exception.type}: {element.exception.message}"[:200])
            elif kind == "alert" and element.alert.format == 1:
                found.append(f"error: {element.alert.body}"[:200])
        return found

    def table(self):
        """The Orders table as a pyarrow Table, or None."""
        import pyarrow as pa

        for element in self.of_kind("dataframe"):
            data = element.dataframe.arrow_data.data
            if data:
                return element.dataframe.id, pa.ipc.open_stream(io.BytesIO(data)).read_all()
        return None

    def components(self) -> list:
        return [element.component_instance for element in self.of_kind("component_instance")]

    def value_of(self, widget: Widget):
        stored = self.values.get(widget.id)
        return stored[1] if stored else None

    # -- what the browser sends ------------------------------------------------------------------

    def client_state(self, *, triggers: dict[str, tuple[str, object]] | None = None,
                     page_script_hash: str | None = None, query_string: str | None = None,
                     page_name: str = "", url: str = "", fragment_id: str = ""):
        from streamlit.proto.ClientState_pb2 import ClientState

        state = ClientState()
        # An address the session goes to stays the browser's address for the runs after it.
        if query_string is not None:
            self.query_string = query_string
        if page_script_hash is not None:
            self.page_script_hash = page_script_hash
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = page_name
        # A widget of a fragment reruns that fragment alone, as the browser asks for it.
        state.fragment_id = self.fragment_run = fragment_id
        state.context_info.timezone = TIMEZONE
        state.context_info.timezone_offset = TIMEZONE_OFFSET
        state.context_info.locale = "en-US"
        state.context_info.url = url
        state.context_info.is_embedded = False
        state.context_info.color_scheme = "light"
        for widget_id, (value_field, value) in {**self.values, **(triggers or {})}.items():
            fill_widget_state(state.widget_states.widgets.add(), widget_id, value_field, value)
        return state


def fill_widget_state(proto, widget_id: str, value_field: str, value) -> None:
    proto.id = widget_id
    if value_field == "string_array_value":
        proto.string_array_value.data[:] = list(value)
    elif value_field == "double_value":
        proto.double_value = float(value)
    else:
        setattr(proto, value_field, value)


class ProtocolError(Exception):
    """The server said something a browser would not understand."""
