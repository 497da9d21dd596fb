"""HTTP for time rules: the administrators' page, "my tasks", and their API.

    GET   /admin/time-rules                      (admins) every rule: rollout, caps, last
                                                 success, overdue, the last runs
    GET   /admin/time-rules/<rule>               (admins) one rule: dry-run results
                                                 ("would send 312 SMS to …"), runs, state
    POST  /admin/time-rules/<rule>/<action>      (admins, CSRF) pause resume approve
                                                 dry_run canary draft reset caps
    GET   /api/v1/time-rules                     (admins) the health data as JSON
    GET   /tasks                                 my tasks         POST /tasks/<id>/done
    GET   /api/v1/tasks?status=open|done|all     my tasks         POST /api/v1/tasks/<id>/done

Authentication and CSRF are ``auth``'s; administrators are ``Actor.is_admin``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for

from ...errors import NotFound, UsageError
from ...platform.auth.guards import admin_required, login_required
from ...platform.database import read_connection, transaction
from ...platform.i18n import current_locale
from ...platform.navigation import NavLink, add_link
from ...platform.records.values import to_json
from ...platform.runtime import utcnow
from ...platform.web import current_actor, current_runtime
from ...workflow_engine import tasks as task_store
from ...workflow_engine.timerules import rollout
from ...workflow_engine.timerules.catalog import find_rule, rule_key
from ...workflow_engine.timerules.health import recent_runs, rule_health

__all__ = ["init_app", "bp"]

bp = Blueprint("timerules", __name__, template_folder="templates")

ACTIONS = ("pause", "resume", "approve", "dry_run", "canary", "draft", "reset", "caps")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Time rules",
        "tasks": "My tasks",
        "rule": "Rule",
        "rollout": "Rollout",
        "last_success": "Last success",
        "overdue": "overdue",
        "caps": "Caps",
        "per_run": "per run",
        "per_day": "per day",
        "runs": "Recent runs",
        "dry_runs": "Dry run: what it would send",
        "none": "Nothing yet.",
        "pause": "Pause",
        "resume": "Resume",
        "approve": "Approve: go active",
        "dry_run": "Dry run",
        "canary": "Canary",
        "draft": "Draft",
        "reset": "Rulebook's rollout",
        "save_caps": "Save caps",
        "canary_list": "Canary allow-list (usernames, addresses, departments; one per line)",
        "canary_share": "Canary share (% of records)",
        "would_send": "would send {count} {channel} message(s) to {recipients} recipient(s)",
        "done": "Done",
        "reopen": "Open again",
        "due": "Due",
        "record": "Record",
        "last_tick": "Last tick",
        "kill_switch": "The delivery kill switch is on: no ticks run.",
        "state_saved": "{rule}: {rollout}",
        "error": "Last error",
        "paused_because": "Paused:",
        "status": "Status",
        "matched": "matched",
        "sent": "sent",
        "capped": "capped",
        "late": "late",
        "errors": "errors",
        "dry": "dry",
        "started": "Started",
    },
    "zh-CN": {
        "title": "时间规则",
        "tasks": "我的任务",
        "rule": "规则",
        "rollout": "发布状态",
        "last_success": "最近成功",
        "overdue": "已超时",
        "caps": "上限",
        "per_run": "每次",
        "per_day": "每天",
        "runs": "最近运行",
        "dry_runs": "演练：将会发送的内容",
        "none": "暂无。",
        "pause": "暂停",
        "resume": "恢复",
        "approve": "批准：正式启用",
        "dry_run": "演练",
        "canary": "试点",
        "draft": "草稿",
        "reset": "按制度设置",
        "save_caps": "保存上限",
        "canary_list": "试点名单（用户名、地址或部门，每行一个）",
        "canary_share": "试点比例（记录的百分比）",
        "would_send": "将向 {recipients} 个接收人发送 {count} 条{channel}消息",
        "done": "完成",
        "reopen": "重新打开",
        "due": "截止",
        "record": "记录",
        "last_tick": "最近一次运行",
        "kill_switch": "发送总开关已关闭：时间规则暂停运行。",
        "state_saved": "{rule}：{rollout}",
        "error": "最近错误",
        "paused_because": "已暂停：",
        "status": "状态",
        "matched": "命中",
        "sent": "发送",
        "capped": "超上限",
        "late": "迟到",
        "errors": "错误",
        "dry": "演练",
        "started": "开始",
    },
}


def tr_text(key: str, **params: Any) -> str:
    """Template helper: a time-rule text in the request's locale."""
    words = TEXTS["zh-CN" if current_locale().startswith("zh") else "en"]
    return words.get(key, key).format(**params)


