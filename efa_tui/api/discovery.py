"""Finding the marketplace API behind an address as a user types it: ``http://host:8080`` means
``http://host:8080/api/v1``. An address that already ends in ``/api/v1`` is taken as it is (no
request: the start does not wait). Otherwise the candidates — ``…/api/v1`` first, then the
address itself — are asked for their health check; the first that answers as a marketplace
(``{"status": "ok"}``) is the API. When none does, ``Found.api`` is None and ``tried`` says what
was asked and what came back; ``reached`` whether anything answered at all (nothing: the server is
away, and the app may still start offline on its cache)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import routes

API_PATH = "/api/v1"


@dataclass(frozen=True)
class Found:
    api: str | None  # the API's base URL, None when no candidate answered as a marketplace
    tried: list[tuple[str, str]] = field(default_factory=list)  # (URL asked, what came back)
    reached: bool = False  # some candidate answered (with anything); False: nothing could be reached

    @property
    def guess(self) -> str | None:
        """The base to use when nothing could be reached: the first candidate (``…/api/v1``)."""
        return self.tried[0][0].removesuffix(routes.HEALTH) if self.tried else None


def api_url(typed: str) -> str:
    """The API base as a user types a server: ``marktplatz.example.org``, ``https://host:8443``
    or the full ``…/api/v1`` all name the same API."""
    url = typed.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    return url if url.endswith(API_PATH) else url + API_PATH


def candidates(url: str) -> list[str]:
    """The API bases an address may mean, most likely first (empty: take ``url`` as it is)."""
    base = url.strip().rstrip("/")
    if base.endswith(API_PATH):
        return []
    return [api_url(base), base]


async def find_api(url: str, *, timeout: float = 3.0) -> Found:
    """Ask each candidate base for its health check; see the module's docstring."""
    import httpx

    bases = candidates(url)
    if not bases:
        return Found(url.rstrip("/"), [], True)
    tried: list[tuple[str, str]] = []
    reached = False
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        for base in bases:
            probe = base + routes.HEALTH
            try:
                resp = await http.get(probe, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                tried.append((probe, type(exc).__name__))
                continue
            reached = True
            try:
                body = resp.json()
            except ValueError:
                body = None
            if resp.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok":
                return Found(base, tried + [(probe, "200")], True)
            tried.append((probe, f"{resp.status_code}{' ' + resp.reason_phrase if resp.reason_phrase else ''}"))
    return Found(None, tried, reached)
