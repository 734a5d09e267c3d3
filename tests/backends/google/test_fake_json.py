"""The fake Google API's answers are indented JSON, the same bytes whichever encoder wrote them."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from sheetsync.testing import FakeGoogle, fake_google, fake_sheets
from sheetsync.testing.workbooks import write_xlsx


def _stdlib(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


def test_a_workbooks_grid_is_written_as_the_standard_library_would(tmp_path):
    path = tmp_path / "coach.xlsx"
    write_xlsx(path, {"Time Log": [["Date", "Minutes", "Activity", "Notes"],
                                   ["2026-09-08", 45, "Co-planning", "Café — “quoted” ✓"],
                                   ["2026-09-09", 0.1 + 0.2, "Modeling", None],
                                   ["2026-09-10", -0.0, "Feedback", "x" * 300]]})
    with FakeGoogle() as fake:
        book = fake._books[fake.add_spreadsheet_from_xlsx(path)]
        body = fake_sheets.spreadsheet_json(book, include_grid_data=True)
    assert fake_google.json_body(body) == _stdlib(body)


@pytest.mark.parametrize("body", [
    {}, [], {"a": []}, {"nested": {"list": [1, 2.5, True, None, "é\n\t\"\\"]}},
    {"big": 2**70}, {"float": 1e16, "small": 5e-324},
])
def test_every_shape_of_answer_parses_back_the_same(body):
    written = fake_google.json_body(body)
    assert json.loads(written) == body
    if "big" not in body and "float" not in body:  # orjson writes 1e16, the library 1e+16
        assert written == _stdlib(body)


@pytest.mark.parametrize("text", [
    b'{"requests": [{"updateCells": {"rows": [{"values": [{"userEnteredValue": '
    b'{"stringValue": "Caf\xc3\xa9 \\u2713"}}]}]}}]}',
    b'{"n": 1.5, "m": -0, "t": true, "f": false, "z": null, "e": 1e16}',
    b'{"big": 1180591620717411303424}',  # past 64 bits: orjson refuses, the library reads it
])
def test_a_request_body_is_read_as_the_standard_library_reads_it(text):
    assert fake_google._json_loads(text) == json.loads(text)


def test_what_only_the_standard_library_accepts_is_still_read_as_before():
    assert math.isnan(fake_google._json_loads(b'{"nan": NaN}')["nan"])


@pytest.mark.parametrize("text", [b"{", b'{"a": 1,}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_still_refused(text):
    with pytest.raises(ValueError):
        fake_google._json_loads(text)
