"""Kapture's wire shapes: lenient request fields read into the CRM's, and customers
written back in the vendor's shape (Java-style dates included)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypedDict

import msgspec

from forecourt.core.accounts.schemas import Account
from forecourt.core.contacts.schemas import Contact, PartyKind, PullQuery
from forecourt.kit.errors import Forbidden, InvalidInput
from forecourt.kit.text import check_no_nul, whole_number

MAX_LIMIT = 1000
ATTRIBUTES = tuple(f"attr{n}" for n in range(1, 16))
SOURCES = ("primarySourceId", "secondarySourceId", "tertiarySourceId")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # only that: fromisoformat also takes week dates

# --- reading -----------------------------------------------------------------------

# The bodies as the document describes them. Fields are read leniently (below): a number
# may come as JSON or as text, empty means not given, unknown keys are ignored.
Number = int | str | None
Text = str | int | float | None
Flag = bool | str | None


class PullBody(msgspec.Struct):
    cm_id: int | str
    createStartDate: Annotated[str, msgspec.Meta(description="YYYY-MM-DD")]
    createEndDate: Annotated[str, msgspec.Meta(description="YYYY-MM-DD, at most a day after the start")]
    limit: Number = None
    offset: Number = None
    name: Text = None
    phone: Text = None
    email: Text = None
    customer_id: Number = None
    customerCode: Text = None
    zoneIdStr: Annotated[Text, msgspec.Meta(description="Comma-separated ids")] = None
    zone_id: Number = None
    assignedToId: Number = None
    assignedToIdStr: Annotated[Text, msgspec.Meta(description="Comma-separated ids")] = None
    isOrganisation: Flag = None
    isIndividual: Flag = None
    isChannelPartner: Flag = None
    primarySourceId: Number = None
    secondarySourceId: Number = None
    tertiarySourceId: Number = None


class CustomerInfo(msgspec.Struct):
    customer_name: Text = None
    customer_id: Number = None
    update: Flag = None
    phone: Text = None
    email: Text = None
    website: Text = None
    address: Text = None
    city: Text = None
    state: Text = None
    country: Text = None
    pincode: Text = None
    remarks: Text = None
    customer_code: Text = None
    zone_id: Number = None
    assigned_to_id: Number = None
    is_organization: Flag = None
    is_channel_partner: Flag = None
    additional_fields: dict[str, Text] | None = None


class ContactInfo(msgspec.Struct):
    contact_person: Text = None
    phone: Text = None
    email: Text = None
    additional_phone: Text = None
    gender: Text = None
    designation: Text = None


class EnquiryInfo(msgspec.Struct):
    title: Text = None
    remarks: Text = None


class AddUpdateBody(msgspec.Struct):
    customer_info: CustomerInfo
    contact_info: list[ContactInfo] | None = None
    enquiry_info: EnquiryInfo | None = None


class CustomerAsked(msgspec.Struct):
    kapture_customer_id: Number = None
    email_id: Text = None
    phone: Text = None


FindBody = Annotated[list[CustomerAsked], msgspec.Meta(min_length=1)]


def _object(body: Any, name: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(name, f"{name} must be a JSON object")
    return body


def text(body: dict[str, Any], key: str, limit: int = 255) -> str | None:
    """A text field; empty means not given. Numbers are taken as their digits."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(key, f"{key} must be text")
    value = str(value).strip()
    if len(value) > limit:
        raise InvalidInput(key, f"{key} must be at most {limit} characters")
    check_no_nul(key, value)
    return value or None


