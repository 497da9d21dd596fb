"""gunicorn settings for a plain command line (what ``ruleform serve`` uses too)::

    RULEFORM_DATABASE_URL=postgresql://ruleform@db/ruleform RULEFORM_INSTANCE_PATH=/srv/ruleform \\
    gunicorn -c python:ruleform.gunicorn_conf -b 127.0.0.1:8000 -w 4 \\
        'ruleform.app:create_app()'

The app is created once in the master (``preload_app``), so the first start migrates
once; each worker then opens its own database connections (``post_fork``) and leaves
Ctrl-C to the master (``post_worker_init``).
"""

from .serve import post_fork as _post_fork
from .serve import post_worker_init as _post_worker_init

preload_app = True
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
post_fork = _post_fork
post_worker_init = _post_worker_init
