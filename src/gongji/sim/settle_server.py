"""The HTTP server ``gongji bench settle`` loads: the real app under uvicorn, in its own process.

Its own process so that the load generator does not share the server's interpreter lock: on a
small machine a server in a thread of the bench would be measured together with its client.
It serves the bench's database (``GONGJI_DATABASE_URL``, and ``GONGJI_BENCH_SCHEMA`` for a
PostgreSQL schema created for the run: kept out of the command line, where a password would
show in ``ps``), with the personal-data key the world was seeded with (``GONGJI_SECRET_KEY``),
the system clock and no job scheduler. With more than one worker, uvicorn forks that many
server processes on the same port, each building its own app from the environment (one
worker runs under ``gongji serve``'s own configuration, app/serving.py)::

    python -m gongji.sim.settle_server PORT [WORKERS]
"""

from __future__ import annotations

import os
import sys
from typing import Final

import uvicorn
from fastapi import FastAPI

from gongji.app.asgi import create_app
from gongji.app.serving import server_config
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.store.engine import make_engine

SCHEMA_VARIABLE: Final = "GONGJI_BENCH_SCHEMA"
POOL_SIZE: Final = 32  # ≥ what uvicorn's thread pool can run at once against the database


def app_from_env() -> FastAPI:
    """The app on the bench's store (uvicorn calls this in each worker: ``factory=True``)."""
    settings = Settings.from_env()
    schema = os.environ.get(SCHEMA_VARIABLE) or None
    engine = make_engine(settings.database_url, schema=schema, pool_size=POOL_SIZE)
    return create_app(build(settings, migrate=False, engine=engine))


def main(argv: list[str]) -> None:
    port = int(argv[0])
    workers = int(argv[1]) if len(argv) > 1 else 1
    if workers == 1:  # exactly ``gongji serve``'s server: its time limits and connection cap
        config = server_config(app_from_env(), "127.0.0.1", port, log_level="warning")
        uvicorn.Server(config).run()
        return
    uvicorn.run(
        "gongji.sim.settle_server:app_from_env",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
