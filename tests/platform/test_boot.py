import pytest

pytestmark = pytest.mark.app


def test_app_boots(app, org):
    from ruleform.app import state

    assert "customer" in state(app).runtime.rulebook.entities
    assert org.user("sales1")
