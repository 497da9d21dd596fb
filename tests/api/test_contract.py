"""The contract: the same payload has the same outcome through the API as through the Python
service (and, once the pages add their leg, the form) — tests/contract_payloads.py."""

from __future__ import annotations

from typing import Any

import pytest

from ruleform.app import state
from ruleform.errors import FieldErrors
from ruleform.platform.actors import load_actor
from ruleform.platform.records import RecordService
from tests.contract_payloads import CASES, Case, outcome, resolve

pytestmark = pytest.mark.app


def _reveal(app: Any, case: Case) -> list[str]:
    entity = state(app).runtime.entity(case.entity)
    return [n for n, f in entity.fields.items() if f.sensitive]


def service_leg(app: Any, org: Any, case: Case) -> dict[str, Any]:
    """Create through ``RecordService`` and read it back — then roll back, so the API leg
    starts from the same database state."""
    from ruleform.blueprints.api.views import record_document

    st = state(app)
    with st.engine.connect() as conn:
        transaction = conn.begin()
        try:
            service = RecordService(st.runtime, conn, load_actor(conn, org.user(case.user)))
            try:
                view = service.create(case.entity, resolve(case.payload, org.users))
            except FieldErrors as exc:
                return outcome(None, exc.errors)
            shown = service.get(case.entity, view.id, reveal=_reveal(app, case))
            return outcome(record_document(shown.entity, shown, "en")["data"], None)
        finally:
            transaction.rollback()


def api_leg(app: Any, api: Any, org: Any, case: Case) -> dict[str, Any]:
    response = api.post(f"/{case.entity}", user=case.user, json=resolve(case.payload, org.users))
    body = response.get_json()
    if response.status_code == 422:
        return outcome(None, body["errors"])
    assert response.status_code == 201, (case.name, response.status_code, body)
    url = f"/{case.entity}/{body['data']['id']}?reveal=" + ",".join(_reveal(app, case))
    return outcome(api.get(url, user=case.user).get_json()["data"], None)


def test_every_contract_payload_has_the_same_outcome_through_the_api_and_the_service(app, api, org):
    differences, unexpected = [], []
    for case in CASES:
        by_service = service_leg(app, org, case)
        by_api = api_leg(app, api, org, case)
        if by_service != by_api:
            differences.append((case.name, by_service, by_api))
        if case.valid != ("saved" in by_api) or not set(case.fields) <= set(
            by_api.get("refused", {})
        ):
            unexpected.append((case.name, case.fields, by_api))
    assert not differences, differences
    assert not unexpected, unexpected


def test_the_payload_table_covers_every_kind_of_outcome():
    tags = {t for case in CASES for t in case.tags}
    assert {"type", "rule", "unknown", "mass_assignment", "required"} <= tags
    assert any(case.valid for case in CASES) and any(not case.valid for case in CASES)
    assert len({case.name for case in CASES}) == len(CASES)
