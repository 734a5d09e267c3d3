"""Service accounts, key files and the OAuth JWT-bearer grant of the fake Google API.

Each key file the fake issues holds a fresh RSA key; the token endpoint verifies the grant's
RS256 signature with the matching public key, its issuer, audience and expiry, exactly as the
real endpoint would, and hands out an opaque bearer token bound to the account and scopes.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """The JWT-bearer grant: verify the assertion and return the token response."""
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
        token = self.issue_token(account.email, scopes, account.project)
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
