"""Credentials for Google Sheets mode, always with the least-privilege :data:`~.settings.SCOPES`:

* a service-account key file (``[google] credentials``), or Application Default Credentials;
* the same service account acting as a Workspace user (``[google] subject``, domain-wide
  delegation): the domain's admin authorises the service account's client id for sheetsync's
  scopes, and sheetsync then reads and writes as that user, so nothing has to be shared
  outside the domain;
* a person's own Google account (``[google] oauth_client``, an installed-app OAuth client
  file): ``sheetsync login`` opens the consent page once, and the token it gets is cached in
  the state folder with mode 0600; later runs refresh it and save it again.

A key file that cannot work gets a :class:`CredentialsError` naming the field that is wrong,
before any network call.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.backends.google.settings import (
    CREDENTIALS_ENV,
    SCOPES,
    GoogleSettings,
)
from sheetsync.errors import CredentialsError


@dataclass
class LoadedCredentials:
    """google-auth credentials plus who they are, for messages such as "Share ... with ..."."""

    credentials: Any  # google.auth.credentials.Credentials
    email: str | None
    source: str  # the key file path, or "application default credentials"
    kind: str = "service account"  # service account | delegated | user
    service_account: str | None = None  # the key's account, when acting for a user
    on_refresh: Callable[[], None] | None = None  # saves a refreshed user token

    def describe(self) -> str:
        """Who sheetsync acts as, for ``doctor``."""
        if self.kind == "delegated":
            return (f"{self.email}, through the service account {self.service_account} "
                    "(domain-wide delegation)")
        if self.kind == "user":
            return (f"{self.email or 'your Google account'} (your own Google account, signed "
                    f"in with sheetsync login; token cached in {self.source})")
        return f"the service account {self.email or '(unknown email)'} ({self.source})"


_REQUIRED_SERVICE_ACCOUNT_FIELDS = ("client_email", "private_key", "token_uri")
_REQUIRED_USER_FIELDS = ("client_id", "client_secret", "refresh_token")


def load_credentials(settings: GoogleSettings, scopes: Sequence[str] = SCOPES
                     ) -> LoadedCredentials:
    """The identity the settings name: a user's cached sign-in (``oauth_client``), else the key
    file named by the settings or ``GOOGLE_APPLICATION_CREDENTIALS`` (acting as ``subject``
    when set), else ADC."""
    if settings.oauth_client is not None:
        return load_user_token(settings, scopes)
    path = settings.resolved_credentials_path()
    if path is not None:
        loaded = load_key_file(path, scopes)
        if settings.subject:
            if loaded.kind != "service account" or not hasattr(loaded.credentials,
                                                                "with_subject"):
                raise CredentialsError(
                    "[google] subject (domain-wide delegation) needs a service-account key "
                    f"file, and {path} is not one.", field="subject")
            return LoadedCredentials(loaded.credentials.with_subject(settings.subject),
                                     settings.subject, loaded.source, "delegated",
                                     loaded.email)
        return loaded
    if settings.subject:
        raise CredentialsError("[google] subject (domain-wide delegation) needs a "
                               "service-account key file in [google] credentials.",
                               field="subject")
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=list(scopes))
    except DefaultCredentialsError as exc:
        raise CredentialsError(
            "No Google credentials found: set credentials in the config's [google] section or "
            f"{CREDENTIALS_ENV}, or set up Application Default Credentials.",
            hint="Create a service-account key file in the Google Cloud console and point "
            f"{CREDENTIALS_ENV} at it.") from exc
    email = getattr(credentials, "service_account_email", None)
    return LoadedCredentials(credentials, email if isinstance(email, str) else None,
                             "application default credentials")


def load_key_file(path: Path, scopes: Sequence[str] = SCOPES) -> LoadedCredentials:
    """Validate and load a service-account (or authorized-user) key file."""
    info = _read_json(path)
    kind = info.get("type")
    if kind is None:
        raise _bad(path, "type", 'is missing (expected "service_account")')
    if kind == "service_account":
        _check_service_account(path, info)
        from google.oauth2 import service_account

        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=list(scopes))
        except ValueError as exc:
            raise _bad(path, "private_key", f"cannot be used ({exc})") from exc
        return LoadedCredentials(credentials, str(info["client_email"]), str(path))
    if kind == "authorized_user":
        for name in _REQUIRED_USER_FIELDS:
            if not isinstance(info.get(name), str) or not info[name]:
                raise _bad(path, name, "is missing or empty")
        from google.oauth2 import credentials as user_credentials

        credentials = user_credentials.Credentials.from_authorized_user_info(info, list(scopes))
        return LoadedCredentials(credentials, None, str(path), "user")
    raise _bad(path, "type", f'is "{kind}"; sheetsync needs a "service_account" key file')


# --------------------------------------------------------------------------- a user's own account

def token_path(settings: GoogleSettings) -> Path:
    if settings.token_path is None:
        raise CredentialsError("[google] oauth_client needs a state folder to keep the sign-in "
                               "in ([output] state_dir).", field="oauth_client")
    return Path(settings.token_path)


def save_user_token(credentials: Any, path: Path, account: str | None = None) -> None:
    """Write a user's token where only its owner can read it (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = json.loads(credentials.to_json())
    if account:
        info["account"] = account
    elif path.exists():  # a refresh keeps the email the sign-in found
        with contextlib.suppress(CredentialsError):
            info.setdefault("account", _read_json(path).get("account", ""))
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2)
    os.chmod(temporary, 0o600)  # in case the file existed with looser bits
    os.replace(temporary, path)


