"""The web pages, assembled: one call wires them into the app (``install_web``).

Order matters in one place only: the catch-alls for unknown ``/wallet/…``, ``/admin/…``
and ``/desk/…`` addresses come last, so they answer a page (not JSON) for what no route matched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from gongji.backoffice.pages import (
    admin_family,
    admin_imports,
    admin_pages,
    admin_persons,
    admin_reports,
    admin_stats,
)
from gongji.mutual_aid.pages import (
    family_pages,
    give_pages,
    guardian_pages,
    payment_pages,
    premium_pages,
    wallet_pages,
)
from gongji.notify.pages import message_pages
from gongji.risk.pages import risk_pages
from gongji.settlement.pages import admin_clearing, desk_pages, person_records
from gongji.web import login_pages
from gongji.web.render import add_page_extra
from gongji.web.routing import WebRoute, http_error_page

STATIC_DIR: Final = Path(__file__).parent.parent / "web" / "static"
STATIC_PATH: Final = "/static/web"

_fallback = APIRouter(route_class=WebRoute, include_in_schema=False)


@_fallback.get("/wallet/{rest:path}")
@_fallback.get("/admin/{rest:path}")
@_fallback.get("/desk/{rest:path}")
def not_found(request: Request) -> Response:
    return http_error_page(request, 404)


def install_web(app: FastAPI) -> None:
    """Mount the pages and their static files on ``app``."""
    app.state.web_import_jobs = admin_imports.ImportJobs()
    add_page_extra(message_pages.unread_badge)
    for module in (login_pages, wallet_pages, family_pages, give_pages, admin_pages, desk_pages):
        app.include_router(module.router)
    app.include_router(payment_pages.router)
    app.include_router(guardian_pages.router)
    app.include_router(premium_pages.router)
    app.include_router(message_pages.router)
    app.include_router(person_records.router)
    app.include_router(admin_family.router)
    app.include_router(admin_imports.router)
    app.include_router(admin_persons.router)
    app.include_router(admin_stats.router)
    app.include_router(admin_reports.router)
    app.include_router(admin_clearing.router)
    app.include_router(risk_pages.router)
    app.include_router(_fallback)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="web-static")
