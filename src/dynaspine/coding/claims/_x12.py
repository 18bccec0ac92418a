"""ASC X12 837P (005010X222A1) building with x12sdk and validation with pyx12.

The transaction (ST-SE) is assembled from x12sdk's typed 837P models, which validate
every segment as it is built; the ISA/GS/GE/IEA envelope from x12sdk's envelope segment
models. The implementation guide version written is 005010X222A1 (HIPAA-adopted 837P,
ASC X12N/005010X222A1), the version pyx12 ships a map for; x12sdk's models describe the
same loops (they are named after the later A2 errata, which changed no segment used here).

Validation runs the pyx12 validator (``pyx12.x12n_document.x12n_document``) with its
005010X222A1 map and collects every interchange, group, transaction, segment and element
error it reports.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from decimal import Decimal
from typing import Any

from dynaspine.errors import CodingError

from ._models import Address, ClaimInput, ClaimLine, Person

IMPLEMENTATION_GUIDE = "005010X222A1"

#: ICD-10-CM qualifiers of the HI segment: principal (ABK) and other (ABF) diagnosis.
_PRINCIPAL, _OTHER = "ABK", "ABF"


def _sdk() -> tuple[Any, Any, Any]:
    """x12sdk's generic segments, 837P loops and 837P segments (imported on first use).

    Typed ``Any``: the models are pydantic classes whose keyword constructors mypy cannot
    check without the pydantic plugin; pydantic validates every field at run time.
    """
    import importlib

    base = "x12sdk.v5010"
    return (
        importlib.import_module(f"{base}.segments"),
        importlib.import_module(f"{base}.x12_837_005010X222A2.loops"),
        importlib.import_module(f"{base}.x12_837_005010X222A2.segments"),
    )


def _x12_text(value: str) -> str:
    """Upper-case and drop the X12 delimiter characters from free text."""
    out = value.upper()
    for ch in "~*:^":
        out = out.replace(ch, " ")
    return " ".join(out.split())


def _n3_n4(address: Address) -> tuple[Any, Any]:
    g, _, _ = _sdk()
    return (
        g.N3Segment(
            address_information_1=_x12_text(address.line1),
            address_information_2=_x12_text(address.line2) if address.line2 else None,
        ),
        g.N4Segment(
            city_name=_x12_text(address.city),
            state_province_code=address.state,
            postal_code=address.postal_code,
        ),
    )


def _dmg(person: Person) -> Any:
    g, _, _ = _sdk()
    return g.DmgSegment(
        date_time_period_format_qualifier="D8",
        date_time_period=person.birth_date.strftime("%Y%m%d"),
        gender_code=person.sex,
    )


def _units(units: Decimal) -> Decimal:
    """SV104 without trailing zeros (``1``, ``2.5``)."""
    if units == units.to_integral_value():
        return units.quantize(Decimal(1))
    return units.normalize()


def _service_line(line: ClaimLine, number: int, claim: ClaimInput) -> Any:
    g, L, S = _sdk()

    procedure = ":".join(("HC", line.code, *line.modifiers))
    dos = line.date_of_service or claim.date_of_service
    return L.Loop2400(
        lx_segment={"assigned_number": str(number)},
        sv1_segment=g.Sv1Segment(
            product_service_id_qualifier=procedure,
            line_item_charge_amount=line.charge,
            unit_basis_measurement_code="UN",
            service_unit_count=_units(line.units),
            composite_diagnosis_code_pointer=":".join(str(p) for p in line.diagnosis_pointers),
        ),
        dtp_segment=[
            S.Loop2400DtpSegment(
                date_time_qualifier="472",
                date_time_period_format_qualifier="D8",
                date_time_period=dos.strftime("%Y%m%d"),
            )
        ],
    )


def _claim_loop(claim: ClaimInput) -> Any:
    g, L, S = _sdk()

    dx = [d.replace(".", "") for d in claim.diagnoses]
    hi: dict[str, list[str]] = {"health_care_code_1": [_PRINCIPAL, dx[0]]}
    for i, code in enumerate(dx[1:], start=2):
        hi[f"health_care_code_{i}"] = [_OTHER, code]
    rendering = None
    if claim.rendering_provider is not None:
        rp = claim.rendering_provider
        rendering = L.Loop2310B(
            nm1_segment=S.Loop2310BNm1Segment(
                entity_identifier_code="82",
                entity_type_qualifier="1",
                name_last_or_organization_name=_x12_text(rp.last_name),
                name_first=_x12_text(rp.first_name) if rp.first_name else None,
                identification_code_qualifier="XX",
                identification_code=rp.npi,
            ),
            prv_segment=S.Loop2310BPrvSegment(
                provider_code="PE",
                reference_identification_qualifier="PXC",
                reference_identification=rp.taxonomy,
            )
            if rp.taxonomy
            else None,
        )
    return L.Loop2300(
        clm_segment=g.ClmSegment(
            patient_control_number=_x12_text(claim.claim_id).replace(" ", ""),
            total_claim_charge_amount=claim.total_charge,
            health_care_service_location_information=f"{claim.place_of_service}:B:1",
            provider_or_supplier_signature_indicator="Y",
            provider_accept_assignment_code="A",
            benefit_assignment_certification_indicator="Y",
            release_of_information_code="Y",
        ),
        hi_segment=[g.HiSegment(**hi)],
        loop_2310b=rendering,
        loop_2400=[
            _service_line(line, number, claim) for number, line in enumerate(claim.lines, 1)
        ],
    )


def _transaction(claim: ClaimInput, *, control_number: str, created: _dt.datetime) -> Any:
    import importlib

    from x12sdk.support import count_segments

    g, L, S = _sdk()
    tset: Any = importlib.import_module("x12sdk.v5010.x12_837_005010X222A2.transaction_set")

    bp = claim.billing_provider
    bp_n3, bp_n4 = _n3_n4(bp.address)
    subscriber = claim.subscriber or claim.patient
    dependent = claim.subscriber is not None
    sub_n3, sub_n4 = _n3_n4(subscriber.address)
    claims = [_claim_loop(claim)]
    loop_2000b = L.Loop2000B(
        hl_segment=S.Loop2000BHlSegment(
            hierarchical_id_number="2",
            hierarchical_parent_id_number="1",
            hierarchical_level_code="22",
            hierarchical_child_code="1" if dependent else "0",
        ),
        sbr_segment=S.Loop2000BSbrSegment(
            payer_responsibility_code="P",
            individual_relationship_code=None if dependent else "18",
            claim_filing_indicator_code=claim.payer.claim_filing_indicator,
        ),
        loop_2010ba=L.Loop2010Ba(
            nm1_segment=S.Loop2010BaNm1Segment(
                entity_identifier_code="IL",
                entity_type_qualifier="1",
                name_last_or_organization_name=_x12_text(subscriber.last_name),
                name_first=_x12_text(subscriber.first_name) if subscriber.first_name else None,
                identification_code_qualifier="MI",
                identification_code=subscriber.member_id,
            ),
            n3_segment=sub_n3,
            n4_segment=sub_n4,
            dmg_segment=_dmg(subscriber),
        ),
        loop_2010bb=L.Loop2010Bb(
            nm1_segment=S.Loop2010BbNm1Segment(
                entity_identifier_code="PR",
                entity_type_qualifier="2",
                name_last_or_organization_name=_x12_text(claim.payer.name),
                identification_code_qualifier="PI",
                identification_code=claim.payer.payer_id,
            ),
        ),
        loop_2300=None if dependent else claims,
    )
    if dependent:
        pat_n3, pat_n4 = _n3_n4(claim.patient.address)
        loop_2000b.loop_2000c = [
            L.Loop2000C(
                hl_segment=S.Loop2000CHlSegment(
                    hierarchical_id_number="3",
                    hierarchical_parent_id_number="2",
                    hierarchical_level_code="23",
                    hierarchical_child_code="0",
                ),
                pat_segment=S.Loop2000CPatSegment(individual_relationship_code=claim.relationship),
                loop_2010ca=L.Loop2010Ca(
                    nm1_segment=S.Loop2010CaNm1Segment(
                        entity_identifier_code="QC",
                        entity_type_qualifier="1",
                        name_last_or_organization_name=_x12_text(claim.patient.last_name),
                        name_first=_x12_text(claim.patient.first_name)
                        if claim.patient.first_name
                        else None,
                    ),
                    n3_segment=pat_n3,
                    n4_segment=pat_n4,
                    dmg_segment=_dmg(claim.patient),
                ),
                loop_2300=claims,
            )
        ]
    structure: dict[str, Any] = {
        "header": L.Header(
            st_segment=S.HeaderStSegment(
                transaction_set_identifier_code="837",
                transaction_set_control_number=control_number,
                implementation_convention_reference=IMPLEMENTATION_GUIDE,
            ),
            bht_segment=S.HeaderBhtSegment(
                hierarchical_structure_code="0019",
                transaction_set_purpose_code="00",
                submitter_transactional_identifier=_x12_text(claim.claim_id).replace(" ", ""),
                transaction_set_creation_date=created.strftime("%Y%m%d"),
                transaction_set_creation_time=created.strftime("%H%M"),
                transaction_type_code="CH",
            ),
        ),
        "loop_1000a": L.Loop1000A(
            nm1_segment=S.Loop1000ANm1Segment(
                entity_identifier_code="41",
                entity_type_qualifier="2",
                name_last_or_organization_name=_x12_text(bp.name),
                identification_code_qualifier="46",
                identification_code=bp.npi,
            ),
            per_segment=[
                S.Loop1000APerSegment(
                    contact_function_code="IC",
                    name=_x12_text(bp.contact_name),
                    communication_number_qualifier_1="TE",
                    communication_number_1=bp.phone,
                )
            ],
        ),
        "loop_1000b": L.Loop1000B(
            nm1_segment=S.Loop1000BNm1Segment(
                entity_identifier_code="40",
                entity_type_qualifier="2",
                name_last_or_organization_name=_x12_text(claim.payer.name),
                identification_code_qualifier="46",
                identification_code=claim.payer.payer_id,
            ),
        ),
        "loop_2000a": [
            L.Loop2000A(
                hl_segment=S.Loop2000AHlSegment(
                    hierarchical_id_number="1",
                    hierarchical_level_code="20",
                    hierarchical_child_code="1",
                ),
                prv_segment=S.Loop2000APrvSegment(
                    provider_code="BI",
                    reference_identification_qualifier="PXC",
                    reference_identification=bp.taxonomy,
                )
                if bp.taxonomy
                else None,
                loop_2010aa=L.Loop2010Aa(
                    nm1_segment=S.Loop2010AaNm1Segment(
                        entity_identifier_code="85",
                        entity_type_qualifier="2",
                        name_last_or_organization_name=_x12_text(bp.name),
                        identification_code_qualifier="XX",
                        identification_code=bp.npi,
                    ),
                    n3_segment=bp_n3,
                    n4_segment=bp_n4,
                    ref_segment=[
                        S.Loop2010AaRefSegment(
                            reference_identification_qualifier="EI",
                            reference_identification=bp.tin,
                        )
                    ],
                ),
                loop_2000b=[loop_2000b],
            )
        ],
    }
    # SE01 counts every segment from ST to SE: count with a stand-in footer first.
    placeholder = dict(
        structure,
        footer={
            "se_segment": {
                "transaction_segment_count": 1,
                "transaction_set_control_number": control_number,
            }
        },
    )
    structure["footer"] = L.Footer(
        se_segment=g.SeSegment(
            transaction_segment_count=count_segments(placeholder),
            transaction_set_control_number=control_number,
        )
    )
    return tset.HealthCareClaimProfessional(**structure)


def build_837p(
    claim: ClaimInput,
    *,
    sender_id: str | None = None,
    receiver_id: str | None = None,
    control_number: int = 1,
    created: _dt.datetime | None = None,
    usage: str = "T",
) -> str:
    """Build an ASC X12 837P (005010X222A1) interchange for one claim.

    Parameters
    ----------
    claim
        The claim.
    sender_id, receiver_id
        ISA06/ISA08 and GS02/GS03 (2-15 characters); default the billing NPI and the
        payer id.
    control_number
        ISA13/IEA02, GS06/GE02 and ST02/SE02.
    created
        Creation time (ISA09/10, GS04/05, BHT04/05); default now (UTC).
    usage
        ISA15: ``T`` test or ``P`` production.

    Returns
    -------
    str
        The interchange, one segment per line, segments ending in ``~``.

    Raises
    ------
    CodingError
        The claim cannot be expressed as a valid 837P (x12sdk rejected a segment).
    """
    from pydantic import ValidationError

    g, _, _ = _sdk()

    created = created or _dt.datetime.now(_dt.UTC)
    sender = (sender_id or claim.billing_provider.npi).strip().upper()
    receiver = (receiver_id or claim.payer.payer_id).strip().upper()
    for label, value in (("sender_id", sender), ("receiver_id", receiver)):
        if not 2 <= len(value) <= 15:
            raise CodingError(f"837P {label} {value!r} must be 2-15 characters")
    if usage not in ("T", "P"):
        raise CodingError(f"837P usage indicator {usage!r} must be T (test) or P (production)")
    st_control = str(control_number).zfill(4)
    try:
        transaction = _transaction(claim, control_number=st_control, created=created)
        isa = g.IsaSegment(
            authorization_information_qualifier="00",
            authorization_information=" " * 10,
            security_information_qualifier="00",
            security_information=" " * 10,
            interchange_sender_qualifier="ZZ",
            interchange_sender_id=sender.ljust(15),
            interchange_receiver_qualifier="ZZ",
            interchange_receiver_id=receiver.ljust(15),
            interchange_date=created.strftime("%y%m%d"),
            interchange_time=created.strftime("%H%M"),
            repetition_separator="^",
            interchange_control_version_number="00501",
            interchange_control_number=str(control_number).zfill(9),
            acknowledgment_requested="0",
            interchange_usage_indicator=usage,
            component_element_separator=":",
        )
        gs = g.GsSegment(
            functional_identifier_code="HC",
            application_sender_code=sender,
            application_receiver_code=receiver,
            functional_group_creation_date=created.strftime("%Y%m%d"),
            functional_group_creation_time=created.strftime("%H%M"),
            group_control_number=str(control_number),
            responsible_agency_code="X",
            version_identifier_code=IMPLEMENTATION_GUIDE,
        )
        ge = g.GeSegment(
            number_of_transaction_sets_included=1, group_control_number=str(control_number)
        )
        iea = g.IeaSegment(
            number_of_included_functional_groups=1,
            interchange_control_number=str(control_number).zfill(9),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise CodingError(
            f"the claim cannot be written as an 837P: {where}: {first.get('msg')}",
            hint="check the claim fields named above",
        ) from exc
    return "\n".join([isa.x12(), gs.x12(), transaction.x12(), ge.x12(), iea.x12()]) + "\n"


def _collect(node: Any, where: list[str], out: list[str]) -> None:
    if isinstance(node, dict):
        here = list(where)
        if "seg_id" in node:
            here.append(f"line {node.get('cur_line')} segment {node['seg_id']}")
        elif "ele_pos" in node:
            here.append(f"element {node.get('ele_pos')} ({node.get('name')})")
        elif "trn_set_id" in node:
            here.append(f"transaction {node['trn_set_id']} {node.get('trn_set_control_num')}")
        elif "gs_control_num" in node:
            here.append(f"group {node['gs_control_num']}")
        elif "isa_trn_set_id" in node:
            here.append(f"interchange {node['isa_trn_set_id']}")
        for err in node.get("errors") or []:
            if isinstance(err, dict) and err.get("err_str"):
                prefix = ", ".join(here)
                code = err.get("err_cde")
                out.append(f"{prefix}: [{code}] {err['err_str']}" if prefix else err["err_str"])
        for key, value in node.items():
            if key != "errors" and isinstance(value, list | dict):
                _collect(value, here, out)
    elif isinstance(node, list):
        for item in node:
            _collect(item, where, out)


def validate_837p(text: str) -> list[str]:
    """Validate an X12 837P interchange with pyx12 (005010X222A1 map).

    Returns
    -------
    list of str
        Every error pyx12 reports (interchange, group, transaction, segment, element),
        each saying where (line, segment, element) and what; empty when valid.
    """
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    if not text or not text.lstrip().startswith("ISA"):
        return ["not an X12 interchange: the text does not start with an ISA segment"]
    fd_json = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, None, fd_json
        )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        return [f"pyx12 could not read the interchange: {exc}"]
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        return [f"pyx12 could not read the interchange: {type(exc).__name__}: {exc}"]
    errors: list[str] = []
    raw = fd_json.getvalue()
    if raw.strip():
        try:
            _collect(json.loads(raw), [], errors)
        except json.JSONDecodeError:
            errors.append("pyx12 produced an unreadable error report")
    if not ok and not errors:
        errors.append("pyx12 rejected the interchange without a detailed error")
    return errors