# --- administrators ---------------------------------------------------------------------------


def rules_page() -> str:
    runtime = current_runtime()
    with read_connection() as conn:
        health = rule_health(runtime, conn, utcnow(), current_locale())
        runs = recent_runs(runtime, conn, None, 30)
    return render_template("timerules/rules.html", health=health, runs=runs)


def rules_api() -> Any:
    runtime = current_runtime()
    with read_connection() as conn:
        health = rule_health(runtime, conn, utcnow(), current_locale())
        health["runs"] = recent_runs(runtime, conn, None, 50)
    return health


def rule_page(rule: str) -> str:
    runtime = current_runtime()
    model = _rule(rule)
    key = rule_key(model)
    with read_connection() as conn:
        health = rule_health(runtime, conn, utcnow(), current_locale())
        state = next(r for r in health["rules"] if r["rule"] == key)
        runs = recent_runs(runtime, conn, key, 30)
        summary, rows = _dry_runs(runtime, conn, key)
    return render_template("timerules/rule.html", rule=model, key=key, state=state, runs=runs,
                           summary=summary, rows=rows, actions=ACTIONS)  # fmt: skip


def _dry_runs(runtime: Any, conn: Any, key: str) -> tuple[list[dict[str, Any]], list[Any]]:
    t = runtime.system_table("rule_dry_runs")
    channel = sa.func.substr(t.c.channel, sa.func.instr(t.c.channel, ":") + 1) \
        if conn.dialect.name == "sqlite" else sa.func.split_part(t.c.channel, ":", 2)  # fmt: skip
    summary = [dict(r) for r in conn.execute(
        sa.select(channel.label("channel"), sa.func.count().label("count"),
                  sa.func.count(sa.distinct(t.c.recipient)).label("recipients"))
        .where(t.c.rule == key).group_by(channel)).mappings()]  # fmt: skip
    rows = conn.execute(sa.select(t).where(t.c.rule == key).order_by(t.c.id.desc())
                        .limit(100)).mappings().all()  # fmt: skip
    return summary, list(rows)


def rule_action(rule: str, action: str) -> Any:
    if action not in ACTIONS:
        abort(404)
    runtime, actor, model = current_runtime(), current_actor(), _rule(rule)
    assert actor is not None
    table, now, key = runtime.system_table("rule_states"), utcnow(), rule_key(model)
    with transaction() as conn:
        state = rollout.load_states(conn, table, [model])[key]
        if action == "pause":
            rollout.pause(conn, table, model, state, f"paused by {actor.username}", now,
                          actor.user_id)  # fmt: skip
        elif action == "resume":
            rollout.resume(conn, table, model, state, now, actor.user_id)
        elif action == "approve":
            rollout.approve(conn, table, model, now, actor.user_id)
        elif action == "reset":
            rollout.set_rollout(conn, table, model, None, now, actor.user_id, paused_reason=None)
        elif action == "caps":
            _save_caps(conn, table, model, now, actor.user_id)
        else:
            rollout.set_rollout(conn, table, model, action, now, actor.user_id)
        after = rollout.load_states(conn, table, [model])[key]
    flash(tr_text("state_saved", rule=key, rollout=after.rollout), "success")
    return redirect(url_for("timerules.rule_page", rule=key))


