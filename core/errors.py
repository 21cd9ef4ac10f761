"""orderdesk's error tree.

Every error a user may be shown derives from ``OrderdeskError``; its message is written for the
user, and pages show it through ``ui.text.as_text`` since it may quote what a user typed or a file
held. Driver errors are translated once, in ``core.db``. Anything that is not an
``OrderdeskError`` is a bug: pages log it and show a generic message.

    OrderdeskError
    ├── InvalidInput          a value typed or sent by a user is not acceptable
    │   ├── InvalidAmount     an amount that is not a positive decimal with at most 2 places
    │   └── InvalidQuery      a filter, search, sort or page that cannot be applied
    ├── OrderNotFound         no such order, or not in the user's scope (indistinguishable)
    ├── ActionNotAllowed      the user's role or the order's state forbids the action
    │   ├── CancelNotAllowed
    │   └── RefundNotAllowed
    ├── ActionFailed          a cancel or refund broke off midway; nothing of it was written
    ├── ExportTooLarge        more rows than one sheet holds
    ├── ImportRejected        an import file has bad rows; ``problems`` lists each one
    ├── UsersFileError        the users file is missing, malformed or names an unknown role
    └── DataUnavailable       the database cannot be read or written
        ├── DatabaseBusy      another process holds the database file
        ├── WriteConflict     another transaction changed the same rows first; this one was
        │                     rolled back (safe to retry from a fresh read)
        └── ConstraintViolation  a write broke a CHECK, UNIQUE or foreign-key constraint
"""
from __future__ import annotations


class OrderdeskError(Exception):
    """Base of every error whose message a user may read.

    ``OrderdeskError(template, **values)``: the message is ``template.format(**values)`` in
    English (``str(exc)``); the page shows it translated (``core.i18n.translate_error``), the
    template looked up in the user's catalogue and the values put in. Without values the
    template is the message as is (no ``format``: braces in it stay).
    """

    def __init__(self, message: object = "", /, **values: object) -> None:
        self.template = str(message) if not isinstance(message, str) else message
        self.values = values
        super().__init__(self._fill(self.template))

    def _fill(self, template: str, t=None) -> str:
        # An amount (a Decimal) is written the language's way: 1,234.50 / 1 234,50.
        from core.i18n import fill

        try:
            return fill(template, self.values, t)
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            return fill(self.template, self.values)

    def translated(self, t) -> str:
        """The message in the language of ``t`` (a ``core.i18n.translator``)."""
        if not self.template:
            return str(self)
        return self._fill(t(self.template), t)


class InvalidInput(OrderdeskError):
    """A value typed or sent by a user is not acceptable."""


class InvalidAmount(InvalidInput):
    """An amount that is not a positive decimal with at most 2 places."""


class InvalidQuery(InvalidInput):
    """A filter, search, sort or page that cannot be applied."""


class OrderNotFound(OrderdeskError):
    def __init__(self, order_id: object = None) -> None:
        super().__init__("Order not found")
        self.order_id = order_id


class ActionNotAllowed(OrderdeskError):
    """The user's role or the order's state forbids the action."""


class CancelNotAllowed(ActionNotAllowed):
    """The order cannot be cancelled, or not by this user."""


class RefundNotAllowed(ActionNotAllowed):
    """The order cannot be refunded (so), or not by this user."""


class ActionFailed(OrderdeskError):
    """A cancel or refund broke off midway; nothing of it was written."""


class ExportTooLarge(OrderdeskError):
    """More rows than one sheet holds."""


class ImportRejected(OrderdeskError):
    def __init__(self, message: str, problems: list | None = None, **values: object) -> None:
        super().__init__(message, **values)
        self.problems = list(problems or [])


class UsersFileError(OrderdeskError):
    """The users file is missing, malformed or names an unknown role."""


class DataUnavailable(OrderdeskError):
    """The database cannot be read or written."""


class DatabaseBusy(DataUnavailable):
    """Another process holds the database file."""


class WriteConflict(DataUnavailable):
    """Another transaction changed the same rows first; this one was rolled back."""


class ConstraintViolation(DataUnavailable):
    """A write broke a CHECK, UNIQUE or foreign-key constraint."""