def flag(body: dict[str, Any], key: str) -> bool | None:
    """true/false, as JSON or as text; empty means not given."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidInput(key, f"{key} must be true or false, got {value!r}")


def number(body: dict[str, Any], key: str) -> int | None:
    """A whole number, as JSON or as text; empty or 0 means not given (as the vendor's
    example sends 0 for the filters it does not use)."""
    value = body.get(key)
    if value is None or value == "" or value == 0:
        return None
    return whole_number(key, value) or None


def _numbers(body: dict[str, Any], first: str, then: str) -> tuple[int, ...]:
    """Ids from `first`, or when it is empty from `then`: one id, or several as a
    comma-separated text (`zoneIdStr`)."""
    for key in (first, then):
        if not key.endswith("Str"):
            one = number(body, key)
            if one is not None:
                return (one,)
            continue
        joined = text(body, key, 10_000)
        if joined:
            return tuple(whole_number(key, p) for p in joined.split(",") if p.strip())
    return ()


def _day(body: dict[str, Any], key: str) -> date:
    value = body.get(key)
    try:
        if not isinstance(value, str) or not _DAY.fullmatch(value.strip()):
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(key, f"{key} is required as a date YYYY-MM-DD, got {value!r}") from None


def _kind(body: dict[str, Any]) -> PartyKind | None:
    """The vendor's precedence: isIndividual counts only when isOrganisation is false,
    isChannelPartner only when isIndividual is false too."""
    if flag(body, "isOrganisation"):
        return "organisation"
    if flag(body, "isIndividual"):
        return "individual"
    if flag(body, "isChannelPartner"):
        return "channelPartner"
    return None


def pull_query(body: Any, account: Account) -> PullQuery:
    body = _object(body, "body")
    cm_id = number(body, "cm_id")
    if cm_id is None:
        raise InvalidInput("cm_id", "cm_id is required")
    if cm_id != account.cm_id:
        raise Forbidden(f"cm_id {cm_id} is not this account's")
    start, end = _day(body, "createStartDate"), _day(body, "createEndDate")
    if start > end:
        raise InvalidInput("createStartDate", "createStartDate must not be after createEndDate")
    if end - start > timedelta(days=1):
        raise InvalidInput(
            "createEndDate",
            "At most 24 hours can be pulled at once: createEndDate must be createStartDate or the next day",
        )
    limit, offset = number(body, "limit") or 100, number(body, "offset") or 0
    if limit > MAX_LIMIT:
        raise InvalidInput("limit", f"limit must be at most {MAX_LIMIT}")
    sources = tuple((key, n) for key in SOURCES if (n := number(body, key)) is not None)
    attributes = tuple((key, t) for key in ATTRIBUTES if (t := text(body, key)) is not None)
    return PullQuery(
        start=datetime.combine(start, datetime.min.time()),
        end=datetime.combine(end + timedelta(days=1), datetime.min.time()),
        name=text(body, "name"),
        phone=text(body, "phone"),
        email=text(body, "email"),
        party_id=number(body, "customer_id"),
        customer_code=text(body, "customerCode"),
        # The vendor's precedence: zone_id counts when zoneIdStr is empty, and
        # assignedToIdStr when assignedToId is.
        zone_ids=_numbers(body, "zoneIdStr", "zone_id"),
        assigned_to_ids=_numbers(body, "assignedToId", "assignedToIdStr"),
        kind=_kind(body),
        sources=sources,
        attributes=attributes,
        offset=offset,
        limit=limit,
    )


# Kapture customer_info keys -> the CRM's field names (shared with Autengo where they can be).
_CUSTOMER_TEXT = {
    "website": "website",
    "address": "streetAddress",
    "city": "city",
    "state": "state",
    "country": "country",
    "pincode": "zipCode",
    "remarks": "notes",
    "customer_code": "customerNumber",
}
_CUSTOMER_NUMBERS = {
    "zone_id": "zoneId",
    "assigned_to_id": "assignedToId",
    "primary_source_id": "primarySourceId",
    "secondary_source_id": "secondarySourceId",
    "tertiary_source_id": "tertiarySourceId",
}
_CONTACT_TEXT = {
    "contact_person": "contactPerson",
    "phone": "phone",
    "email": "email",
    "additional_phone": "additionalPhone",
    "gender": "gender",
    "designation": "designation",
}


def _contact_person(item: Any, where: str) -> dict[str, Any]:
    item = _object(item, where)
    person = {field: text(item, key) for key, field in _CONTACT_TEXT.items()}
    if person["email"] and "@" not in person["email"]:
        raise InvalidInput(f"{where}.email", f"{where}.email must be an email address")
    return {k: v for k, v in person.items() if v is not None}


def customer_fields(customer: dict[str, Any], contacts: list[Any]) -> dict[str, Any]:
    """The CRM fields an add-update sets (only those given)."""
    fields: dict[str, Any] = {"name": text(customer, "customer_name") or text(customer, "name")}
    fields |= {field: text(customer, key) for key, field in _CUSTOMER_TEXT.items()}
    fields |= {field: number(customer, key) for key, field in _CUSTOMER_NUMBERS.items()}
    extra = customer.get("additional_fields") or {}
    fields |= {
        key: text(customer, key) or text(_object(extra, "additional_fields"), key) for key in ATTRIBUTES
    }
    for key, field in (("is_organization", "isOrganisation"), ("is_channel_partner", "isChannelPartner")):
        fields[field] = flag(customer, key)
    if fields["isOrganisation"] is not None:
        fields["isPrivat"] = not fields["isOrganisation"]
    people = [_contact_person(item, f"contact_info[{i}]") for i, item in enumerate(contacts)]
    primary = people[0] if people else {}
    fields["phoneNumber"] = primary.get("phone") or text(customer, "phone")
    fields["email"] = (primary.get("email") or text(customer, "email") or "").lower() or None
    fields["phoneNumberMobile"] = primary.get("additionalPhone")
    fields["contactPerson"], fields["gender"] = primary.get("contactPerson"), primary.get("gender")
    if people[1:]:
        fields["contacts"] = people[1:]
    return {k: v for k, v in fields.items() if v is not None}


# --- writing -----------------------------------------------------------------------


# The answers as the document describes them: a customer's main keys (it has the vendor's
# ~50, see `customer` below).
class KaptureCustomer(TypedDict):
    id: int
    cmId: int
    name: str
    isOrganization: bool
    isChannelPartner: bool
    customerCode: str
    generationDate: str
    totalNoOfEnquiries: int
    contacts: list[dict[str, Any]]


class Pulled(TypedDict):
    message: list[KaptureCustomer]
    status: Literal["success"]


class Saved(TypedDict):
    message: str
    status: Literal["success"]
    customer_id: int
    enquiry_id: str | None


Found = TypedDict("Found", {"Customer Details": KaptureCustomer, "status": Literal["success"]})


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _generation_date(at: datetime) -> str:
    """`May 2, 2024 4:15:42 PM`, as the vendor's Java side prints a date: Babel's
    `MMM d, y h:mm:ss a` in English, spelt out (Babel took a quarter of a pull's time,
    parsing the locale and the pattern for each of its 100 customers)."""
    hour = at.hour % 12 or 12
    half = "AM" if at.hour < 12 else "PM"
    return f"{_MONTHS[at.month - 1]} {at.day}, {at.year} {hour}:{at.minute:02d}:{at.second:02d} {half}"


def _calendar(at: datetime) -> dict[str, int]:
    """A java.util.Calendar as Gson writes it: months counted from 0."""
    return {
        "year": at.year,
        "month": at.month - 1,
        "dayOfMonth": at.day,
        "hourOfDay": at.hour,
        "minute": at.minute,
        "second": at.second,
    }


def _contact(
    person: dict[str, Any], contact_id: int, account: Account, party: Contact, primary: bool
) -> dict[str, Any]:
    return {
        "id": contact_id,
        "cmId": account.cm_id,
        "leadId": party.id,
        "contactPerson": person.get("contactPerson") or party.fields.get("name") or "",
        "gender": person.get("gender") or " ",
        "phone": person.get("phone") or "",
        "additionalPhone": person.get("additionalPhone") or "",
        "email": person.get("email") or "",
        "isPrimaryContact": primary,
        "isActive": True,
        "generationDate": _calendar(party.created_at),
        "parentContactId": 0,
        "subOfficeId": 0,
        "creatorId": 0,
        "age": 0,
        "maritalStatus": " ",
        "isGuest": False,
        "phoneCountryCode": "",
        "enquiryId": 0,
        "orderId": 0,
        "isMergeEnable": False,
        "isMobileMasked": False,
        "isEmailMasked": False,
        "showBirthYear": False,
    }


def customer(party: Contact, account: Account, enquiries: int) -> dict[str, Any]:
    """A party in the vendor's customer shape; fields Forecourt does not keep have the
    vendor's empty values."""
    f = party.fields
    primary = {
        "contactPerson": f.get("contactPerson"),
        "gender": f.get("gender"),
        "phone": f.get("phoneNumber"),
        "email": f.get("email"),
        "additionalPhone": f.get("phoneNumberMobile"),
    }
    people = [primary, *f.get("contacts", [])]
    return {
        "id": party.id,
        "cmId": account.cm_id,
        "isOrganization": bool(f.get("isOrganisation")),
        "name": f.get("name") or "",
        "website": f.get("website") or "",
        "address": f.get("streetAddress") or " ",
        "state": f.get("state") or "",
        "city": f.get("city") or "",
        "country": f.get("country") or "",
        "latitude": "",
        "longitude": "",
        "currentStatus": "N",
        "generationDate": _generation_date(party.created_at),
        "creatorId": 0,
        "channelPartnerId": 0,
        "remarks": f.get("notes") or "",
        "ratePlanId": 0,
        "customerCode": f.get("customerNumber") or "",
        "isChannelPartner": bool(f.get("isChannelPartner")),
        "pinCode": f.get("zipCode") or "",
        "campaignId": 0,
        "campaignItemId": 0,
        "campaignActivityId": 0,
        "totalNoOfEnquiries": enquiries,
        "feedbackOnCustomer": "0",
        # Contact ids: the party's own for its primary contact, then one after another.
        "contacts": [
            _contact(person, party.id * 100 + i, account, party, primary=i == 0)
            for i, person in enumerate(people)
        ],
        "lastModificationTime": _calendar(party.updated_at),
        "imageReferenceId": f"CUS_{party.created_at.isoformat(sep=' ', timespec='milliseconds')}",
        "classification": "",
        "customerType": "",
        "customerLevel": 0,
        "zone": f.get("zoneId") or 0,
        "companyParentId": 0,
        "assignedToId": f.get("assignedToId") or 0,
        "maxCreditAmt": 0.0,
        "maxCreditPeriod": 0,
        "historyEmpId": 0,
        "channelPartnerEmpId": 0,
        "deleted": False,
        "companyStatus": "A",
        "isExistingCustomer": False,
        "isExistingContact": False,
        "syncStatus": False,
        "syncdLocationId": "0",
        "crossRemarks": "",
        "syncedStepNumber": 0,
        "outStandingAmount": 0.0,
        "salesAdminZone": 0,
        "referralId": 0,
        "isApi": False,
    }
