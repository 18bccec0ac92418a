"""`dynaspine code`: check (plain FILE works too), info, import-ncci; exit codes; 837P/FHIR."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from dynaspine.cli import app
from dynaspine.errors import DynaspineError

runner = CliRunner()


def _exit(res: Result) -> int:
    """Exit status as ``dynaspine`` (cli.main) reports it: DynaspineError -> 2."""
    if isinstance(res.exception, DynaspineError):
        return res.exception.exit_code
    return res.exit_code


ENCOUNTER = {
    "schema": "dynaspine.encounter/1",
    "id": "cli-1",
    "date_of_service": "2025-06-02",
    "setting": "office",
    "payer": {"type": "medicare"},
    "studies": [
        {
            "region": "lumbosacral",
            "views": [
                {"projection": "lateral", "position": "flexion"},
                {"projection": "lateral", "position": "extension"},
            ],
        }
    ],
    "diagnoses": ["M43.16"],
    "documentation": {
        "indication": "evaluate for instability",
        "interpretation_signed": True,
        "ordering_provider": "1234567893",
        "supervising_physician": "1234567893",
    },
    "claim": {
        "claim_id": "CLI-1",
        "billing_provider": {
            "name": "Example Spine Clinic",
            "npi": "1234567893",
            "tin": "123456789",
            "address": {
                "line1": "100 Example Way",
                "city": "Houston",
                "state": "TX",
                "postal_code": "77030",
            },
            "phone": "7135550100",
        },
        "patient": {
            "last_name": "Sample",
            "first_name": "Pat",
            "birth_date": "1958-04-09",
            "sex": "F",
            "address": {
                "line1": "1 Sample Road",
                "city": "Pasadena",
                "state": "TX",
                "postal_code": "77502",
            },
            "member_id": "1EG4TE5MK73",
        },
        "payer": {"name": "Medicare Part B", "payer_id": "04412", "claim_filing_indicator": "MB"},
    },
}


def _write(tmp_path: Path, data: object, name: str = "enc.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def test_plain_file_is_check_and_writes_outputs(tmp_path: Path) -> None:
    f = _write(tmp_path, ENCOUNTER)
    out, x12, fhir = tmp_path / "r.json", tmp_path / "c.x12", tmp_path / "c.fhir.json"
    res = runner.invoke(
        app, ["code", str(f), "--out", str(out), "--x12", str(x12), "--fhir", str(fhir)]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert [ln["code"] for ln in data["lines"]] == ["72120"]
    assert data["total"] == "39.46"
    text = x12.read_text()
    assert text.startswith("ISA") and "SV1*HC:72120" in text
    claim = json.loads(fhir.read_text())
    assert claim["resourceType"] == "Claim"
    res2 = runner.invoke(app, ["code", "check", str(f), "--json"])
    assert res2.exit_code == 0 and '"72120"' in res2.output


def test_error_findings_exit_1_and_unreadable_exit_2(tmp_path: Path) -> None:
    bad = dict(ENCOUNTER, date_of_service="2025-13-01")
    res = runner.invoke(app, ["code", str(_write(tmp_path, bad))])
    assert res.exit_code == 1
    assert "input.date-invalid" in res.output
    notjson = tmp_path / "x.json"
    notjson.write_text("{not json")
    assert _exit(runner.invoke(app, ["code", str(notjson)])) == 2
    assert _exit(runner.invoke(app, ["code", str(tmp_path / "missing.json")])) == 2
    proc = subprocess.run(
        [sys.executable, "-m", "dynaspine", "code", str(notjson)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "JSON" in proc.stderr


def test_claim_without_parties_is_exit_2(tmp_path: Path) -> None:
    enc = {k: v for k, v in ENCOUNTER.items() if k != "claim"}
    res = runner.invoke(app, ["code", str(_write(tmp_path, enc)), "--x12", str(tmp_path / "c")])
    assert _exit(res) == 2


def test_info_page(tmp_path: Path) -> None:
    res = runner.invoke(app, ["code", "info", "72120", "--year", "2026", "--json"])
    assert res.exit_code == 0, res.output
    page = json.loads(res.output)
    rows = {r["label"]: r for s in page["sections"] for r in s["rows"]}
    assert "$42.09" in rows["Office (PFS non-facility), global"]["value"]
    res = runner.invoke(app, ["code", "info", "72100", "--year", "2025", "--locality", "04412/18"])
    assert res.exit_code == 0 and "38.95" in res.output
    assert _exit(runner.invoke(app, ["code", "info", "00000", "--year", "2025"])) == 2
    assert _exit(runner.invoke(app, ["code", "info", "72100", "--locality", "x"])) == 2


def test_import_ncci_command(tmp_path: Path) -> None:
    f = tmp_path / "mue.csv"
    f.write_text(
        '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator",'
        '"MUE Rationale"\n"72120","2","2 Date of Service Edit: Policy","Test"\n'
    )
    res = runner.invoke(app, ["code", "import-ncci", str(f), "--dest", str(tmp_path / "n")])
    assert res.exit_code == 0, res.output
    assert "1 MUE rows" in res.output
    assert (tmp_path / "n" / "mue-mue.csv").exists()