def _save_caps(conn: Any, table: Any, model: Any, now: Any, user_id: int | None) -> None:
    def number(name: str) -> int | None:
        text = (request.form.get(name) or "").strip()
        return int(text) if text.isdigit() else None

    listed = [n.strip() for n in (request.form.get("canary") or "").splitlines() if n.strip()]
    share = number("canary_share")
    rollout._upsert(conn, table, rule_key(model), {
        "cap_per_run": number("cap_per_run"), "cap_per_day": number("cap_per_day"),
        "canary": listed or None, "canary_share": min(100, share) if share is not None else None,
        "updated_by": user_id, "updated_at": now})  # fmt: skip


def _rule(name: str) -> Any:
    try:
        return find_rule(current_runtime().rulebook, name)
    except UsageError:
        raise NotFound("time rule") from None


# --- my tasks -----------------------------------------------------------------------------------


def _my_tasks(status: str | None) -> list[dict[str, Any]]:
    actor = current_actor()
    assert actor is not None and actor.user_id is not None
    with read_connection() as conn:
        return task_store.list_tasks(conn, current_runtime().system_table("tasks"), actor.user_id,
                                     status)  # fmt: skip


def tasks_page() -> str:
    return render_template("timerules/tasks.html", open_tasks=_my_tasks(task_store.OPEN),
                           done_tasks=_my_tasks(task_store.DONE)[:20])  # fmt: skip


def task_done(task_id: int) -> Any:
    _complete(task_id, request.form.get("state", "done") == "done")
    return redirect(url_for("timerules.tasks_page"))


def tasks_api() -> Any:
    status = request.args.get("status", "open")
    if status not in ("open", "done", "all"):
        abort(400)
    rows = _my_tasks(None if status == "all" else status)
    return {"data": [_task_json(t) for t in rows]}


def task_done_api(task_id: int) -> Any:
    body = request.get_json(silent=True) or {}
    return {"data": _task_json(_complete(task_id, body.get("done", True) is not False))}


def _complete(task_id: int, done: bool) -> dict[str, Any]:
    actor = current_actor()
    assert actor is not None and actor.user_id is not None
    with transaction() as conn:
        task = task_store.complete_task(conn, current_runtime().system_table("tasks"), task_id,
                                        actor.user_id, utcnow(), done)  # fmt: skip
    if task is None:
        raise NotFound("task")
    return dict(task)


def _task_json(task: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "title", "entity", "record_id", "rule", "due_at", "status", "created_at",
            "done_at")  # fmt: skip
    data = {k: to_json(task.get(k)) for k in keys}
    data["link"] = f"/{task['entity']}/{task['record_id']}" if task.get("entity") else None
    return data


# --- wiring ---------------------------------------------------------------------------------------

_TASK = "<int(min=1, max=9223372036854775807):task_id>"
_RULES: list[tuple[str, str, Callable[..., Any], list[str], Callable[..., Any]]] = [
    ("/admin/time-rules", "rules_page", rules_page, ["GET"], admin_required),
    ("/admin/time-rules/<rule>", "rule_page", rule_page, ["GET"], admin_required),
    ("/admin/time-rules/<rule>/<action>", "rule_action", rule_action, ["POST"], admin_required),
    ("/api/v1/time-rules", "rules_api", rules_api, ["GET"], admin_required),
    ("/tasks", "tasks_page", tasks_page, ["GET"], login_required),
    (f"/tasks/{_TASK}/done", "task_done", task_done, ["POST"], login_required),
    ("/api/v1/tasks", "tasks_api", tasks_api, ["GET"], login_required),
    (f"/api/v1/tasks/{_TASK}/done", "task_done_api", task_done_api, ["POST"], login_required),
]

for _path, _endpoint, _view, _methods, _guard in _RULES:
    bp.add_url_rule(_path, _endpoint, functools.wraps(_view)(_guard(_view)), methods=_methods)


def init_app(app: Flask) -> None:
    """Register the blueprint and the template helper ``tr_t``."""
    app.register_blueprint(bp)
    add_link(app, NavLink("/tasks", "page.tasks"))
    add_link(app, NavLink("/admin/time-rules", "page.admin_time_rules", "admin"))
    app.jinja_env.globals["tr_t"] = tr_text
