"""Google mode at district scale, against the bundled fake API.

Run: ``python bench/google_rollout_bench.py``.

1. Provisioning 200 coaches and 40 teams under the real per-user quota (60 writes a window;
   the window shortened so the run is short): calls per sheet, time against the quota's lower
   bound, duplicates on a re-run, and whether every sheet is shared with exactly its owner.
2. A Drive folder of 100 .xlsx files and 100 Google Sheets: the calls of a full run, and the
   downloads of a run in which nothing changed.
3. Dashboards of 100, 1,000 and 3,000 coaches: the request bytes, and the batchUpdate calls
   under the request-size limit (each dashboard is built by a real run over a generated
   program); the 1,000-coach one is written through the fake with its 10 MiB limit on.

Options: ``--skip 3000`` leaves out the 3,000-coach program (it takes minutes to generate).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sheetsync.backends.google.settings import GoogleSettings  # noqa: E402
from sheetsync.testing import FakeGoogle  # noqa: E402

WINDOW_S = 60.0  # the real quota window: 60 writes a minute


def provisioning(root: Path) -> dict[str, object]:
    from sheetsync.config import load_config
    from sheetsync.provision import provision

    coaches, teams = 200, 40
    with FakeGoogle(seed=3) as fake:
        fake.set_quota(per_user=60, per_project=300, window=WINDOW_S)
        key = root / "key.json"
        robot = fake.make_service_account_key(key)
        folder = fake.add_folder("Rollout", share_with=robot, role="writer")
        dashboard = fake.add_spreadsheet("Dashboard", share_with=robot, role="writer")
        rng = random.Random(1)
        lines = ["kind,name,email,school,team,lead,viewers"]
        for i in range(coaches):
            school = f"School {i % 25}"
            lines.append(f"coach,Coach {i},coach{i}@district.org,{school},,,"
                         + (f"principal{i % 25}@district.org" if rng.random() < 0.5 else ""))
        for i in range(teams):
            lines.append(f"team,Team {i},lead{i}@district.org,School {i % 25},,Lead {i},")
        (root / "roster.csv").write_text("\n".join(lines) + "\n")
        (root / "sources.toml").write_text("# rolled out by sheetsync provision\n")
        (root / "rollout.toml").write_text("\n".join([
            'include = ["sources.toml"]', "[program]", 'as_of = "2026-11-04"', "[google]",
            f'credentials = "{key}"', f'api_base = "{fake.base_url}"',
            f'provision_folder = "{folder}"', "quota_per_minute = 60",
            f"quota_window_seconds = {WINDOW_S}", "[output]", f'google = "{dashboard}"',
            f'state_dir = "{root / "state"}"', ""]))
        config = load_config(root / "rollout.toml", sources_required=False)
        started = time.perf_counter()
        report = provision(config, root / "roster.csv", say=lambda _: None)
        seconds = time.perf_counter() - started
        calls = Counter(c.kind for c in fake.calls() if c.kind != "token")
        throttled = len(fake.calls(status=429))
        again = provision(load_config(root / "rollout.toml"), root / "roster.csv",
                          say=lambda _: None)
        files = fake.files_in(folder)
        exact = 0
        for entry in report.created:
            sheet = entry.google.split("/d/")[1].split("/")[0]
            people = fake.permissions(sheet)
            expected = {robot: "owner", entry.owner: "writer"}
            expected.update({p: "reader" for p in people if p.startswith("principal")})
            exact += people == expected and sum(r == "writer" for r in people.values()) == 1
    sheets = coaches + teams
    lower = report.quota_bound_s
    return {"sheets": sheets, "calls": dict(sorted(calls.items())),
            "calls_per_sheet": round(sum(calls.values()) / sheets, 2),
            "seconds": round(seconds, 1), "quota_lower_bound_s": lower,
            "ratio": round(seconds / lower, 3) if lower else None, "429s": throttled,
            "rerun_created": len(again.created), "files_in_folder": len(files),
            "shared_with_exactly_its_owner": f"{exact}/{sheets}"}


def drive_folder(root: Path) -> dict[str, object]:
    from sheetsync.benchmark import generate_program
    from sheetsync.config import load_config
    from sheetsync.pipeline import run

    program = generate_program(root / "folder-program", coaches=200, teams=1, weeks=10)
    with FakeGoogle(seed=4) as fake:
        fake.set_quota(per_user=100_000, per_project=100_000)
        key = root / "key-folder.json"
        robot = fake.make_service_account_key(key)
        folder = fake.add_folder("Coach workbooks", share_with=robot)
        for i, path in enumerate(program.coach_files):
            if i % 2:
                fake.add_file(path.name, path.read_bytes(), folder=folder)
            else:
                fake.add_spreadsheet_from_xlsx(path, folder=folder)
        dashboard = fake.add_spreadsheet("Dashboard", share_with=robot, role="writer")
        (root / "folder.toml").write_text("\n".join([
            "[program]", 'as_of = "2026-11-15"', "[google]", f'credentials = "{key}"',
            f'api_base = "{fake.base_url}"', "quota_per_minute = 100000", "[output]",
            f'google = "{dashboard}"', f'state_dir = "{root / "state-folder"}"', "",
            "[[sources]]", 'kind = "coach"', f'folder = "{folder}"', ""]))
        config = load_config(root / "folder.toml")
        fake.reset_calls()
        first = run(config)
        full = Counter(c.kind for c in fake.calls() if c.kind != "token")
        fake.reset_calls()
        run(config)
        same = Counter(c.kind for c in fake.calls() if c.kind != "token")
    return {"files": "100 .xlsx + 100 Google Sheets", "failed": first.sources_failed,
            "full run": dict(sorted(full.items())), "nothing changed": dict(sorted(same.items()))}


def dashboards(root: Path, sizes: list[int]) -> dict[str, object]:
    from sheetsync.backends.google.scoping import scope_sheets
    from sheetsync.backends.google.staging import DEFAULT_LIMIT, encode, plan
    from sheetsync.backends.google.writer import GoogleWriter, _State
    from sheetsync.benchmark import as_of_for, generate_program
    from sheetsync.config import load_config
    from sheetsync.pipeline import RollupContext, rollup, validate

    out: dict[str, object] = {}
    for coaches in sizes:
        workdir = root / f"program-{coaches}"
        program = generate_program(workdir, coaches=coaches, teams=max(1, coaches // 5))
        config = load_config(program.config)
        as_of = as_of_for(program.weeks)
        data = validate(config, as_of)
        sheets = rollup(data, RollupContext(config, as_of, datetime.now(UTC)))
        figures: dict[str, object] = {}
        for label, model in (("unscoped", sheets),
                             ("scoped", scope_sheets(sheets, GoogleSettings().max_tab_rows)[0])):
            builder = GoogleWriter.__new__(GoogleWriter)
            builder._now = lambda: datetime.now(UTC)
            requests = builder._build(_State("", {}, None), model, False).requests
            size = len(encode({"requests": requests}))
            bodies, final, _staging = plan(requests, [], DEFAULT_LIMIT)
            figures[label] = {"MB": round(size / 1e6, 1), "batchUpdate calls": len(bodies) + 1,
                              "largest request MB": round(max(
                                  [len(encode({"requests": b})) for b in [*bodies, final]]) / 1e6,
                                  2)}
        cuts = scope_sheets(sheets, GoogleSettings().max_tab_rows)[1]
        figures["scoped tables"] = [f"{c.tab}: {c.kept_rows:,} of {c.all_rows:,} rows, latest "
                                    f"{c.dates} week(s) from {c.since}" for c in cuts]
        if coaches == 1000:
            figures["written through the fake"] = write_through_fake(root, sheets)
        out[f"{coaches} coaches"] = figures
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def write_through_fake(root: Path, sheets: list) -> dict[str, object]:
    """The 1,000-coach dashboard through the fake with Google's 10 MiB limit on, twice: the
    first write and a rewrite (the nightly case)."""
    from sheetsync.backends.google.backend import GoogleBackend

    results = {}
    with FakeGoogle(seed=9) as fake:
        fake.set_quota(per_user=100_000, per_project=100_000)
        key = root / "key-dash.json"
        robot = fake.make_service_account_key(key)
        target = fake.add_spreadsheet("Dashboard", share_with=robot, role="writer")
        settings = GoogleSettings(credentials_path=key, api_base=fake.base_url,
                                  quota_per_minute=100_000, timeout=600)
        for label in ("first write", "rewrite"):
            backend = GoogleBackend(settings, scope=f"bench-{label}")
            fake.reset_calls()
            started = time.perf_counter()
            backend.write_tabs(target, sheets, datetime.now(UTC))
            seconds = time.perf_counter() - started
            writes = fake.calls("spreadsheets.batchUpdate")
            results[label] = {"batchUpdate calls": len(writes),
                              "other calls": len(fake.calls()) - len(writes)
                              - len(fake.calls("token")),
                              "largest request MB": round(fake.largest_request / 1e6, 2),
                              "refused (over 10 MiB)": len(fake.calls(status=400)),
                              "seconds": round(seconds, 1)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", type=int, action="append", default=[])
    parser.add_argument("--only", choices=("provision", "folder", "dashboards"))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sheetsync-google-bench-"))
    report: dict[str, object] = {}
    try:
        if args.only in (None, "provision"):
            report["provisioning"] = provisioning(root)
            print(json.dumps(report["provisioning"], indent=2), flush=True)
        if args.only in (None, "folder"):
            report["drive folder"] = drive_folder(root)
            print(json.dumps(report["drive folder"], indent=2), flush=True)
        if args.only in (None, "dashboards"):
            sizes = [n for n in (100, 1000, 3000) if n not in args.skip]
            report["dashboards"] = dashboards(root, sizes)
            print(json.dumps(report["dashboards"], indent=2), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
