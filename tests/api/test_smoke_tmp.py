import ruleform.platform.app as _a; _a.FEATURES = tuple(f for f in _a.FEATURES if "pages" not in f)
import pytest, json
pytestmark = pytest.mark.app
from ruleform.platform.app import state

def test_smoke(api, statements):
    from openapi_spec_validator import validate
    for user in ("sales1", "finance", "admin"):
        r = api.get("/openapi.json", user=user)
        doc = r.get_json()
        print(user, len(r.data), len(doc["paths"]))
        validate(doc)
    with statements.counting():
        r = api.post("/customer", json={"company_name": "x", "contact_name": "y", "source": "online", "mobile": "13800138000"})
    print("create", len(statements)); print("\n".join(s[:150] for s in statements.statements))
    rid = r.get_json()["data"]["id"]
    with statements.counting():
        r = api.get(f"/customer/{rid}")
    print("get", len(statements)); print("\n".join(s[:150] for s in statements.statements))
    with statements.counting():
        r = api.get(f"/customer")
    print("list", len(statements)); print("\n".join(s[:150] for s in statements.statements))
