"""Language and formatting for people: which locale a request speaks, and how dates,
times, numbers and money look in it.

The locale of a request is, in order: the logged-in user's preference (``Actor.locale``),
else the ``lang`` cookie the language switcher sets, else the best match of the browser's
``Accept-Language`` among the locales Ruleform ships (zh-CN, en), else the rulebook's
default locale. Times are stored in UTC and shown in the rulebook's time zone.

Templates get ``t(code, **params)`` (a message from ``platform.messages``), ``label(text)``
(metadata ``Text`` in the current locale) and the filters ``dt``, ``d``, ``num``, ``money``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import (
    Babel,
    format_currency,
    format_date,
    format_decimal,
    format_time,
    to_user_timezone,
)

from .auth.users import update_user
from .database import transaction
from .messages import SUPPORTED_LOCALES, message, normalise_locale

__all__ = ["init_app", "current_locale", "t", "label", "LANG_COOKIE", "babel_locale",
           "remember_locale", "format_dt", "format_d", "format_num", "format_money"]  # fmt: skip

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def _rulebook() -> Any:
    return current_app.extensions["ruleform"].runtime.rulebook


def current_locale() -> str:
    """The locale of this request (``zh-CN`` or ``en``), decided once per request."""
    if not has_request_context():
        return normalise_locale(_rulebook().default_locale)
    if "rf_locale" not in g:
        g.rf_locale = _select_locale()
    return g.rf_locale


def _select_locale() -> str:
    actor = g.get("rf_actor")
    if actor is not None and actor.locale:
        return normalise_locale(actor.locale)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in SUPPORTED_LOCALES:
        return cookie
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best:
        return normalise_locale(best)
    return normalise_locale(_rulebook().default_locale)


def remember_locale(actor: Any, locale: str) -> None:
    """Store ``locale`` as the logged-in user's preference (it outranks the cookie)."""
    if actor is None or actor.user_id is None or locale not in SUPPORTED_LOCALES:
        return

    with transaction() as conn:
        update_user(conn, actor.user_id, {"locale": locale})
    g.rf_locale = locale


def babel_locale(locale: str | None = None) -> str:
    """``zh-CN`` → ``zh_CN`` (Babel's spelling)."""
    return (locale or current_locale()).replace("-", "_")


def t(code: str, **params: Any) -> str:
    """The UI message ``code`` in the current locale (plain text; templates escape it)."""
    return message(code, current_locale(), **params)


def label(text: Any, fallback: str = "") -> str:
    """Metadata text (``Text``) in the current locale; plain strings pass through."""
    if text is None:
        return fallback
    if isinstance(text, str):
        return text
    return text.get(current_locale(), fallback) or fallback


# --- filters ---------------------------------------------------------------------------


def format_dt(value: Any, fmt: str = "medium") -> str:
    """A UTC datetime in the rulebook's time zone: the locale's ``fmt`` date and short time
    (``Mar 1, 2026 9:30 AM``, ``2026年3月1日 09:30``)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return format_d(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{format_date(to_user_timezone(value).date(), fmt)} {format_time(value, 'short')}"


def format_d(value: Any, fmt: str = "medium") -> str:
    """A date formatted for the locale (a datetime shows its date in the rulebook zone)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return format_date(value, fmt)


def format_num(value: Any) -> str:
    """A number with the locale's grouping (``10,000``)."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return str(value)
    return format_decimal(Decimal(str(value)) if isinstance(value, float) else value)


def format_money(value: Any, currency: str | None = "CNY") -> str:
    """An amount of money in ``currency`` for the locale (``¥12,345.50``)."""
    if value in (None, ""):
        return ""
    return format_currency(Decimal(str(value)), currency or "CNY")


def _timezone() -> str:
    return _rulebook().timezone


def init_app(app: Flask) -> None:
    """Install Flask-Babel with Ruleform's locale and time-zone selection, and the Jinja
    helpers (``t``, ``label``, ``current_locale``; filters ``dt``, ``d``, ``num``, ``money``)."""
    Babel(app, locale_selector=babel_locale, timezone_selector=_timezone)
    env = app.jinja_env
    env.globals.update(t=t, label=label, current_locale=current_locale,
                       supported_locales=SUPPORTED_LOCALES)  # fmt: skip
    env.filters.update(dt=format_dt, d=format_d, num=format_num, money=format_money)
