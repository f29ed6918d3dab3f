"""An ADF 1.0 document (Auto-lead Data Format, XML) for one prospect, built with lxml and
checked against the ADF 1.0 DTD shipped beside this module (adf.dtd). No I/O but reading
the DTD once.

The document: `<?xml version="1.0" encoding="UTF-8"?>`, `<?ADF VERSION "1.0"?>`, then
`adf/prospect` with the lead's id, requestdate, vehicle, customer, vendor and provider.
The mapping from Forecourt's records is in docs/leads.md ("Delivery to the CRM (ADF)")."""

from __future__ import annotations

import functools
import re
from datetime import UTC
from importlib.resources import files
from typing import Any

from lxml import etree

from forecourt.core.crm.schemas import AdfContact, AdfVehicle, Prospect

SOURCE = "Forecourt"
# Characters XML 1.0 cannot carry (C0 controls but tab, line feed, carriage return; lone
# surrogates; U+FFFE, U+FFFF): dropped from free text rather than failing the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@functools.cache
def dtd() -> etree.DTD:
    with files("forecourt.core.crm").joinpath("adf.dtd").open("rb") as file:
        return etree.DTD(file)


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value)).strip()


def _add(parent: etree._Element, tag: str, value: object = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if value is not None:
        element.text = _text(value)
    return element


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _vehicle(prospect: etree._Element, vehicle: AdfVehicle) -> None:
    attributes = {"interest": vehicle.interest} | ({"status": vehicle.status} if vehicle.status else {})
    element = _add(prospect, "vehicle", **attributes)
    # year, make and model are required by the DTD: empty when not known.
    _add(element, "year", vehicle.year if vehicle.year is not None else "")
    _add(element, "make", vehicle.make or "")
    _add(element, "model", vehicle.model or "")
    for tag, value in (("vin", vehicle.vin), ("stock", vehicle.stock), ("trim", vehicle.trim)):
        if value:
            _add(element, tag, value)
    if vehicle.odometer is not None:
        _add(element, "odometer", vehicle.odometer, units="km")
    if vehicle.price is not None:
        price = {"type": vehicle.price_type} | ({"currency": vehicle.currency} if vehicle.currency else {})
        _add(element, "price", _number(vehicle.price), **price)
    if vehicle.comments:
        _add(element, "comments", vehicle.comments)


def _contact(parent: etree._Element, person: AdfContact) -> None:
    contact = _add(parent, "contact")
    kind = "business" if person.business else "individual"
    parts = [("first", person.first_name), ("last", person.last_name)]
    if not any(value for _, value in parts) or person.business:
        parts = [("full", person.full_name or " ".join(filter(None, (person.first_name, person.last_name))))]
    for part, value in parts:
        if value or part == "full":  # a contact needs a name: an empty full name when none is known
            _add(contact, "name", value or "", part=part, type=kind)
    if person.email:
        _add(contact, "email", person.email)
    if person.phone:
        _add(contact, "phone", person.phone, type="voice")
    if person.mobile:
        _add(contact, "phone", person.mobile, type="cellphone")


def document(prospect: Prospect) -> bytes:
    """The ADF document for `prospect`, UTF-8 encoded."""
    adf = etree.Element("adf")
    element = _add(adf, "prospect", status="new")
    _add(element, "id", prospect.lead_id, sequence="1", source=SOURCE)
    _add(element, "requestdate", prospect.requested_at.replace(tzinfo=UTC).isoformat(timespec="seconds"))
    _vehicle(element, prospect.vehicle)
    customer = _add(element, "customer")
    _contact(customer, prospect.customer)
    if prospect.customer_id is not None:
        source, reference = prospect.customer_id
        _add(customer, "id", reference, sequence="1", source=source)
    if prospect.customer_comments:
        _add(customer, "comments", prospect.customer_comments)
    vendor = _add(element, "vendor")
    _add(vendor, "vendorname", prospect.vendor_name)
    _contact(vendor, AdfContact(full_name=prospect.vendor_name, business=True))
    provider = _add(element, "provider")
    _add(provider, "name", SOURCE, part="full", type="business")
    _add(provider, "service", "Forecourt lead delivery")
    if prospect.provider_url:
        _add(provider, "url", prospect.provider_url)
    adf.addprevious(etree.ProcessingInstruction("ADF", 'VERSION "1.0"'))
    return bytes(etree.tostring(adf.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True))


def invalid(body: bytes) -> str | None:
    """Why `body` is not a valid ADF 1.0 document (the first error, naming elements, not
    values), or None when it is."""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return f"not well-formed XML (line {exc.lineno})"
    checker = dtd()
    if checker.validate(root):
        return None
    errors: Any = checker.error_log  # lxml-stubs leave the error log untyped
    first = errors[0]
    return f"line {first.line}: {first.message}"
