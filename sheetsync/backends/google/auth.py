"""Credentials for Google Sheets mode: a service-account key file, or Application Default
Credentials, always with the least-privilege :data:`~.settings.SCOPES`.

A key file that cannot work gets a :class:`CredentialsError` naming the field that is wrong,
before any network call.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.backends.google.settings import CREDENTIALS_ENV, SCOPES, GoogleSettings
from sheetsync.errors import CredentialsError


@dataclass
class LoadedCredentials:
    """google-auth credentials plus who they are, for messages such as "Share ... with ..."."""

    credentials: Any  # google.auth.credentials.Credentials
    email: str | None
    source: str  # the key file path, or "application default credentials"


_REQUIRED_SERVICE_ACCOUNT_FIELDS = ("client_email", "private_key", "token_uri")
_REQUIRED_USER_FIELDS = ("client_id", "client_secret", "refresh_token")


def load_credentials(settings: GoogleSettings) -> LoadedCredentials:
    """Load the key file named by the settings or ``GOOGLE_APPLICATION_CREDENTIALS``, else ADC."""
    path = settings.resolved_credentials_path()
    if path is not None:
        return load_key_file(path)
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise CredentialsError(
            "No Google credentials found: set credentials in the config's [google] section or "
            f"{CREDENTIALS_ENV}, or set up Application Default Credentials.",
            hint="Create a service-account key file in the Google Cloud console and point "
            f"{CREDENTIALS_ENV} at it.") from exc
    email = getattr(credentials, "service_account_email", None)
    return LoadedCredentials(credentials, email if isinstance(email, str) else None,
                             "application default credentials")


def load_key_file(path: Path) -> LoadedCredentials:
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
                info, scopes=list(SCOPES))
        except ValueError as exc:
            raise _bad(path, "private_key", f"cannot be used ({exc})") from exc
        return LoadedCredentials(credentials, str(info["client_email"]), str(path))
    if kind == "authorized_user":
        for name in _REQUIRED_USER_FIELDS:
            if not isinstance(info.get(name), str) or not info[name]:
                raise _bad(path, name, "is missing or empty")
        from google.oauth2 import credentials as user_credentials

        credentials = user_credentials.Credentials.from_authorized_user_info(info, list(SCOPES))
        return LoadedCredentials(credentials, None, str(path))
    raise _bad(path, "type", f'is "{kind}"; sheetsync needs a "service_account" key file')


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
