"""The one seam between sheetsync and Google: HTTP transport, retries, rate limit, call counts.

* :class:`RoutingAdapter` is a requests transport adapter mounted on every session sheetsync
  uses (API calls *and* google-auth's token requests). When a base URL is configured (the
  config's ``api_base`` or ``SHEETSYNC_GOOGLE_API_BASE``) it rewrites every ``*.googleapis.com``
  host to it; that is the only difference between talking to Google and to
  :class:`sheetsync.testing.FakeGoogle`. It also counts every request by kind.
* :class:`SheetsyncHTTPClient` is a gspread ``HTTPClient`` whose :meth:`request` takes a token
  from the read or the write budget (:class:`~.quota.QuotaBudgets`) before each Sheets call,
  and retries 429s, Drive's 403 rate limits, 5xx errors,
  timeouts and dropped connections with bounded backoff (:meth:`~.quota.RetryPolicy.retrying`,
  tenacity underneath). Writes (anything but GET) are retried only when the request certainly
  did not take effect (429/5xx answers, connections never made); otherwise
  :class:`UncertainWrite` tells the caller to re-read before trying again.
* :class:`GoogleConnection` bundles credentials, the client, the limiter and the stats so one
  run shares one quota budget.

Failures reach callers as gspread's ``APIError`` (an HTTP error answer), :class:`ApiUnreachable`
(no answer), :class:`UncertainWrite`, google-auth's ``RefreshError`` or
:class:`~.auth.CredentialsError`; :func:`classify_failure` turns any of them into a
:class:`Failure` with a reason and a ``transient`` flag.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from requests.adapters import HTTPAdapter

from sheetsync.backends.google.auth import CredentialsError, LoadedCredentials, load_credentials
from sheetsync.backends.google.quota import (
    ApiStats,
    Clock,
    QuotaBudgets,
    RetryPolicy,
    Sleep,
    parse_retry_after,
)
from sheetsync.backends.google.settings import SCOPES, GoogleSettings

if TYPE_CHECKING:
    pass

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def call_kind(method: str, url: str) -> str:
    """Name an API request the way the stats (and the fake's log) do, e.g. ``values.batchGet``."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    method = method.upper()
    if path.endswith("/token") or host.startswith("oauth2."):
        return "token"
    if path.endswith("/allowedLocations"):
        return "iam.allowedLocations"
    if path.startswith("/upload/drive/v3/files"):
        return "drive.files.create" if method == "POST" else "drive.files.update"
    if path == "/drive/v3/about":
        return "drive.about.get"
    if path.startswith("/drive/v3/files"):
        rest = [p for p in path[len("/drive/v3/files"):].split("/") if p]
        if not rest:
            return "drive.files.list" if method == "GET" else "drive.files.create"
        if len(rest) >= 2 and rest[1] == "permissions":
            return "drive.permissions.list" if method == "GET" else "drive.permissions.create"
        if len(rest) >= 2 and rest[1] == "copy":
            return "drive.files.copy"
        if method == "GET":
            return "drive.files.download" if "alt=media" in parts.query else "drive.files.get"
        return {"PATCH": "drive.files.update"}.get(method, f"drive.files.{method.lower()}")
    segments = path.split("/")
    if len(segments) >= 4 and segments[1] == "v4" and segments[2] == "spreadsheets":
        if len(segments) == 4:
            return "spreadsheets.batchUpdate" if segments[3].endswith(":batchUpdate") \
                else "spreadsheets.get"
        if segments[4].startswith("values:"):
            return "values." + segments[4].split(":", 1)[1]
        if segments[4] == "values" and len(segments) > 5:
            tail = unquote(segments[5])
            for action in ("clear", "append"):
                if segments[5].endswith(":" + action):
                    return f"values.{action}"
            return "values.get" if method == "GET" and tail else "values.update"
    return "other"


def reroute(url: str, api_base: str) -> str:
    """Replace a ``*.googleapis.com`` scheme and host with ``api_base``."""
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith("googleapis.com"):
        return url
    tail = url[len(f"{parts.scheme}://{parts.netloc}"):]
    return api_base + tail


class RoutingAdapter(HTTPAdapter):
    """Counts every request by kind and, when a base URL is set, sends it there instead."""

    def __init__(self, api_base: str | None, stats: ApiStats) -> None:
        super().__init__()
        self.api_base = api_base
        self.stats = stats

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        url = request.url or ""
        self.stats.record_call(call_kind(request.method or "GET", url))
        if self.api_base:
            request.url = reroute(url, self.api_base)
        return super().send(request, *args, **kwargs)


def routed_session(api_base: str | None, stats: ApiStats,
                   session: requests.Session | None = None) -> requests.Session:
    """``session`` (or a new one) with the routing adapter on http and https."""
    session = session if session is not None else requests.Session()
    adapter = RoutingAdapter(api_base, stats)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class ApiUnreachable(Exception):
    """No answer from the API after every allowed attempt (timeouts, refused or dropped
    connections)."""

    def __init__(self, kind: str, cause: Exception, attempts: int) -> None:
        super().__init__(f"{kind}: no answer from Google after {attempts} attempt(s): {cause}")
        self.kind = kind
        self.cause = cause
        self.attempts = attempts


class UncertainWrite(Exception):
    """A write was sent but no answer came back, so it may or may not have been applied."""

    def __init__(self, kind: str, cause: Exception) -> None:
        super().__init__(f"{kind}: the request was sent but no answer came back: {cause}")
        self.kind = kind
        self.cause = cause


@dataclass(frozen=True)
class Failure:
    """Any API failure, reduced to what sheetsync needs to say and decide."""

    status: int | None
    reason: str  # PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED, timeout, credentials, ...
    message: str
    transient: bool


DELEGATION_HINT = ("The domain's admin authorises the service account's client id for "
                   "domain-wide delegation (Admin console > Security > API controls > "
                   "Domain-wide delegation) with sheetsync's scopes, and [google] subject names "
                   "a user of the domain.")
SIGN_IN_HINT = "Run sheetsync login again to sign in with your Google account."


def credentials_hint(message: str, exc: BaseException) -> str:
    """What to do when Google refuses the credentials themselves."""
    if "unauthorized_client" in message or "Invalid email or User ID" in message:
        return DELEGATION_HINT
    if "expired or revoked" in message:
        return SIGN_IN_HINT
    return getattr(exc, "hint", "") or "Check the service-account key."


def classify_failure(exc: BaseException) -> Failure:
    """Reduce an exception from the Google stack to a :class:`Failure`."""
    from google.auth import exceptions as auth_exceptions

    if isinstance(exc, APIError):
        response = exc.response
        status = response.status_code
        reason = ""
        message = str(exc.error.get("message", "")) if isinstance(exc.error, dict) else ""
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        if isinstance(error, dict):
            reason = str(error.get("status", ""))
            for detail in error.get("details", []) or []:
                if isinstance(detail, dict) and detail.get("reason"):
                    reason = str(detail["reason"])
        return Failure(status, reason or str(status), message or response.reason or "",
                       status in RETRYABLE_STATUSES)
    if isinstance(exc, UncertainWrite):
        return Failure(None, "uncertain", str(exc), True)
    if isinstance(exc, ApiUnreachable):
        reason = "timeout" if isinstance(exc.cause, requests.Timeout) else "connection"
        return Failure(None, reason, str(exc), True)
    if isinstance(exc, CredentialsError):
        return Failure(None, "credentials", exc.message, False)
    if isinstance(exc, auth_exceptions.RefreshError):
        said = str(exc.args[0]) if exc.args else str(exc)
        return Failure(None, "credentials", f"Google refused the credentials: {said}",
                       bool(getattr(exc, "retryable", False)))
    if isinstance(exc, auth_exceptions.TransportError | requests.RequestException):
        return Failure(None, "connection", str(exc), True)
    return Failure(None, type(exc).__name__, str(exc), False)


DRIVE_RATE_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded",
                               "sharingRateLimitExceeded"})
