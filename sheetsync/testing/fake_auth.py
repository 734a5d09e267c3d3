"""Service accounts, key files, users and the OAuth grants of the fake Google API.

Each key file the fake issues holds a fresh RSA key; the token endpoint verifies the grant's
RS256 signature with the matching public key, its issuer, audience and expiry, exactly as the
real endpoint would, and hands out an opaque bearer token bound to the account and scopes.

Two more ways in, as a Workspace district uses them:

* **domain-wide delegation**: a JWT whose ``sub`` names a user of the domain gets a token for
  that user, if the domain's admin authorised the service account
  (:meth:`AuthRegistry.allow_delegation`); otherwise 401 ``unauthorized_client``;
* **a user's own OAuth client** (the installed-app flow): an authorisation code from the consent
  page (the user :meth:`AuthRegistry.consent_as` names clicks Allow), exchanged for an access
  token and a refresh token, and refresh-token grants after that.

Errors have the OAuth shape ``{"error": ..., "error_description": ...}``, as Google's do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3600

SCOPE_SPREADSHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_SPREADSHEETS_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_DRIVE = "https://www.googleapis.com/auth/drive"
SCOPE_DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
SCOPE_DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"


class TokenGrantError(Exception):
    """The token endpoint refuses the grant (HTTP 400/401 with an OAuth error body)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class ServiceAccount:
    email: str
    project: str
    key_id: str
    public_key: Any  # cryptography RSAPublicKey


