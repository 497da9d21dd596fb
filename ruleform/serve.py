"""Running Ruleform: the web server (gunicorn, or Flask's server) and the RQ worker.

**Web.** ``serve_app`` embeds gunicorn (``BaseApplication``) with threaded workers. The app
is created once in the master (``preload_app``): the first start imports the rulebook and
creates the tables exactly once, instead of every worker racing to migrate the same SQLite
file; after the fork each worker drops the pooled connections it inherited
(``post_fork``) and opens its own; workers leave Ctrl-C to the master
(``post_worker_init``). Without gunicorn (e.g. on Windows) Flask's threaded
server is used with a warning; ``dev=True`` uses it with the reloader. The same settings
are ``ruleform/platform/gunicorn_conf.py`` for a plain ``gunicorn`` command line.

**Scheduler.** No web worker ever runs the scheduler (``SCHEDULER_IN_PROCESS`` is forced
off here): ``ruleform worker`` runs an RQ worker with the scheduler on the queues
``default`` and ``notifications``, the outbox drain and the time-rule tick
(``workflow_engine/delivery/worker.py``).
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from . import wiring
from .app import create_app
from .workflow_engine.delivery.worker import run_worker as run_delivery_worker

__all__ = [
    "serve_app",
    "post_fork",
    "post_worker_init",
    "run_worker",
    "QUEUES",
    "gunicorn_available",
]

log = logging.getLogger("ruleform.serve")

#: The queues ``ruleform worker`` listens on, in priority order.
QUEUES = ("default", "notifications")


def gunicorn_available() -> bool:
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return sys.platform != "win32"


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn hook: a forked worker must not reuse the master's database connections."""
    app = getattr(server.app, "callable", None)
    state = getattr(app, "extensions", {}).get("ruleform")
    if state is not None:
        state.engine.dispose(close=False)


def post_worker_init(worker: Any) -> None:
    """gunicorn hook: Ctrl-C is the master's business.

    The terminal sends SIGINT to the whole process group; a worker that handles it and then
    gets the master's SIGQUIT while already exiting can deadlock in its signal handler and
    is killed only after the graceful timeout. Workers ignore SIGINT; the master stops them.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve_app(config: dict[str, Any], *, host: str = "127.0.0.1", port: int = 5000,
              workers: int = 2, threads: int = 4, dev: bool = False,
              access_log: bool = True) -> None:  # fmt: skip
    """Serve ``create_app(config)`` until interrupted (Ctrl-C or SIGTERM)."""
    config = {**config, "SCHEDULER_IN_PROCESS": False}  # the scheduler lives in `ruleform worker`
    if dev or not gunicorn_available():
        if not dev:
            warnings.warn("gunicorn is not available: serving with Flask's server, which is "
                          "not meant for production", RuntimeWarning, stacklevel=2)  # fmt: skip
        _serve_flask(config, host, port, dev)
        return
    options = {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "gthread", "preload_app": True, "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "timeout": 60, "graceful_timeout": 10, "proc_name": "ruleform",
        "accesslog": "-" if access_log else None, "errorlog": "-",
        "control_socket_disable": True,  # gunicorn ≥ 24: no ~/.gunicorn/gunicorn.ctl per run
    }  # fmt: skip
    _gunicorn_application(config, options).run()


def _gunicorn_application(config: dict[str, Any], options: dict[str, Any]) -> Any:
    from gunicorn.app.base import BaseApplication

    class RuleformApplication(BaseApplication):  # type: ignore[misc]
        """gunicorn running ``create_app(config)``; options this gunicorn lacks are skipped."""

        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(config)

    return RuleformApplication()


def _serve_flask(config: dict[str, Any], host: str, port: int, dev: bool) -> None:
    app = create_app(config)
    app.run(host=host, port=port, threaded=True, use_reloader=dev, use_debugger=False)


# --- the RQ worker ------------------------------------------------------------------------


def run_worker(redis_url: str, *, burst: bool = False, queues: Sequence[str] = QUEUES,
               exit_with_parent: bool = False) -> bool:  # fmt: skip
    """Run an RQ worker with the scheduler, the outbox drain and the time-rule tick until
    stopped (``workflow_engine/delivery/worker.py``); returns whether jobs were run.

    The worker's bootstrap: the process is wired (``wiring.install``), then the delivery
    context — engine, runtime, settings; no Flask app — is built from the ``RULEFORM_*``
    environment (``ruleform worker`` sets it).
    SIGINT/SIGTERM stop it after the current job (RQ's warm shutdown). With
    ``exit_with_parent`` it also stops when the process that started it goes away (the
    demo uses it, so a killed demo leaves no worker behind).
    """
    wiring.install()
    return run_delivery_worker({}, redis_url, burst=burst, exit_with_parent=exit_with_parent,
                               queues=queues)  # fmt: skip
