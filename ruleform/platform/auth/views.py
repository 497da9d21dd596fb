"""Pages of the ``auth`` blueprint: log in, log out, change one's own password."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..database import transaction
from ..web import current_actor
from .forms import ChangePasswordForm, LoginForm, say
from .guards import login_required, safe_next
from .login import attempt_login
from .request_auth import SESSION_EPOCH, client_address, end_session, start_session
from .users import set_password

__all__ = ["bp", "login_limit", "auth_layout"]

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.context_processor
def auth_layout() -> dict[str, Any]:
    """``auth_layout``: the pages' ``base.html``, or a bare page when pages are not installed."""
    env = current_app.jinja_env
    return {"auth_layout": env.get_or_select_template(["base.html", "auth/_standalone.html"])}


def login_limit() -> tuple[int, int]:
    """``LOGIN_RATE_LIMIT``: (failed attempts, per seconds)."""
    attempts, seconds = current_app.config["LOGIN_RATE_LIMIT"]
    return int(attempts), int(seconds)


def _engine() -> Any:
    return current_app.extensions["ruleform"].engine


def _login_page(form: LoginForm, target: str, error: str | None = None, status: int = 200,
                headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    html = render_template("auth/login.html", form=form, next=target, error=error)
    return html, status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = safe_next(request.values.get("next"))
    form = LoginForm()
    if request.method == "GET":
        if current_actor() is not None:
            return redirect(target)
        return _login_page(form, target)
    if not form.validate():
        return _login_page(form, target)
    result = attempt_login(_engine(), form.username.data, form.password.data,
                           client_address(), login_limit())  # fmt: skip
    if result.outcome == "throttled":
        wait = str(result.retry_after)
        return _login_page(form, target, say("login_throttled", seconds=wait), 429,
                           {"Retry-After": wait})  # fmt: skip
    if not result.ok or result.user is None:
        return _login_page(form, target, say("account_inactive" if result.outcome == "inactive"
                                             else "login_failed"))  # fmt: skip
    if start_session(result.user["id"]) is None:  # deactivated in between
        return _login_page(form, target, say("account_inactive"))
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    end_session()
    flash(say("logged_out"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    actor = current_actor()
    assert actor is not None
    form = ChangePasswordForm()
    form.rf_username = actor.username
    if request.method == "GET" or not form.validate():
        return render_template("auth/password.html", form=form)
    result = attempt_login(_engine(), actor.username, form.current_password.data,
                           client_address(), login_limit(), record_login=False)  # fmt: skip
    if result.outcome == "throttled":
        wait = str(result.retry_after)
        form.current_password.errors = [say("login_throttled", seconds=wait)]
        return render_template("auth/password.html", form=form), 429, {"Retry-After": wait}
    if not result.ok:
        form.current_password.errors = [say("wrong_password")]
        return render_template("auth/password.html", form=form)
    with transaction() as conn:
        epoch = set_password(conn, actor.user_id, form.new_password.data)  # type: ignore[arg-type]
    session[SESSION_EPOCH] = epoch  # this session goes on; every other one ends
    flash(say("password_changed"), "info")
    return redirect(url_for("auth.change_password"))
