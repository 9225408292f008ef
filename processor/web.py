"""The web frame the product's services share: faust's aiohttp server with only our pages.

Two things a plain ``faust.App(web_host=..., web_port=...)`` gets wrong for us:

* it binds every interface: faust binds ``web_bind`` (default ``0.0.0.0``) and uses
  ``web_host`` only to build its own URL, so a worker configured for 127.0.0.1 was reachable
  from the network;
* it serves faust's own pages: ``/``, ``/router/...``, ``/table/...`` (one of them answered
  500), which say nothing true about this product and leak its internals.

``product_app`` binds where the settings say and serves nothing but the views it is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

import faust
from faust.web.drivers.aiohttp import Web as AiohttpWeb


class ProductWeb(AiohttpWeb):
    """faust's aiohttp web driver without any of faust's built-in pages."""

    default_blueprints: ClassVar[list[Any]] = []
    production_blueprints: ClassVar[list[Any]] = []
    debug_blueprints: ClassVar[list[Any]] = []
    optional_blueprints: ClassVar[list[Any]] = []


class ProductApp(faust.App):
    """A faust app whose web server is ProductWeb."""

    def _new_web(self) -> ProductWeb:
        return ProductWeb(self)


def product_app(name: str, *, host: str, port: int, **conf: Any) -> ProductApp:
    """A faust app serving only the product's views, on `host` (bound) and `port`."""
    return ProductApp(name, web_bind=host, web_host=host, web_port=port, web_enabled=True,
                      web_in_thread=False, autodiscover=False, **conf)
