"""The workspace as a Litestar plugin: its routes, its static files and its Jinja2
templates, added to the app the composition root builds (the API dialects beside it)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Router
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.plugins import InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from forecourt.web import auth, pages, views

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


# The i18n extension's gettext, reading the request's catalog from the render context
# (`translations`, set by views.page): one environment serves every language.
@pass_context
def _gettext(context: Context, message: str) -> str:
    return str(context["translations"].gettext(message))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return str(context["translations"].ngettext(singular, plural, n))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def router() -> Router:
    """Every page, behind the CSRF guard, with the role dependencies and the error pages."""
    return Router(
        path="/",
        route_handlers=pages.ROUTES,
        guards=[auth.csrf_protect],
        dependencies={
            "current_user": Provide(views.provide_current_user, sync_to_thread=True),
            "manager": Provide(views.provide_manager, sync_to_thread=True),
        },
        exception_handlers={Exception: views.error_page},
        include_in_schema=False,
    )


class Workspace(InitPlugin):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                router(),
                create_static_files_router(
                    path="/static",
                    directories=[STATIC],
                    include_in_schema=False,
                    # The pages name the files with `?v=<version>`: a new release is fetched anew.
                    cache_control=CacheControlHeader(max_age=86400),
                ),
            ]
        )
        app_config.template_config = TemplateConfig(
            instance=JinjaTemplateEngine.from_environment(environment())
        )
        return app_config


def plugin() -> Workspace:
    return Workspace()
