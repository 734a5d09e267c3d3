"""Render the example dashboard as a leader sees it: LibreOffice, then PDF, then PNG.

    .venv/bin/python bench/render_dashboard.py [--out DIR] [--xlsx FILE] [--google]

Runs the bundled example (``config/example.toml``, as of 2026-11-04) into ``DIR/dashboard.xlsx``
(or renders ``--xlsx FILE``), then, with LibreOffice headless (``soffice``; Debian package
libreoffice-calc) and poppler (``pdftoppm``; poppler-utils), writes:

* ``first-screen.png``: the Dashboard's first screen, 1440 x 800 pixels at 100%, as a
  laptop shows it (without the program's own menus and row numbers);
* ``tab-NN-<name>.png``: every visible tab, whole, at 100% (wide tabs are cut at 2,880 pixels);
* ``print-dashboard.png``: the first printed page of the Dashboard (its print area).

``--google`` runs the same example in Google mode against the bundled fake Google API,
converts the dashboard spreadsheet as the API left it into ``google-dashboard.xlsx``
(:func:`sheetsync.testing.sheets_xlsx.spreadsheet_to_xlsx`: values, formats, widths, frozen
rows, conditional colours and charts from their ``addChart`` specs) and renders that the same
way, into ``DIR/google/``.

Default ``DIR``: ``out/render``. Prints the PNG paths. Look at them.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 4)
SCREEN = (1440, 800)
DPI = 96  # at 100% a spreadsheet's pixel is a 96-dpi pixel
MAX_TAB_PIXELS = 2880
SINGLE_PAGE_SHEETS = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def tools() -> tuple[str, str]:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        sys.exit("render_dashboard: needs soffice (libreoffice-calc) and pdftoppm "
                 "(poppler-utils) on the PATH")
    return soffice, pdftoppm


def example_dashboard(out: Path) -> Path:
    """The bundled example's dashboard, written into ``out`` with a fresh state folder."""
    from dataclasses import replace

    from sheetsync.config import load_config
    from sheetsync.pipeline import run

    config = load_config(ROOT / "config" / "example.toml")
    state = Path(tempfile.mkdtemp(prefix="sheetsync-render-"))
    path = out / "dashboard.xlsx"
    path.unlink(missing_ok=True)
    config = replace(config, output=replace(config.output, path=path, state_dir=state))
    run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0, tzinfo=config.tz), use_cache=False)
    shutil.rmtree(state, ignore_errors=True)
    return path


def google_dashboard(out: Path) -> Path:
    """The example in Google mode against the fake API; its dashboard converted to .xlsx."""
    from sheetsync.config import load_config
    from sheetsync.pipeline import run
    from sheetsync.testing import FakeGoogle
    from sheetsync.testing.sheets_xlsx import spreadsheet_to_xlsx

    examples = ROOT / "sheet_templates" / "examples"
    with tempfile.TemporaryDirectory(prefix="sheetsync-render-") as tmp, \
            FakeGoogle(seed=3) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = Path(tmp) / "key.json"
        email = fake.make_service_account_key(key)
        dash = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ['[program]', 'name = "Riverside District Breakthrough Results, Fall 2026"',
                 'timezone = "America/New_York"', f'as_of = "{AS_OF.isoformat()}"', "",
                 "[google]", f'credentials = "{key}"', f'api_base = "{fake.base_url}"',
                 "quota_per_minute = 6000", "", "[output]", f'google = "{dash}"',
                 f'state_dir = "{Path(tmp) / "state"}"', ""]
        for kind, folder in (("team", "teams"), ("coach", "coaches")):
            for path in sorted((examples / folder).glob("*.xlsx")):
                sid = fake.add_spreadsheet_from_xlsx(path, share_with=email)
                lines += ["[[sources]]", f'kind = "{kind}"', f'google = "{sid}"',
                          f'name = "{path.stem}"', ""]
        config_path = Path(tmp) / "google.toml"
        config_path.write_text("\n".join(lines))
        config = load_config(config_path)
        run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0, tzinfo=config.tz))
        target = out / "google-dashboard.xlsx"
        spreadsheet_to_xlsx(fake.spreadsheet_json(dash), target)
    return target


def sheet_names(xlsx: Path) -> list[tuple[str, bool]]:
    """Every tab of the workbook, in order, and whether it is visible."""
    with zipfile.ZipFile(xlsx) as package:
        root = ET.fromstring(package.read("xl/workbook.xml"))
    return [(s.get("name", ""), s.get("state", "visible") == "visible")
            for s in root.iter(f"{MAIN}sheet")]


def convert(soffice: str, xlsx: Path, folder: Path, single_pages: bool) -> Path:
    """``xlsx`` as a PDF: one page per tab at 100% (single_pages) or as it prints."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="sheetsync-lo-"))
    try:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", SINGLE_PAGE_SHEETS if single_pages else "pdf",
                        "--outdir", str(folder), str(xlsx)],
                       check=True, capture_output=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return folder / (xlsx.stem + ".pdf")


def png(pdftoppm: str, pdf: Path, page: int, target: Path, *, dpi: int = DPI,
        crop: tuple[int, int] | None = None) -> Path:
    args = [pdftoppm, "-f", str(page), "-l", str(page), "-r", str(dpi), "-png",
            "-singlefile"]
    if crop:
        args += ["-x", "0", "-y", "0", "-W", str(crop[0]), "-H", str(crop[1])]
    subprocess.run([*args, str(pdf), str(target.with_suffix(""))], check=True, timeout=120)
    return target


def render(xlsx: Path, out: Path) -> list[Path]:
    """The first screen, every visible tab and the printed Dashboard, as PNGs in ``out``."""
    soffice, pdftoppm = tools()
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sheetsync-pdf-") as tmp:
        screens = convert(soffice, xlsx, Path(tmp) / "screens", single_pages=True)
        tabs = sheet_names(xlsx)
        for page, (name, visible) in enumerate(tabs, start=1):
            if not visible:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            if page == 1:
                made.append(png(pdftoppm, screens, 1, out / "first-screen.png", crop=SCREEN))
            made.append(png(pdftoppm, screens, page, out / f"tab-{page:02d}-{slug}.png",
                            crop=(MAX_TAB_PIXELS, MAX_TAB_PIXELS * 4)))
        printed = convert(soffice, xlsx, Path(tmp) / "print", single_pages=False)
        made.append(png(pdftoppm, printed, 1, out / "print-dashboard.png", dpi=72))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "render")
    parser.add_argument("--xlsx", type=Path, default=None, help="render this workbook instead")
    parser.add_argument("--google", action="store_true",
                        help="also render the Google dashboard of the same example")
    args = parser.parse_args(argv)
    tools()
    args.out.mkdir(parents=True, exist_ok=True)
    xlsx = args.xlsx or example_dashboard(args.out)
    for path in render(xlsx, args.out):
        print(path)
    if args.google:
        google = args.out / "google"
        google.mkdir(parents=True, exist_ok=True)
        for path in render(google_dashboard(google), google):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
