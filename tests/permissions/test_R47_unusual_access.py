"""R47: unusual access — a mass export, bulk viewing — raises an alert to the
administrators through the outbox (thresholds are settings)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ruleform.app import state

pytestmark = pytest.mark.app


def _alerts(app) -> list[dict]:
    with state(app).engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT kind, channel, recipient, payload FROM outbox "
                                    "WHERE kind = 'alert'")).mappings()  # fmt: skip
        return [dict(r) for r in rows]


def test_R47_a_mass_export_alerts_the_administrators(app, api, org, row):
    app.config["EXPORT_ALERT_ROWS"] = 3
    for _ in range(3):
        row("customer", "sales1")
    assert api.get("/customer/export", user="manager").status_code == 200
    assert _alerts(app) == []  # three rows: not more than the threshold
    row("customer", "sales1")
    assert api.get("/customer/export?format=xlsx", user="manager").status_code == 200
    alerts = _alerts(app)
    assert {a["recipient"] for a in alerts} == {str(org.user("admin"))}
    assert {a["channel"] for a in alerts} == {"inbox", "email"}
    assert "mass_export" in str(alerts[0]["payload"])


def test_R47_bulk_viewing_alerts_once_per_hour(app, api, org, row):
    app.config["VIEW_ALERT_RECORDS"] = 4
    ids = [row("customer", "sales1") for _ in range(3)]
    for record_id in ids:
        api.get(f"/customer/{record_id}", user="sales1")
    assert _alerts(app) == []
    api.get("/customer", user="sales1")  # three more records seen: six within the hour
    api.get("/customer", user="sales1")
    alerts = _alerts(app)
    assert len(alerts) == 2 and "bulk_viewing" in str(alerts[0]["payload"])  # inbox + email, once