"""Drive says "slow down" with a 403 carrying one of these reasons, not with a 429."""


def drive_reasons(response: requests.Response) -> set[str]:
    """The ``errors[].reason`` values of a Drive error answer."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return set()
    if not isinstance(error, dict):
        return set()
    return {str(e.get("reason")) for e in error.get("errors", []) or [] if isinstance(e, dict)}


def _retryable(exc: BaseException) -> bool:
    """Worth another attempt: 429 and 5xx answers, Drive's 403 rate limits, and no answer at
    all (other 4xx are final)."""
    if isinstance(exc, APIError):
        status = exc.response.status_code
        return status in RETRYABLE_STATUSES or (
            status == 403 and bool(drive_reasons(exc.response) & DRIVE_RATE_LIMITS))
    return isinstance(exc, ApiUnreachable)


def _retry_after(exc: BaseException) -> float | None:
    """The server's ``Retry-After``, in seconds, if the failure was an answer carrying one."""
    if isinstance(exc, APIError):
        return parse_retry_after(exc.response.headers.get("Retry-After"))
    return None


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection failed before the request could reach the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


class SheetsyncHTTPClient(HTTPClient):
    """gspread's HTTP client with sheetsync's rate limit, bounded retries and routing."""

    def __init__(self, connection: GoogleConnection) -> None:
        from google.auth.transport.requests import AuthorizedSession, Request

        self.connection = connection
        loaded = connection.credentials
        self.auth = loaded.credentials
        api_base = connection.api_base
        self._auth_request = Request(routed_session(api_base, connection.stats))
        self.session = routed_session(
            api_base, connection.stats,
            AuthorizedSession(self.auth, auth_request=self._auth_request))
        self.timeout = connection.settings.timeout
        self._token_lock = threading.Lock()

    def login(self) -> None:
        self._ensure_token()

    def _ensure_token(self) -> None:
        # Refresh once, under a lock, so a pool of concurrent readers does not stampede the
        # token endpoint (AuthorizedSession would otherwise refresh in every thread).
        if self.auth.valid:
            return
        with self._token_lock:
            if not self.auth.valid:
                self.auth.refresh(self._auth_request)
                refreshed = self.connection.credentials.on_refresh
                if refreshed is not None:
                    refreshed()  # a user's sign-in: keep the fresh token for the next run

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None,
                json: Any = None, files: Any = None, headers: Any = None) -> requests.Response:
        """One API call, rate-limited and retried within the configured bounds."""
        conn = self.connection
        kind = call_kind(method, endpoint)
        idempotent = method.upper() == "GET"
        limited = kind.startswith(("spreadsheets.", "values."))
        retrying = conn.retry.retrying(
            retryable=_retryable, retry_after=_retry_after, rng=conn.rng, sleep=conn.sleep,
            on_backoff=lambda wait: conn.stats.record_retry(kind, wait))
        for attempt in retrying:
            with attempt:
                try:
                    self._ensure_token()
                    if not limited:
                        return super().request(method, endpoint, params=params, data=data,
                                               json=json, files=files, headers=headers)
                    with conn.quota.for_method(method).slot() as waited:
                        conn.stats.record_throttle(waited)
                        return super().request(method, endpoint, params=params, data=data,
                                               json=json, files=files, headers=headers)
                except requests.RequestException as exc:
                    if not idempotent and not _never_sent(exc):
                        raise UncertainWrite(kind, exc) from exc
                    raise ApiUnreachable(kind, exc, attempt.retry_state.attempt_number) from exc
        raise AssertionError("tenacity ends a call by returning or raising")


