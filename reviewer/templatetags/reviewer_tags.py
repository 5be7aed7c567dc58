from datetime import datetime

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def time_left(prediction, now: datetime) -> str:
    """How long the service keeps a stored prediction: days left, or expired."""
    days = prediction.days_left(now)
    if days == 0:
        closing = "expired" if prediction.expires_at <= now else "less than a day left"
        return format_html('<strong class="expired">{}</strong>', closing)
    return f"{days} day{'s' if days != 1 else ''} left"


# How a receipt's counts read in a list, in this order; relabels stand out.
RECEIPT_WORDS = (
    ("unchanged", "kept"),
    ("moved", "moved"),
    ("relabelled", "relabelled"),
    ("deleted", "deleted"),
    ("added", "added"),
)


@register.simple_tag
def receipt_summary(review) -> str:
    """A reviewed item's corrections in one line, e.g. "2 kept · 1 relabelled"."""
    if review.state == "rejected":
        return "rejected"
    receipt = review.receipt
    if not receipt:
        return "—"
    parts = [
        format_html(
            "<strong>{} {}</strong>" if kind == "relabelled" else "{} {}",
            receipt[kind],
            words,
        )
        for kind, words in RECEIPT_WORDS
        if receipt.get(kind)
    ]
    if receipt.get("min_iou") is not None:
        parts.append(f"IoU ≥ {receipt['min_iou']:.2f}")
    return format_html(
        '<span class="receipt">{}</span>',
        format_html_join(" · ", "{}", ((part,) for part in parts)),
    )