@dataclass
class AccessToken:
    email: str
    project: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class AuthRegistry:
    """Accounts the fake knows and the tokens it has issued (thread-safe)."""

    accounts: dict[str, ServiceAccount] = field(default_factory=dict)  # by key id
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: set[str] = field(default_factory=set)  # Workspace users a service account may act as
    delegations: set[str] = field(default_factory=set)  # service accounts the admin authorised
    clients: dict[str, str] = field(default_factory=dict)  # OAuth client id -> secret
    consenting_user: str | None = None  # who clicks Allow on the consent page
    codes: dict[str, tuple[str, str, tuple[str, ...], str]] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)

    def make_key_file(self, path: Path, token_uri: str, *, name: str = "sheetsync-reader",
                      project: str = "sheetsync-test") -> str:
        """Write a service-account key file whose ``token_uri`` points at the fake."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        key_id = secrets.token_hex(20)
        email = f"{name}@{project}.iam.gserviceaccount.com"
        info = {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "client_email": email,
            "client_id": str(secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                    + email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }
        info["private_key"] = pem  # generated just now, never stored in the repo
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")
        path.chmod(0o600)  # a key file is a secret, even a fake one
        with self.lock:
            self.accounts[key_id] = ServiceAccount(email, project, key_id,
                                                   private_key.public_key())
        return email

    def issue_token(self, email: str, scopes: list[str] | tuple[str, ...],
                    project: str = "sheetsync-test", lifetime: float = TOKEN_LIFETIME) -> str:
        """Hand out a token directly (for tests that exercise the API without a key file)."""
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = AccessToken(email, project, frozenset(scopes),
                                             time.time() + lifetime)
        return token

    # ------------------------------------------------------------------ Workspace users
    def add_user(self, email: str) -> None:
        """A user of the district's Workspace domain."""
        with self.lock:
            self.users.add(email.lower())

    def allow_delegation(self, service_account: str) -> None:
        """The domain's admin authorises the service account for domain-wide delegation."""
        with self.lock:
            self.delegations.add(service_account)

    # ------------------------------------------------------------------ installed-app OAuth
    def make_oauth_client(self, path: Path, *, auth_uri: str, token_uri: str) -> str:
        """Write an installed-app client secrets file (as the Cloud console downloads it);
        returns the client id."""
        client_id = f"{secrets.randbelow(10**12)}-fake.apps.googleusercontent.com"
        secret = "GOCSPX-" + secrets.token_urlsafe(20)
        with self.lock:
            self.clients[client_id] = secret
        info = {"installed": {"client_id": client_id, "project_id": "sheetsync-test",
                              "auth_uri": auth_uri, "token_uri": token_uri,
                              "client_secret": secret, "redirect_uris": ["http://localhost"]}}
        path = Path(path)
        path.write_text(json.dumps(info, indent=2), encoding="utf-8")
        path.chmod(0o600)
        return client_id

    def consent_as(self, email: str | None) -> None:
        """The user who signs in and clicks Allow on the consent page (None: nobody does)."""
        with self.lock:
            self.consenting_user = email

    def authorize(self, query: dict[str, str]) -> str:
        """The consent page: the URL it redirects the browser to, with a code or an error."""
        client_id = query.get("client_id", "")
        redirect = query.get("redirect_uri", "")
        if client_id not in self.clients or not redirect.startswith(("http://localhost",
                                                                      "http://127.0.0.1")):
            raise TokenGrantError("invalid_client", "The OAuth client was not found.", 401)
        state = {"state": query["state"]} if "state" in query else {}
        with self.lock:
            user = self.consenting_user
        if user is None:
            return redirect + "?" + urlencode({"error": "access_denied", **state})
        code = "4/0A" + secrets.token_urlsafe(30)
        scopes = tuple(query.get("scope", "").split())
        with self.lock:
            self.codes[code] = (client_id, user, scopes, query.get("code_challenge", ""))
        return redirect + "?" + urlencode({**state, "code": code, "scope": " ".join(scopes)})

    def _user_grant(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            # The client may authenticate with HTTP Basic instead of form fields.
            decoded = _b64decode(authorization.split(None, 1)[1]).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
        if not client_id or self.clients.get(client_id) != secret:
            raise TokenGrantError("invalid_client", "Unauthorized", 401)
        if form.get("grant_type") == "authorization_code":
            with self.lock:
                found = self.codes.pop(form.get("code", ""), None)
            if found is None or found[0] != client_id:
                raise TokenGrantError("invalid_grant", "Malformed auth code.")
            _client, user, scopes, challenge = found
            verifier = form.get("code_verifier", "")
            if challenge and base64.urlsafe_b64encode(hashlib.sha256(
                    verifier.encode()).digest()).rstrip(b"=").decode() != challenge:
                raise TokenGrantError("invalid_grant", "Invalid code verifier.")
            refresh = "1//0" + secrets.token_urlsafe(40)
            with self.lock:
                self.refresh_tokens[refresh] = (client_id, user, scopes)
            return {"access_token": self.issue_token(user, scopes), "expires_in": 3599,
                    "refresh_token": refresh, "scope": " ".join(scopes),
                    "token_type": "Bearer"}
        with self.lock:
            found_refresh = self.refresh_tokens.get(form.get("refresh_token", ""))
        if found_refresh is None or found_refresh[0] != client_id:
            raise TokenGrantError("invalid_grant", "Token has been expired or revoked.")
        _client, user, scopes = found_refresh
        # A refresh answer carries no new refresh token.
        return {"access_token": self.issue_token(user, scopes), "expires_in": 3599,
                "scope": " ".join(scopes), "token_type": "Bearer"}

    def revoke_refresh_tokens(self, email: str) -> None:
        """The user removed sheetsync's access (or the token expired)."""
        with self.lock:
            for key in [k for k, v in self.refresh_tokens.items() if v[1] == email]:
                del self.refresh_tokens[key]

    def grant(self, form: dict[str, str], authorization: str | None = None) -> dict[str, Any]:
        """The token endpoint: a JWT-bearer grant (service accounts, with ``sub`` for
        domain-wide delegation), an authorisation code or a refresh token."""
        if form.get("grant_type") in ("authorization_code", "refresh_token"):
            return self._user_grant(form, authorization)
        if form.get("grant_type") != JWT_BEARER_GRANT:
            raise TokenGrantError("unsupported_grant_type",
                                  f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            payload = json.loads(_b64decode(payload_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            raise TokenGrantError("invalid_grant", "Invalid JWT: malformed assertion.") from None
        with self.lock:
            account = self.accounts.get(str(header.get("kid", "")))
        if account is None or header.get("alg") != "RS256":
            raise TokenGrantError("invalid_grant", "Invalid grant: account not found")
        if not _verify_rs256(account.public_key, f"{header_b64}.{payload_b64}".encode(),
                             signature):
            raise TokenGrantError("invalid_grant", "Invalid JWT Signature.")
        if payload.get("iss") != account.email:
            raise TokenGrantError("invalid_grant", "Invalid JWT: issuer does not match the key.")
        if payload.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            raise TokenGrantError("invalid_grant", "Invalid JWT: audience is not the token "
                                  "endpoint.")
        now = time.time()
        if not (payload.get("iat", 0) - 300 <= now <= payload.get("exp", 0) + 300):
            raise TokenGrantError("invalid_grant", "Invalid JWT: Token must be a short-lived "
                                  "token (60 minutes) and in a reasonable timeframe. Check your "
                                  "iat and exp values in the JWT claim.")
        scopes = str(payload.get("scope", "")).split()
        if not scopes:
            raise TokenGrantError("invalid_scope", "Invalid OAuth scope or ID token audience "
                                  "provided.")
        email = account.email
        subject = payload.get("sub")
        if subject:
            with self.lock:
                allowed = account.email in self.delegations
                known = str(subject).lower() in self.users
            if not allowed:
                raise TokenGrantError(
                    "unauthorized_client", "Client is unauthorized to retrieve access tokens "
                    "using this method, or client not authorized for any of the scopes "
                    "requested.", 401)
            if not known:
                raise TokenGrantError("invalid_grant", "Invalid email or User ID")
            email = str(subject).lower()
        token = self.issue_token(email, scopes, account.project)
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    def check_token(self, authorization: str | None) -> AccessToken | None:
        """The token behind an ``Authorization: Bearer`` header, if valid."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        with self.lock:
            token = self.tokens.get(authorization.split(None, 1)[1].strip())
        if token is None or token.expires_at < time.time():
            return None
        return token

    def revoke_all(self, email: str) -> None:
        """Forget every token of ``email`` (as if the key were disabled)."""
        with self.lock:
            for key in [k for k, t in self.tokens.items() if t.email == email]:
                del self.tokens[key]


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verify_rs256(public_key: Any, message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
