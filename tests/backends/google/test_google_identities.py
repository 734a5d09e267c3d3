"""The three ways sheetsync can be Google: a service account, the same account acting for a
Workspace user (domain-wide delegation), and a person's own account signed in once with the
installed-app flow (token cached at 0600, refreshed when it expires)."""

from __future__ import annotations

import stat
import threading
import webbrowser
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from sheetsync.backends.google.auth import load_credentials
from sheetsync.backends.google.backend import settings_for
from sheetsync.backends.google.settings import TOKEN_FILE, GoogleSettings
from sheetsync.backends.google.signin import login
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.config import load_config
from sheetsync.errors import CredentialsError
from sheetsync.pipeline import run
from sheetsync.testing import FakeGoogle
from tests import REPO

EXAMPLE = REPO / "sheet_templates" / "examples" / "coaches"


def config_file(tmp_path: Path, google: FakeGoogle, google_lines: list[str], source: str,
                dashboard: str) -> Path:
    path = tmp_path / "district.toml"
    path.write_text("\n".join([
        "[program]", 'as_of = "2026-11-04"', "", "[google]", *google_lines,
        f'api_base = "{google.base_url}"', "quota_per_minute = 6000", "", "[output]",
        f'google = "{dashboard}"', f'state_dir = "{tmp_path / "state"}"', "",
        "[[sources]]", 'kind = "coach"', f'google = "{source}"', ""]))
    return path


def test_domain_wide_delegation_reads_and_writes_as_the_coordinator(
        fake_google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A district that keeps files inside its domain: nothing is shared with the service
    account; it acts as the coordinator, who owns the files."""
    key = tmp_path / "key.json"
    robot = fake_google.make_service_account_key(key)
    fake_google.set_quota(per_user=10_000, per_project=10_000)
    coordinator = "coordinator@district.org"
    fake_google.add_user(coordinator)
    source = fake_google.add_spreadsheet_from_xlsx(sorted(EXAMPLE.glob("*.xlsx"))[0],
                                                   share_with=coordinator, role="owner")
    dashboard = fake_google.add_spreadsheet("Dashboard", share_with=coordinator, role="owner")
    config = load_config(config_file(tmp_path, fake_google, [
        f'credentials = "{key}"', f'subject = "{coordinator}"'], source, dashboard))

    from sheetsync.errors import RunFailed

    with pytest.raises(RunFailed) as refused:  # the admin has not authorised it yet
        run(config)
    assert "unauthorized_client" in refused.value.message
    assert "Domain-wide delegation" in refused.value.hint
    fake_google.allow_delegation(robot)
    outcome = run(config)
    assert outcome.sources_failed == 0
    assert "Dashboard" in fake_google.tab_titles(dashboard)
    assert robot not in fake_google.permissions(source)  # never shared outside the domain
    assert {c.email for c in fake_google.calls("spreadsheets")} == {coordinator}

    from sheetsync.doctor import run_doctor

    run_doctor(config)
    out = capsys.readouterr().out
    assert f"{coordinator}, through the service account {robot} (domain-wide delegation)" in out
    assert "it can see 2 Google Sheets, 0 Excel files and 0 folders" in out


def test_subject_needs_a_service_account_key(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="subject"):
        load_credentials(GoogleSettings(subject="someone@district.org",
                                        credentials_path=None))


class FakeBrowser(webbrowser.BaseBrowser):
    """Clicks through the consent page, as a person would, from another thread."""

    def __init__(self, google: FakeGoogle) -> None:
        super().__init__()
        self.google = google

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        page = url.replace("https://accounts.google.com", self.google.base_url)

        def visit() -> None:
            requests.get(page, timeout=10, allow_redirects=True)

        threading.Thread(target=visit, daemon=True).start()
        return True


def test_a_users_own_account_signs_in_once_and_the_token_is_private_and_refreshed(
        fake_google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_google.set_quota(per_user=10_000, per_project=10_000)
    client = tmp_path / "client_secret.json"
    fake_google.make_oauth_client(client)
    me = "coordinator@district.org"
    source = fake_google.add_spreadsheet_from_xlsx(sorted(EXAMPLE.glob("*.xlsx"))[0],
                                                   share_with=me, role="owner")
    dashboard = fake_google.add_spreadsheet("Dashboard", share_with=me, role="owner")
    config = load_config(config_file(tmp_path, fake_google, [f'oauth_client = "{client}"'],
                                     source, dashboard))
    settings = settings_for(config)
    assert settings.token_path == tmp_path / "state" / TOKEN_FILE

    with pytest.raises(CredentialsError) as not_yet:
        load_credentials(settings)  # not signed in yet: a clear message, not a traceback
    assert "sheetsync login" in not_yet.value.hint

    fake_google.consent_as(me)
    webbrowser.register("sheetsync-test", None, FakeBrowser(fake_google))
    path = login(settings, browser="sheetsync-test")
    assert path == settings.token_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert me in path.read_text()

    outcome = run(config)
    assert outcome.sources_failed == 0
    assert {c.email for c in fake_google.calls("spreadsheets")} == {me}

    # The access token expires: the next run refreshes it and caches the new one.
    before = path.read_text()
    fake_google.auth.revoke_all(me)
    connection = GoogleConnection(settings)
    loaded = connection.credentials
    loaded.credentials.expiry = loaded.credentials.expiry.replace(year=2000)
    connection.http.fetch_sheet_metadata(source)
    assert path.read_text() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fake_google.calls("token")[-1].status == 200

    # Access removed in the Google account: a clear failure, not a traceback.
    fake_google.auth.revoke_refresh_tokens(me)
    again = GoogleConnection(replace(settings))
    again.credentials.credentials.expiry = again.credentials.credentials.expiry.replace(
        year=2000)
    from sheetsync.backends.google.reader import GoogleReader
    from sheetsync.errors import SourceReadError

    with pytest.raises(SourceReadError, match="Token has been expired or revoked"):
        GoogleReader(connection=again).read(source)