def load_user_token(settings: GoogleSettings, scopes: Sequence[str] = SCOPES
                    ) -> LoadedCredentials:
    """A person's cached sign-in (from ``sheetsync login``); refreshed tokens are saved back."""
    from google.oauth2 import credentials as user_credentials

    path = token_path(settings)
    if not path.exists():
        raise CredentialsError(
            f"No Google sign-in is cached yet ({path} does not exist).", field="oauth_client",
            hint="Run: sheetsync login --config <your config> (once; it opens the Google "
            "consent page in a browser).")
    info = _read_json(path)
    for name in _REQUIRED_USER_FIELDS:
        if not isinstance(info.get(name), str) or not info[name]:
            raise CredentialsError(f"The cached sign-in {path} has no {name}.",
                                   field=name, hint="Run sheetsync login again.")
    granted = set(info.get("scopes") or [])
    missing = [s for s in scopes if granted and s not in granted]
    if missing:
        raise CredentialsError(
            f"The cached sign-in {path} does not allow {', '.join(missing)}.",
            field="oauth_client", hint="Run sheetsync login again to grant it.")
    credentials = user_credentials.Credentials.from_authorized_user_info(info, list(scopes))

    def saved() -> None:
        save_user_token(credentials, path)

    return LoadedCredentials(credentials, info.get("account") or None, str(path), "user",
                             on_refresh=saved)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"The credentials file {path} does not exist.",
                               hint="Check the path in the config or in "
                               f"{CREDENTIALS_ENV}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"The credentials file {path} cannot be read: {exc}.") from exc
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"The credentials file {path} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}).",
            hint="Download the key file again from the Google Cloud console.") from exc
    if not isinstance(info, dict):
        raise CredentialsError(f"The credentials file {path} must hold a JSON object.")
    return info


def _check_service_account(path: Path, info: dict[str, Any]) -> None:
    for name in _REQUIRED_SERVICE_ACCOUNT_FIELDS:
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise _bad(path, name, "is missing or empty")
    email = info["client_email"]
    if "@" not in email or " " in email:
        raise _bad(path, "client_email", f'is "{email}", which is not an email address')
    token_uri = info["token_uri"]
    if not token_uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise _bad(path, "token_uri", f'is "{token_uri}", which is not an https URL')
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(info["private_key"].encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise _bad(path, "private_key", "is not a PEM private key (it should be the PEM block "
                   "Google put in the downloaded key file, unchanged)") from exc


def _bad(path: Path, field: str, problem: str) -> CredentialsError:
    return CredentialsError(
        f'The credentials file {path} is not usable: field "{field}" {problem}.',
        field=field,
        hint="Download a new JSON key for the service account from the Google Cloud console.")


def check_key_file_permissions(path: str | os.PathLike[str]) -> list[str]:
    """Warnings about who besides its owner may read or change the key file at ``path``.

    Returns an empty list when the file is private (for example ``chmod 600``), when it does
    not exist (the credentials loader reports that), or on Windows, where access is governed
    by ACLs that the mode bits do not show.
    """
    if os.name == "nt":
        return []
    key = Path(path)
    try:
        mode = key.stat().st_mode
    except OSError:
        return []
    warnings: list[str] = []
    mode_text = stat.filemode(mode)
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        who = "every user of this computer" if mode & stat.S_IROTH else "its group"
        warnings.append(f"The Google key file {key} can be read by {who} ({mode_text}); anyone "
                        "who reads it can act as the service account. Run: chmod 600 "
                        f"{key}")
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        warnings.append(f"The Google key file {key} can be changed by other users "
                        f"({mode_text}). Run: chmod 600 {key}")
    try:
        folder_mode = key.parent.stat().st_mode
    except OSError:
        return warnings
    if folder_mode & stat.S_IWOTH and not folder_mode & stat.S_ISVTX:
        warnings.append(f"The folder {key.parent} that holds the Google key file can be changed "
                        "by every user, so the key could be swapped. Keep the key in a private "
                        "folder.")
    return warnings
