"""``ruleform serve | worker | demo``: options, environment variables and the gunicorn
settings, without starting a server (``test_demo_smoke.py`` starts a real one)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from ruleform import serve as serve_module
from ruleform.cli import _register_extensions, cli
from ruleform.errors import UsageError
from ruleform.platform.cli_support import default_rulebook, open_engine, resolve_database_url
from tests.conftest import CRM

CLEAN_ENV = {"RULEFORM_DATABASE_URL": None, "RULEFORM_INSTANCE_PATH": None,
             "RULEFORM_RULEBOOK": None, "RULEFORM_REDIS_URL": None}  # fmt: skip


@pytest.fixture
def invoke(tmp_path, monkeypatch):
    _register_extensions()
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict | None = None):
        return CliRunner().invoke(cli, list(args), env={**CLEAN_ENV, **(env or {})},
                                  catch_exceptions=False)  # fmt: skip

    return run


@pytest.fixture
def served(monkeypatch):
    """Calls to ``serve_app``, recorded instead of serving."""
    calls: list[dict] = []

    def record(config, **options):
        calls.append({"config": config, **options})

    monkeypatch.setattr(serve_module, "serve_app", record)
    return calls


def test_serve_passes_database_rulebook_and_server_options(invoke, served, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = invoke("serve", "--database", url, "--rulebook", CRM, "--instance", "inst",
                    "--host", "0.0.0.0", "--port", "8123", "--workers", "3",
                    "--threads", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["config"] == {"INSTANCE_PATH": str(tmp_path / "inst"), "DATABASE_URL": url,
                              "RULEBOOK": CRM}  # fmt: skip
    assert (call["host"], call["port"], call["workers"], call["threads"], call["dev"]) == (
        "0.0.0.0",
        8123,
        3,
        2,
        False,
    )


def test_serve_reads_the_ruleform_environment_variables(invoke, served, tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    env = {"RULEFORM_DATABASE_URL": url, "RULEFORM_RULEBOOK": CRM,
           "RULEFORM_INSTANCE_PATH": str(tmp_path / "i")}  # fmt: skip
    result = invoke("serve", "--dev", env=env)
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["config"]["DATABASE_URL"] == url and call["config"]["RULEBOOK"] == CRM
    assert call["config"]["INSTANCE_PATH"] == str(tmp_path / "i")
    assert call["dev"] is True and (call["host"], call["port"]) == ("127.0.0.1", 5000)


def test_serve_without_a_stored_version_or_rulebook_is_a_usage_error(invoke, served, tmp_path):
    with pytest.raises(UsageError, match="--rulebook PATH"):
        invoke("serve", "--database", f"sqlite:///{tmp_path / 'empty.db'}")
    assert served == []


def test_serve_refuses_a_bad_port(invoke, served):
    result = invoke("serve", "--rulebook", CRM, "--port", "70000")
    assert result.exit_code == 2 and "70000" in result.output


def test_worker_needs_a_redis_url(invoke, monkeypatch):
    result = invoke("worker")
    assert result.exit_code == 2 and "--redis-url" in result.output
    calls = []
    monkeypatch.setattr(serve_module, "run_worker", lambda url, **kw: calls.append((url, kw)))
    result = invoke("worker", "--burst", env={"RULEFORM_REDIS_URL": "unix:///tmp/r.sock"})
    assert result.exit_code == 0, result.output
    assert calls == [("unix:///tmp/r.sock", {"burst": True, "exit_with_parent": False})]


def test_demo_options(invoke, monkeypatch, tmp_path):
    from ruleform.demo import run as demo_run

    calls = []
    monkeypatch.setattr(demo_run, "run_demo", lambda **kw: calls.append(kw))
    assert invoke("demo").exit_code == 0
    assert invoke("demo", "--port", "5055", "--data-dir", "elsewhere", "--reset",
                  "--seed", "9").exit_code == 0  # fmt: skip
    default, custom = calls
    assert default["port"] == 5000 and default["host"] == "127.0.0.1"
    assert default["data_dir"] == Path("demo-data") and default["reset"] is False
    assert Path(default["rulebook"]) == default_rulebook() == Path(CRM)
    assert (custom["port"], custom["data_dir"], custom["reset"], custom["seed"]) == (
        5055,
        Path("elsewhere"),
        True,
        9,
    )


def test_database_url_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("RULEFORM_INSTANCE_PATH", raising=False)
    instance = tmp_path / "instance"
    assert resolve_database_url(None, instance) == f"sqlite:///{instance / 'ruleform.db'}"
    assert resolve_database_url("postgresql://db/x", instance) == "postgresql://db/x"
    instance.mkdir()
    (instance / "config.py").write_text("DATABASE_URL = 'sqlite:////srv/ruleform.db'\n")
    assert resolve_database_url(None, instance) == "sqlite:////srv/ruleform.db"
    engine = open_engine(None, tmp_path / "other")
    assert engine.url.database == str(tmp_path / "other" / "ruleform.db")
    assert (tmp_path / "other").is_dir()
    engine.dispose()


def test_gunicorn_runs_the_app_preloaded_with_threads_and_the_post_fork_hook():
    options = {"bind": "127.0.0.1:5999", "workers": 3, "threads": 4, "worker_class": "gthread",
               "preload_app": True, "post_fork": serve_module.post_fork,
               "no_such_setting": 1}  # fmt: skip
    app = serve_module._gunicorn_application({"DATABASE_URL": "sqlite://"}, options)
    cfg = app.cfg
    assert cfg.bind == ["127.0.0.1:5999"] and cfg.workers == 3 and cfg.threads == 4
    assert cfg.preload_app is True and cfg.post_fork is serve_module.post_fork


def test_gunicorn_conf_module_for_the_command_line():
    from gunicorn.app.wsgiapp import WSGIApplication
    from gunicorn.config import Config

    app = WSGIApplication.__new__(WSGIApplication)  # without parsing this process's argv
    app.cfg = Config()
    app.load_config_from_module_name_or_filename("python:ruleform.gunicorn_conf")
    assert app.cfg.preload_app is True and app.cfg.worker_class_str == "gthread"
    assert app.cfg.post_fork is serve_module.post_fork
    assert app.cfg.post_worker_init is serve_module.post_worker_init


def test_post_fork_drops_the_connections_inherited_from_the_master():
    disposed = []

    class Engine:
        def dispose(self, close=True):
            disposed.append(close)

    flask_app = SimpleNamespace(extensions={"ruleform": SimpleNamespace(engine=Engine())})
    serve_module.post_fork(SimpleNamespace(app=SimpleNamespace(callable=flask_app)), None)
    serve_module.post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), None)
    assert disposed == [False]


def test_serve_app_never_runs_the_scheduler_in_web_workers(monkeypatch):
    seen = {}
    monkeypatch.setattr(serve_module, "_serve_flask",
                        lambda config, host, port, dev: seen.update(config))  # fmt: skip
    serve_module.serve_app({"SCHEDULER_IN_PROCESS": True}, dev=True)
    assert seen["SCHEDULER_IN_PROCESS"] is False


def test_without_gunicorn_flask_serves_with_a_warning(monkeypatch):
    monkeypatch.setattr(serve_module, "gunicorn_available", lambda: False)
    monkeypatch.setattr(serve_module, "_serve_flask", lambda *a: None)
    with pytest.warns(RuntimeWarning, match="gunicorn is not available"):
        serve_module.serve_app({})
