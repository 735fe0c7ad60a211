"""The HTTP server ``gongji bench settle`` loads: the real app under uvicorn, in its own process.

Its own process so that the load generator does not share the server's interpreter lock: on a
small machine a server in a thread of the bench would be measured together with its client.
It serves the bench's database (a SQLite file, or a PostgreSQL schema created for the run),
with the personal-data key the world was seeded with (``GONGJI_SECRET_KEY``), the system
clock, and no job scheduler. The database is ``GONGJI_DATABASE_URL`` (kept out of the command
line, where a password would show in ``ps``)::

    python -m gongji.sim.settle_server PORT [SCHEMA]
"""

from __future__ import annotations

import sys
from typing import Final

import uvicorn

from gongji.api.app import create_app
from gongji.bootstrap import build
from gongji.config import Settings
from gongji.store.engine import make_engine

POOL_SIZE: Final = 32  # ≥ uvicorn's thread pool's share of concurrent requests


def main(argv: list[str]) -> None:
    port = int(argv[0])
    schema = argv[1] if len(argv) > 1 else None
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, schema=schema, pool_size=POOL_SIZE)
    app = create_app(build(settings, migrate=False, engine=engine))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