class GoogleConnection:
    """Credentials, HTTP client, rate limiter, retry policy and stats shared by one run.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests can run quota storms instantly
    (see :class:`sheetsync.testing.FakeClock`).
    """

    def __init__(self, settings: GoogleSettings | None = None, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep, rng: random.Random | None = None,
                 stats: ApiStats | None = None, scopes: tuple[str, ...] = SCOPES) -> None:
        self.settings = settings or GoogleSettings()
        self.scopes = scopes
        self.api_base = self.settings.resolved_api_base()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = stats or ApiStats()
        self.quota = QuotaBudgets(self.settings.quota_per_minute,
                                  self.settings.write_quota, self.settings.quota_window,
                                  clock=clock, sleep=sleep)
        self.retry = RetryPolicy(max_attempts=self.settings.max_attempts,
                                 max_wait=self.settings.max_wait)
        self._credentials: LoadedCredentials | None = None
        self._http: SheetsyncHTTPClient | None = None
        self._lock = threading.RLock()

    @property
    def credentials(self) -> LoadedCredentials:
        """Loaded on first use; raises :class:`~.auth.CredentialsError`."""
        with self._lock:
            if self._credentials is None:
                self._credentials = load_credentials(self.settings, self.scopes)
            return self._credentials

    @property
    def account_email(self) -> str:
        """The email to share spreadsheets with (or a description when it is not known)."""
        return self.credentials.email or "the Google account sheetsync runs as"

    @property
    def http(self) -> SheetsyncHTTPClient:
        """The gspread HTTP client all of sheetsync's calls go through."""
        with self._lock:
            if self._http is None:
                self._http = SheetsyncHTTPClient(self)
            return self._http
