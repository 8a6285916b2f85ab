"""The phone page: a read-only live board served at ``/`` for a phone in the wings (#21 item 7).

Three plain files ship in the package (``lan/phone/``: ``index.html``, ``app.js``,
``style.css``); no build step, nothing loaded from another host. They hold no data and no
secret, the same bytes for everyone, so they are the only paths a non-loopback bind serves
without the token (:attr:`~micboard_desktop.lan.auth.AccessPolicy.public_paths`); the Host
and Origin checks still apply to them. Every value the page shows comes from
``/api/events/`` under the API's own access rules: the page reads that stream with
``fetch()`` and sends ``Authorization: Bearer`` itself, so the token never travels in a URL
(see docs/contract.md §3, "Phone page").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from typing import Final

from aiohttp import web

from micboard_desktop.lan.errors import ApiError

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageFile:
    """One file of the page: where it is served, its name in ``lan/phone/`` and its type."""

    path: str
    name: str
    content_type: str


PAGE_FILES: Final = (
    PageFile("/", "index.html", "text/html"),
    PageFile("/phone/app.js", "app.js", "text/javascript"),
    PageFile("/phone/style.css", "style.css", "text/css"),
)
PUBLIC_PATHS: Final = frozenset(f.path for f in PAGE_FILES)
"""The paths a GET may reach without the token: the page's shell, never data."""

SECURITY_HEADERS: Final = {
    # Only this server's own files and its own API: no inline script, no other host, no
    # framing (a foreign page cannot wrap the board), no referrer leaving the page.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Revalidate every time: a newer app version must not be hidden by a cached page.
    "Cache-Control": "no-cache",
}


def load_file(name: str) -> bytes | None:
    """Return the bytes of ``lan/phone/<name>``, or ``None`` when the install lacks it."""
    try:
        return resources.files("micboard_desktop.lan").joinpath("phone", name).read_bytes()
    except OSError:
        return None


class PhoneRoutes:
    """Serves the page's files from memory (read once, when the server is built)."""

    def __init__(self) -> None:
        self._bodies: dict[str, tuple[bytes | None, str]] = {}
        for page_file in PAGE_FILES:
            body = load_file(page_file.name)
            if body is None:
                # A broken install must not take the API down with it; the path says why.
                _log.warning("phone page: %s is missing from the package", page_file.name)
            self._bodies[page_file.path] = (body, page_file.content_type)

    def register(self, app: web.Application) -> None:
        """Add a GET route for every page file to ``app``."""
        for path in self._bodies:
            app.router.add_get(path, self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET one page file, with the headers that keep it self-contained."""
        body, content_type = self._bodies.get(request.path, (None, ""))
        if body is None:
            raise ApiError(404, "not_found", "the phone page is not part of this installation")
        return web.Response(
            body=body, content_type=content_type, charset="utf-8", headers=SECURITY_HEADERS
        )
