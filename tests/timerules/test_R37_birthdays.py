"""R37 (001): customer birthday reminders to the owner (``customer.birthday_reminder`` and
``contact.birthday_reminder``: ``yearly`` on a date field, 3 days before), once a year —
including across the new year and for people born on 29 February."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

RULE = "customer.birthday_reminder"
ONLY = [RULE, "contact.birthday_reminder"]


def test_R37_birthday_reminder_three_days_before_once_a_year(rules):
    customer = rules.customer("2026-01-05 10:00", contact_birthday="1980-06-15")
    rules.set_status("customer", customer, "prospect", "2026-01-05 10:00")
    rules.tick("2026-06-11 23:59", only=ONLY)
    assert rules.outbox("birthday_reminder", customer) == []
    rules.tick("2026-06-12 00:01", only=ONLY)  # 3 days before, in Shanghai time
    assert rules.sent_to("birthday_reminder", customer) == [("inbox", "sales1")]
    (message,) = rules.outbox("birthday_reminder", customer)
    assert message["payload"]["occurrence"] == "birthday:2026"
    for when in ("2026-06-13 09:00", "2026-06-15 09:00", "2026-12-01 09:00"):
        rules.tick(when, only=ONLY)
    assert rules.occurrences(RULE, customer) == ["birthday:2026"]
    rules.tick("2027-06-12 08:00", only=ONLY)
    assert rules.occurrences(RULE, customer) == ["birthday:2026", "birthday:2027"]


def test_R37_new_year_wrap_and_29_february(rules):
    january = rules.customer("2026-01-05 10:00", contact_birthday="1975-01-02")
    leap = rules.customer("2026-01-05 10:00", contact_birthday="1988-02-29")
    for record in (january, leap):
        rules.set_status("customer", record, "prospect", "2026-01-05 10:00")
    rules.tick("2026-12-30 09:00", only=ONLY)  # 2 January 2027 is within 3 days
    assert rules.occurrences(RULE, january) == ["birthday:2027"]
    rules.tick("2027-02-24 09:00", only=ONLY)
    assert rules.occurrences(RULE, leap) == []
    rules.tick("2027-02-25 09:00", only=ONLY)  # 2027 has no 29 Feb: celebrated on the 28th
    assert rules.occurrences(RULE, leap) == ["birthday:2027"]
    rules.tick("2028-02-26 09:00", only=ONLY)  # a leap year: 29 Feb is 3 days away
    assert rules.occurrences(RULE, leap) == ["birthday:2027", "birthday:2028"]


def test_R37_a_lost_customer_gets_no_reminder_and_contacts_have_their_own(rules):
    lost = rules.customer("2026-01-05 10:00", contact_birthday="1980-06-15")
    rules.set_status("customer", lost, "lost", "2026-01-05 10:00")
    contact = rules.create(
        "sales1",
        "contact",
        {"customer": lost, "full_name": "王五", "mobile": "13900139000", "birthday": "1990-06-14"},
        "2026-01-05 10:00",
    )
    rules.tick("2026-06-12 09:00", only=ONLY)
    assert rules.occurrences(RULE, lost) == []
    assert rules.occurrences("contact.birthday_reminder", contact) == ["birthday:2026"]
