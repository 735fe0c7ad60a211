"""The FastAPI application: built from a container, so tests and `gongji serve` wire the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gongji import __version__
from gongji.api import auth
from gongji.api.doors import DoorGuard
from gongji.api.errors import install_error_handlers
from gongji.api.front_door import FrontDoorApp
from gongji.api.json_answer import JsonAnswer
from gongji.api.limits import BodySizeLimit
from gongji.api.openapi import describe_refusals
from gongji.app import system, test_clock
from gongji.app.pages import install_web
from gongji.backoffice.http import (
    admin_routes,
    import_routes,
    person_routes,
    report_routes,
    stats_routes,
)
from gongji.bootstrap import Container
from gongji.fsi.http.routes import router as fsi_router
from gongji.jobs.scheduler import Scheduler
from gongji.mutual_aid.http import guardian_routes, wallet_routes
from gongji.mutual_aid.http.premium_routes import router as premium_router
from gongji.notify.http import notification_routes
from gongji.risk.http import risk_routes
from gongji.settlement.http.clearing_routes import router as clearing_router
from gongji.settlement.http.reconciliation_routes import router as reconciliation_router
from gongji.settlement.http.settlement_routes import router as settlement_router


def create_app(container: Container, *, run_jobs: bool = False) -> FastAPI:
    """The app; ``run_jobs`` starts the in-process job scheduler (as ``gongji serve`` does)."""
    scheduler = Scheduler(container.context) if run_jobs else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if scheduler is not None:
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        container.close()

    app = FrontDoorApp(  # the settlement route served past FastAPI's stack (api/front_door.py)
        title="gongji 共济",
        version=__version__,
        description="医保钱包与个人账户共济 — medical-insurance wallet and family mutual aid.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        default_response_class=JsonAnswer,  # orjson: the same bytes, faster (api/json_answer.py)
    )
    app.state.container = container
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(DoorGuard, ctx=container.context)  # outside: refuses before the body
    # Routes are matched in this order, one by one: the institutions' settlement traffic first.
    app.include_router(settlement_router)
    app.include_router(fsi_router)
    app.include_router(system.router, prefix="/api/v1")
    app.include_router(auth.router)
    app.include_router(wallet_routes.router)
    app.include_router(guardian_routes.router)
    app.include_router(notification_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(import_routes.router)
    app.include_router(person_routes.router)
    app.include_router(stats_routes.router)
    app.include_router(report_routes.router)
    app.include_router(risk_routes.router)
    app.include_router(clearing_router)
    app.include_router(premium_router)
    app.include_router(reconciliation_router)
    if container.settings.test_clock:
        app.include_router(test_clock.router)
    describe_refusals(app)
    _mount_docs(app)
    install_web(app)  # the pages, `/` among them
    if container.settings.trust_proxy:
        # Behind a TLS proxy: the client's address (rate limits) and scheme (Secure cookies)
        # from X-Forwarded-For / -Proto. Without the setting these headers are ignored, since
        # any client could send them.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts="*")
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI from a packaged copy: no page of gongji loads anything from a CDN."""
    app.mount(
        "/static/swagger",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="gongji 共济 — API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )
