"""The demo's orders: ``demo_base`` dressed with customers, phones, sales people and references.

A customer's e-mail and phone are typed the ways people type them (capitals, spaces, prefixes);
the phone's digits, what search matches, come from the typed phone by ``phone_digits_sql``, as
an import's do. The fixed edge cases of ``core.demo.plan.EDGE_ORDERS`` replace generated values.
"""
from __future__ import annotations

from core.db.demo_data.choices import COMPLETED, OFFLINE, ONLINE, PARTIAL, Choices, digits_sql
from core.db.sql_text import phone_digits_sql, sql_literal
from core.demo.names import EMAIL_DOMAINS, EMAIL_NAMES, PHONE_FORMS, STAFF_NAMES
from core.demo.plan import FIRST_ORDER_ID


def _customer_parts(c: Choices) -> list[str]:
    """Columns the customer's e-mail, phone and sales person are assembled from."""
    female = f"{c.rand('gender', 100)} < 72"
    first = {z: (n[0], n[2]) for z, n in EMAIL_NAMES.items()}
    last = {z: (n[1], n[3]) for z, n in EMAIL_NAMES.items()}
    staff_female = f"{c.rand('staff-gender', 100, 'staff_no')} < 70"
    staff_first = {z: (n[0], n[2]) for z, n in STAFF_NAMES.items()}
    staff_last = {z: (n[1], n[3]) for z, n in STAFF_NAMES.items()}
    pl_prefix = c.pick(("50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88"),
                       "pl-prefix")
    national = {
        "PL": f"{pl_prefix} || {digits_sql(c.rand('phone', 10 ** 7), 7)}",
        "RO": f"'7' || {digits_sql(c.rand('phone', 10 ** 8), 8)}",
        "RU": f"'9' || {digits_sql(c.rand('phone', 10 ** 9), 9)}",
    }
    return [
        f"{c.by_gender(female, first, 'first')} AS first_name",
        f"{c.by_gender(female, last, 'last')} AS last_name",
        f"{c.by_zone(lambda z: c.pick(EMAIL_DOMAINS[z], 'domain'))} AS domain",
        f"{c.rand('email-form', 10)} AS email_form",
        f"{c.rand('email-case', 100)} AS email_case",
        # The mobile number without country or trunk prefix: 9 digits in every zone.
        f"{c.by_zone(national.__getitem__)} AS national",
        f"{c.rand('phone-form', 100)} AS phone_form",
        # Keyed by the sales person, not the order, so one ID always has one name.
        f"{c.by_gender(staff_female, staff_first, 'staff-first', 'staff_no')} || ' ' || "
        f"{c.by_gender(staff_female, staff_last, 'staff-last', 'staff_no')} AS staff_name",
    ]


def _email_plain(c: Choices) -> str:
    year = f"(70 + {c.rand('email-year', 36)}) % 100"
    return ("CASE WHEN email_form = 0 THEN first_name || last_name "
            "WHEN email_form = 1 THEN left(first_name, 1) || last_name "
            "WHEN email_form IN (2, 3) THEN first_name || "
            f"(10 + {c.rand('email-number', 90)})::VARCHAR "
            f"WHEN email_form = 4 THEN last_name || '.' || first_name || {digits_sql(year, 2)} "
            "WHEN email_form = 5 THEN first_name || '_' || last_name "
            "ELSE first_name || '.' || last_name END || '@' || domain")


# Some people type capitals; search must not care.
_EMAIL = ("CASE WHEN email_case < 3 "
          "THEN upper(left(email_plain, 1)) || substr(email_plain, 2) "
          "WHEN email_case < 4 THEN upper(email_plain) ELSE email_plain END")


def _typed_phone(c: Choices) -> str:
    """The phone as the customer typed it."""
    def part(start: int, length: int) -> str:
        return f"substr(national, {start}, {length})"

    def grouped(zone: str) -> str:
        if zone == "RU":
            return (f"{part(1, 3)} || ' ' || {part(4, 3)} || '-' || {part(7, 2)} || '-' || "
                    f"{part(9, 2)}")
        return f"{part(1, 3)} || ' ' || {part(4, 3)} || ' ' || {part(7, 3)}"

    def typed(zone: str) -> str:
        return "CASE " + " ".join(
            f"WHEN phone_form < {below} THEN {sql_literal(prefix)} || "
            + (grouped(zone) if is_grouped else "national")
            for below, prefix, is_grouped in PHONE_FORMS[zone]
        ) + " END"

    return c.by_zone(typed)


def _barcode_body(c: Choices) -> str:
    """The first 12 digits of an EAN-13 in the in-store range (prefix 2), unique per order."""
    # n -> n * 7919 + shift is a bijection modulo 10^11: no two orders share a barcode.
    shift = c.seed * 7_919_000_003 % 100_000_000_000
    return f"200000000000 + (n * 7919 + {shift}) % 100000000000"


def _barcode() -> str:
    """The EAN-13: ``barcode_body`` and its check digit."""
    weighted = " + ".join(
        f"(barcode_body // {10 ** (11 - pos)} % 10) * {3 if pos % 2 else 1}"
        for pos in range(12)
    )
    return f"barcode_body::VARCHAR || ((10 - ({weighted}) % 10) % 10)::VARCHAR"


def insert_orders(c: Choices) -> str:
    """The INSERT of every order of ``demo_base`` (with ``demo_edge``'s fixed values)."""
    has_staff = f"channel = {OFFLINE} OR {c.rand('online-staff', 100)} < 4"
    staff_id = f"'SP' || {digits_sql('staff_no', c.staff_width)}"
    web_number = f"'WEB-' || (2423434 + 3 * n + {c.rand('web-id', 3)})::VARCHAR"
    phone = "coalesce(e.phone, b.typed_phone)"
    return f"""
    INSERT INTO orders (order_id, created_at, merchant_order_id, amount, refunded_amount,
                        status, channel, email, phone, phone_digits, store_id,
                        salesperson_id, salesperson_name)
    SELECT b.order_id, make_timestamp(ts * 1000000),
        CASE channel WHEN {ONLINE} THEN {web_number} ELSE {_barcode()} END,
        amount_cents::DECIMAL(18, 0) * 0.01,
        refunded_cents::DECIMAL(18, 0) * 0.01,
        CASE fate WHEN {PARTIAL} THEN {COMPLETED} ELSE fate END,
        channel,
        coalesce(e.email, {_EMAIL}),
        {phone},
        {phone_digits_sql(phone)},
        store_id,
        coalesce(e.salesperson_id,
                 CASE WHEN {has_staff} THEN {staff_id} END),
        coalesce(e.salesperson_name, CASE WHEN {has_staff} THEN staff_name END)
    FROM (
        SELECT *, {_email_plain(c)} AS email_plain, {_typed_phone(c)} AS typed_phone
        FROM (
            SELECT *, {", ".join(_customer_parts(c))}, {_barcode_body(c)} AS barcode_body
            FROM (
                SELECT *, order_id - {FIRST_ORDER_ID} AS n,
                       store_no * 10 + {c.rand('staff', 6)} AS staff_no
                FROM demo_base
            )
        )
    ) b
    LEFT JOIN demo_edge e ON e.order_id = b.order_id
    """
