"""Talk to a running alertrouter over HTTP (httpx): post test alerts, follow deliveries."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from alertrouter import __version__
from alertrouter.errors import ClientError

__all__ = ["DEFAULT_URL", "FINAL_STATES", "ServiceClient"]

DEFAULT_URL = "http://127.0.0.1:8080"
FINAL_STATES = ("done", "dead")


class ServiceClient:
    """A thin synchronous client for the CLI (it runs outside any event loop)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        headers = {"User-Agent": f"alertrouter-cli/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise ClientError(f"{method} {path}: HTTP {response.status_code}: {_errors(response)}")
        return response.json()

    def post_alerts(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST a webhook body; the service's answer (accepted, queued, suppressed, jobs)."""
        result: dict[str, Any] = self._request("POST", "/api/v1/alerts", json=payload)
        return result

    def delivery(self, job_id: int) -> dict[str, Any]:
        """One delivery's summary."""
        result: dict[str, Any] = self._request("GET", f"/api/v1/deliveries/{job_id}")
        return result

    def deliveries(
        self, state: str, limit: int = 100, order: str = "oldest"
    ) -> list[dict[str, Any]]:
        """Deliveries in ``state`` (``all`` for every state), oldest or newest first."""
        params = {"state": state, "limit": limit, "order": order}
        result = self._request("GET", "/api/v1/deliveries", params=params)
        deliveries: list[dict[str, Any]] = result["deliveries"]
        return deliveries

    def overview(self) -> dict[str, Any]:
        """What the console's overview page shows (``GET /api/v1/overview``)."""
        result: dict[str, Any] = self._request("GET", "/api/v1/overview")
        return result

    def retry(self, job_id: int | None) -> list[int]:
        """Requeue one dead delivery, or all of them (``None``)."""
        path = (
            "/api/v1/deliveries/retry" if job_id is None else f"/api/v1/deliveries/{job_id}/retry"
        )
        requeued: list[int] = self._request("POST", path)["requeued"]
        return requeued

    def wait_for(
        self,
        job_ids: list[int],
        timeout: float,
        progress: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 0.25,
    ) -> list[dict[str, Any]]:
        """Poll the deliveries until each is done or dead, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            current = [self.delivery(job_id) for job_id in job_ids]
            if progress is not None:
                progress(current)
            if all(d["state"] in FINAL_STATES for d in current) or time.monotonic() > deadline:
                return current
            time.sleep(interval)


def _errors(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return "; ".join(
            f"{e.get('field')}: {e.get('message')}" if isinstance(e, dict) else str(e)
            for e in errors
        )
    return str(body)[:200]
