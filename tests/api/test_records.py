"""One record over HTTP: create, read, change, archive; versions; scope; history; related lists."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ruleform.app import state

from .conftest import CUSTOMER

pytestmark = pytest.mark.app


def _url(doc):
    return f"/customer/{doc['data']['id']}"


def test_create_answers_201_with_location_etag_and_the_record(api, customer):
    response = api.get(_url(customer))
    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()["data"]
    assert data["company_name"] == CUSTOMER["company_name"]
    assert data["status"] == "pending_review"
    assert data["importance_score"] == "63.00" == customer["data"]["importance_score"]


def test_create_sets_location_header(api):
    response = api.post("/customer", json=CUSTOMER)
    assert response.status_code == 201
    assert response.headers["Location"].endswith(
        f"/api/v1/customer/{response.get_json()['data']['id']}"
    )
    assert response.headers["ETag"] == 'W/"1"'


def test_choice_values_are_stored_values_and_labels_are_in_meta(api, customer):
    body = api.get(_url(customer), user="sales1").get_json()
    assert body["data"]["source"] == "trade_show"
    assert body["meta"]["choices"]["source"]["trade_show"] == "展会"  # sales1's locale
    english = api.get(_url(customer), user="sales2")  # en locale, but not their customer
    assert english.status_code == 404


def test_R40_sensitive_fields_are_masked_unless_revealed_and_revealing_is_audited(
    app, api, customer
):
    masked = api.get(_url(customer)).get_json()
    assert masked["data"]["mobile"] == "••••00"
    assert masked["meta"]["masked"] == ["mobile"]
    revealed = api.get(_url(customer) + "?reveal=mobile").get_json()
    assert revealed["data"]["mobile"] == "+8613800138000"
    assert revealed["meta"]["masked"] == []
    with state(app).engine.connect() as conn:
        fields = conn.execute(sa.text("select fields from read_audit order by id desc")).scalar()
    assert "mobile" in (fields if isinstance(fields, list) else __import__("json").loads(fields))


def test_reveal_of_unknown_or_unreadable_field_is_refused_alike(api, customer):
    unknown = api.get(_url(customer) + "?reveal=nope", user="finance")
    hidden = api.get(_url(customer) + "?reveal=mobile", user="finance")  # finance cannot read it
    assert unknown.status_code == hidden.status_code == 422
    assert list(unknown.get_json()["errors"]) == list(hidden.get_json()["errors"]) == ["reveal"]


def test_patch_with_if_match_changes_the_record_and_bumps_the_etag(api, customer):
    response = api.patch(_url(customer), json={"qq": "123456"}, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == 'W/"2"'
    assert response.get_json()["data"]["qq"] == "123456"


def test_patch_may_send_the_version_as_row_version_in_the_body(api, customer):
    response = api.patch(_url(customer), json={"qq": "123456", "row_version": 1})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["meta"]["version"] == 2


def test_patch_without_a_version_is_428_and_changes_nothing(api, customer):
    response = api.patch(_url(customer), json={"qq": "123456"})
    assert response.status_code == 428
    body = response.get_json()
    assert body["code"] == "precondition_required" and body["status"] == 428
    assert api.get(_url(customer)).get_json()["data"]["qq"] is None


def test_stale_version_is_409_with_the_current_version(api, customer):
    assert (
        api.patch(_url(customer), json={"qq": "111111"}, headers={"If-Match": 'W/"1"'}).status_code
        == 200
    )
    stale = api.patch(_url(customer), json={"qq": "222222"}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["code"] == "version_conflict"
    assert body["current_version"] == 2
    assert stale.headers["ETag"] == 'W/"2"'
    assert set(body) == {"code", "status", "message", "errors", "current_version"}
    assert api.get(_url(customer)).get_json()["data"]["qq"] == "111111"


@pytest.mark.parametrize("header", ["*", 'W/"1", W/"2"', "abc", 'W/"x"'])
def test_unreadable_if_match_is_400(api, customer, header):
    response = api.patch(_url(customer), json={"qq": "123456"}, headers={"If-Match": header})
    assert response.status_code == 400
    assert response.get_json()["code"] == "malformed"


@pytest.mark.parametrize("version", ["²", "-1", True, 1.5, "1e3", None])
def test_row_version_in_the_body_must_be_a_whole_number(api, customer, version):
    response = api.patch(_url(customer), json={"qq": "123456", "row_version": version})
    assert response.status_code == 422
    assert "row_version" in response.get_json()["errors"]


def test_if_match_and_row_version_must_agree(api, customer):
    response = api.patch(
        _url(customer), json={"qq": "123456", "row_version": 2}, headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 400


def test_if_none_match_answers_304(api, customer):
    response = api.get(_url(customer), headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304
    assert response.headers["ETag"] == 'W/"1"'


def test_delete_archives_with_if_match(api, customer):
    assert api.delete(_url(customer), user="sales1").status_code in (403, 428)
    assert api.delete(_url(customer), user="admin").status_code == 428
    assert (
        api.delete(_url(customer), user="admin", headers={"If-Match": 'W/"9"'}).status_code == 409
    )
    response = api.delete(_url(customer), user="admin", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 204
    listed = api.get("/customer", user="admin").get_json()["data"]
    assert customer["data"]["id"] not in [r["id"] for r in listed]
    archived = api.get(_url(customer), user="admin").get_json()["data"]
    assert archived["archived"] is True


def test_R28_a_record_outside_the_scope_is_404_on_every_route(api, customer):
    url = _url(customer)
    headers = {"If-Match": 'W/"1"'}
    assert api.get(url, user="sales2").status_code == 404
    assert api.patch(url, user="sales2", json={"qq": "123456"}, headers=headers).status_code == 404
    assert api.delete(url, user="sales2", headers=headers).status_code == 404
    assert api.get(url + "/history", user="sales2").status_code == 404
    assert api.get(url + "/related/contact", user="sales2").status_code == 404
    assert api.post(url + "/form-state", user="sales2", json={}).status_code == 404
    missing = api.get("/customer/999999", user="sales2")
    assert missing.get_json() == api.get(url, user="sales2").get_json()  # same answer: no leak


def test_unknown_entity_and_unreadable_entity_are_404(api):
    assert api.get("/nothing").status_code == 404
    assert api.get("/customer/abc").status_code == 404
    assert api.get("/customer/99999999999999999999999").status_code == 404
    assert api.post("/nothing", json={}).get_json()["code"] == "not_found"


def test_role_without_the_action_gets_403(api, customer):
    assert api.post("/customer", user="finance", json=CUSTOMER).status_code == 403
    response = api.patch(
        _url(customer), user="service", json={"qq": "123456"}, headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize("param", ["user", "owner", "as_user", "user_id", "actor", "role"])
def test_identity_query_parameters_change_nothing(api, customer, org, param):
    """?user=, ?owner=, ?as_user= … neither widen nor narrow what a caller sees or does."""
    other = org.user("sales2")
    assert api.get(f"{_url(customer)}?{param}={other}", user="sales2").status_code == 404
    mine = api.get(f"/customer?{param}={other}", user="sales1").get_json()["data"]
    assert [r["id"] for r in mine] == [customer["data"]["id"]]
    created = api.post(f"/customer?{param}={other}", user="sales1", json=CUSTOMER).get_json()
    assert created["data"]["owner"] == org.user("sales1")
    assert created["data"]["created_by"] == org.user("sales1")


def test_history_lists_changes_newest_first(api, customer):
    api.patch(
        _url(customer), json={"qq": "123456", "remarks": "第一次"}, headers={"If-Match": 'W/"1"'}
    )
    body = api.get(_url(customer) + "/history").get_json()
    assert [e["action"] for e in body["data"]] == ["update", "create"]
    assert body["data"][0]["changes"]["qq"] == [None, "123456"]
    assert body["data"][0]["user_name"] == "张伟"
    assert body["data"][1]["changes"]["mobile"] == [None, "••••00"]  # sensitive: masked
    assert body["meta"]["next_cursor"] is None


def test_history_leaves_out_values_the_reader_may_not_read(api, customer):
    api.patch(_url(customer), json={"qq": "123456"}, headers={"If-Match": 'W/"1"'})
    finance = api.get(_url(customer) + "/history", user="finance").get_json()["data"]
    shown = {key for entry in finance for key in entry["changes"]}
    assert shown <= {
        "company_name",
        "short_name",
        "invoice_title",
        "tax_id",
        "bank_name",
        "bank_account",
        "payment_terms",
        "credit_limit",
        "owner",
        "department",
        "status",
        "archived",
    }
    assert "company_name" in shown and "qq" not in shown and "mobile" not in shown


def test_history_pages_by_cursor(api, customer):
    version = 1
    for n in range(3):
        response = api.patch(
            _url(customer), json={"qq": f"12345{n}"}, headers={"If-Match": f'W/"{version}"'}
        )
        version = response.get_json()["meta"]["version"]
    first = api.get(_url(customer) + "/history?page_size=2").get_json()
    assert len(first["data"]) == 2 and first["meta"]["next_cursor"]
    rest = api.get(_url(customer) + f"/history?page_size=2&cursor={first['meta']['next_cursor']}")
    ids = [e["id"] for e in first["data"] + rest.get_json()["data"]]
    assert len(ids) == 4 and ids == sorted(ids, reverse=True)
    assert api.get(_url(customer) + "/history?page_size=0").status_code == 422
    assert api.get(_url(customer) + "/history", query_string={"cursor": "²"}).status_code == 422


def test_related_list_goes_through_the_related_entitys_rules(api, customer):
    contact = {"customer": customer["data"]["id"], "full_name": "李四", "mobile": "13900139000"}
    created = api.post("/contact", json=contact)
    assert created.status_code == 201, created.get_json()
    related = api.get(_url(customer) + "/related/contact").get_json()
    assert [r["id"] for r in related["data"]] == [created.get_json()["data"]["id"]]
    assert related["meta"]["via"] == "customer"
    assert related["data"][0]["mobile"] == "••••00"
    assert (
        api.get(_url(customer) + "/related/contact?filter[full_name]=王五").get_json()["data"] == []
    )
    assert api.get(_url(customer) + "/related/nothing").status_code == 404
    assert api.get(_url(customer) + "/related/user").status_code == 404


def test_related_list_with_two_links_needs_via(api, customer):
    url = _url(customer) + "/related/conflict_case"
    ambiguous = api.get(url, user="admin")
    assert ambiguous.status_code == 422
    assert "via" in ambiguous.get_json()["errors"]
    assert api.get(url + "?via=duplicate_customer", user="admin").status_code == 200
    assert api.get(url + "?via=owner", user="admin").status_code == 422


def test_form_state_reports_visible_required_editable(api, customer):
    state_ = api.post("/customer/form-state", json={"consent_given": True}).get_json()["data"]
    assert state_["consent_on"]["visible"] is True
    hidden = api.post("/customer/form-state", json={"consent_given": False}).get_json()["data"]
    assert hidden["consent_on"]["visible"] is False
    finance = api.post("/customer/form-state", user="finance", json={}).get_json()["data"]
    assert "mobile" not in finance and "credit_limit" in finance
    existing = api.post(_url(customer) + "/form-state", json={})
    assert existing.status_code == 200


def test_duplicate_warnings_are_returned_with_the_saved_record(api, customer):
    again = api.post("/customer", user="sales2", json={**CUSTOMER, "contact_department": "采购部"})
    assert again.status_code == 201
    assert again.get_json()["meta"].get("warnings")
