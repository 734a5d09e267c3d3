"""``sheetsync login``: a person signs in with their own Google account, once.

The installed-app flow of google-auth-oauthlib: the consent page opens in a browser, Google
redirects to a short-lived local server with a code, and the code is exchanged for an access
token and a refresh token. The token is cached in the state folder, readable by its owner only
(0600, see :func:`~.auth.save_user_token`); every later run loads it and refreshes it when it
expires (:func:`~.auth.load_user_token`). The token request goes through sheetsync's routing
transport, so the bundled fake API can stand in for Google in tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sheetsync.backends.google.auth import save_user_token, token_path
from sheetsync.backends.google.quota import ApiStats
from sheetsync.backends.google.settings import PROVISION_SCOPES, GoogleSettings
from sheetsync.backends.google.transport import routed_session
from sheetsync.errors import CredentialsError


def login(settings: GoogleSettings, *, open_browser: bool = True, browser: str | None = None,
          port: int = 0) -> Path:
    """The installed-app flow: the consent page in a browser, a local redirect, then the token
    cached (0600) in the state folder. Returns where it was saved."""
    if settings.oauth_client is None:
        raise CredentialsError("sheetsync login needs [google] oauth_client: the OAuth client "
                               "file (a Desktop app client) from the Google Cloud console.",
                               field="oauth_client")
    path = token_path(settings)
    client = Path(settings.oauth_client)
    if not client.is_file():
        raise CredentialsError(f"The OAuth client file {client} does not exist.",
                               field="oauth_client",
                               hint="Download it from the Cloud console: APIs & Services > "
                               "Credentials > OAuth client ID > Desktop app.")
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client),
                                                         scopes=list(PROVISION_SCOPES))
    except ValueError as exc:
        raise CredentialsError(f"The OAuth client file {client} is not an installed-app "
                               f"client: {exc}.", field="oauth_client") from exc
    routed_session(settings.resolved_api_base(), ApiStats(), flow.oauth2session)
    credentials = flow.run_local_server(
        host="localhost", port=port, open_browser=open_browser, browser=browser,
        authorization_prompt_message="Open this page to let sheetsync use your Google "
        "account:\n{url}", success_message="sheetsync is signed in. You can close this tab.",
        timeout_seconds=600)
    save_user_token(credentials, path, _user_email(credentials, settings))
    return path


def _user_email(credentials: Any, settings: GoogleSettings) -> str | None:
    """Whose account the sign-in is: Drive's ``about`` says (one call)."""
    import requests
    from google.auth.transport.requests import AuthorizedSession, Request

    api_base, stats = settings.resolved_api_base(), ApiStats()
    session = routed_session(api_base, stats, AuthorizedSession(
        credentials, auth_request=Request(routed_session(api_base, stats))))
    try:
        answer = session.get("https://www.googleapis.com/drive/v3/about",
                             params={"fields": "user(emailAddress)"}, timeout=30)
        return str(answer.json()["user"]["emailAddress"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None
