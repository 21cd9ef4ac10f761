"""The demo's item lines and events: the lines of ``demo_base``'s orders, and one cancel or
refund per order whose fate has one, its refunded units and amount agreeing with the order's."""
from __future__ import annotations

from core.db.demo_data.choices import CANCEL, PARTIAL, RETURN, Choices
from core.db.sql_text import sql_array
from core.demo.names import CLOTHES_SIZES, COLOURS, GARMENTS, SHOE_SIZES

# The demo refunds' reasons, by weight (most come back as returns): from the dialog's fixed list
# (core.refunds.REASONS), each with the comment the refunder typed.
DEMO_REASONS = (("Goods returned", "Customer return"),) * 6 + (
    ("Damaged or defective", "Seam came apart"), ("Damaged or defective", "Stain on delivery"),
    ("Goods not delivered", "Parcel lost by the courier"),
    ("Price adjustment", "Promotion price applied late"),
    ("Duplicate order", "Paid twice at the till"),
)


def insert_items(c: Choices) -> str:
    """The INSERT of every line of ``demo_base``'s orders, with their refunded units."""
    size = (f"CASE {sql_array([g[2] for g in GARMENTS])}[g] "
            f"WHEN 0 THEN {c.pick(CLOTHES_SIZES, 'size', 'i, l')} "
            f"WHEN 1 THEN {c.pick(SHOE_SIZES, 'size', 'i, l')} END")
    return f"""
    INSERT INTO order_items (order_id, line_no, name, quantity, unit_price, refunded_quantity)
    SELECT order_id, l,
        concat_ws(', ', {sql_array([g[0] for g in GARMENTS])}[g],
                  {c.pick(COLOURS, 'colour', 'i, l')}, {size}),
        q,
        p::DECIMAL(18, 0) * 0.01,
        CASE fate WHEN {RETURN} THEN q
                  WHEN {PARTIAL} THEN demo_partial_qty(i, l, n_lines, q) ELSE 0 END
    FROM (
        SELECT *, demo_qty(i, l, p) AS q
        FROM (
            SELECT *, demo_price(i, l, g) AS p
            FROM (
                SELECT *, demo_garment(i, l) AS g
                FROM (SELECT order_id, i, fate, n_lines, unnest(range(1, n_lines + 1)) AS l
                      FROM demo_base WHERE n_lines > 0)
            )
        )
    )
    """


def insert_events(c: Choices) -> str:
    """One cancel or refund per order that has one, after the order but within the period."""
    def at(delay_seconds: str) -> str:
        return (f"make_timestamp(b.ts * 1000000 + least(({delay_seconds}) * 1000000, "
                f"({c.end_epoch} - b.ts) * 1000000 // 2))")

    cancel_at = at(f"600 + {c.rand('cancel-delay', 3 * 86400, 'b.i')}")
    refund_at = at(f"2 * 86400 + {c.rand('refund-delay', 28 * 86400, 'b.i')}")
    reason = c.rand("refund-reason", len(DEMO_REASONS), "b.i")
    return f"""
    INSERT INTO order_events (event_id, order_id, kind, amount, items, reason, username,
                              created_at, idempotency_key, reason_code)
    SELECT row_number() OVER (ORDER BY b.order_id), b.order_id,
        CASE b.fate WHEN {CANCEL} THEN 'cancel' ELSE 'refund' END,
        b.refunded_cents::DECIMAL(18, 0) * 0.01,
        r.items,
        CASE b.fate WHEN {CANCEL} THEN 'Cancelled by the customer'
             ELSE {sql_array([comment for _, comment in DEMO_REASONS])}[1 + {reason}] END,
        'demo',
        CASE b.fate WHEN {CANCEL} THEN {cancel_at} ELSE {refund_at} END,
        CASE b.fate WHEN {CANCEL} THEN 'demo-cancel-' ELSE 'demo-refund-' END
            || b.order_id::VARCHAR,
        CASE WHEN b.fate <> {CANCEL}
             THEN {sql_array([code for code, _ in DEMO_REASONS])}[1 + {reason}] END
    FROM demo_base b
    LEFT JOIN (
        SELECT order_id, to_json(list({{'line_no': line_no, 'name': name,
            'quantity': refunded_quantity, 'unit_price': unit_price::VARCHAR}}
            ORDER BY line_no))::VARCHAR AS items
        FROM order_items WHERE refunded_quantity > 0 GROUP BY order_id
    ) r ON r.order_id = b.order_id
    WHERE b.fate IN ({CANCEL}, {RETURN}, {PARTIAL})
    """
