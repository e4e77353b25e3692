"""The pages the service serves, all from assets inside the installed packages so they work offline: the
dashboard at / (with its chart library, uPlot, shipped in alexdb), Swagger UI at /docs and ReDoc at /redoc
(FastAPI's defaults fetch those from a CDN, which leaves a blank page without a network)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/assets/docs"
STATIC = files("alexdb.api") / "static"


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs and ReDoc at /redoc, their scripts from fastapi-offline's bundled copies."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} API",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} API",
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{ASSETS}/favicon.png",
                              with_google_fonts=False)


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at / and its scripts, styles and chart library under /assets/app."""
    app.mount("/assets/app", StaticFiles(directory=str(STATIC)), name="app-assets")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(str(STATIC / "dashboard.html"), media_type="text/html")
