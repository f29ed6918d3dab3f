"""A CRM party as a contact: the fields, their limits and their order on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from forecourt.kit.errors import InvalidInput, NotFound

Text = Annotated[str, Meta(max_length=255)]
Short = Annotated[str, Meta(max_length=64)]
Zip = Annotated[str, Meta(max_length=16)]
LongText = Annotated[str, Meta(max_length=16_777_215)]
Email = Annotated[str, Meta(max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ContactNotFound(NotFound):
    pass


class IncompleteCustomer(InvalidInput):
    """A new customer without a name, or without a phone number and an email."""


class ContactFields(msgspec.Struct, rename="camel", omit_defaults=True):
    """The writable fields of a contact, as POST and PUT take them: each left out (kept
    on an update), null (cleared) or given. Unknown names (such as the `ID` of a
    contact read back) are ignored."""

    title: Literal["Mr", "Mrs"] | UnsetType | None = UNSET
    first_name: Text | UnsetType | None = UNSET
    last_name: Text | UnsetType | None = UNSET
    street_address: Text | UnsetType | None = UNSET
    zip_code: Zip | UnsetType | None = UNSET
    city: Text | UnsetType | None = UNSET
    phone_number: Short | UnsetType | None = UNSET
    phone_number_mobile: Short | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    fax_number: Annotated[int, Meta(ge=0)] | Short | UnsetType | None = UNSET
    website: Text | UnsetType | None = UNSET
    source: (
        Literal["walkIn", "mail", "platform", "phone", "offlineMarketing", "onlineMarketing"]
        | UnsetType
        | None
    ) = UNSET
    customer_rating: Annotated[int, Meta(ge=1, le=5)] | UnsetType | None = UNSET
    is_privat: bool | UnsetType | None = UNSET
    is_opt_in: bool | UnsetType | None = UNSET
    date_of_birth: date | UnsetType | None = UNSET
    license_plate: Short | UnsetType | None = UNSET
    facebook: Text | UnsetType | None = UNSET
    linkedin: Text | UnsetType | None = UNSET
    xing: Text | UnsetType | None = UNSET
    key_account: Text | UnsetType | None = UNSET
    phone_number_business: Short | UnsetType | None = UNSET
    phone_number_business_mobile: Short | UnsetType | None = UNSET
    fax_number_business: Short | UnsetType | None = UNSET
    contact_person_business: Text | UnsetType | None = UNSET
    website_business: Text | UnsetType | None = UNSET
    email_business: Email | UnsetType | None = UNSET
    ust_id: Short | UnsetType | None = UNSET
    billing_street_address: Text | UnsetType | None = UNSET
    billing_zip_code: Zip | UnsetType | None = UNSET
    billing_city: Text | UnsetType | None = UNSET
    title_or_degree: Short | UnsetType | None = UNSET
    type: Literal["customer", "supplier", "partner", "prospect"] | UnsetType | None = UNSET
    position: Short | UnsetType | None = UNSET
    country: Short | UnsetType | None = UNSET
    billing_country: Short | UnsetType | None = UNSET
    tax_id: Short | UnsetType | None = UNSET
    iban: Short | UnsetType | None = UNSET
    bic: Short | UnsetType | None = UNSET
    sales_tax_regulation: Literal["reverseCharge", "taxless", "withTax"] | UnsetType | None = UNSET
    notes: LongText | UnsetType | None = UNSET
    customer_number: Short | UnsetType | None = UNSET
    driver_license_number: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    driver_license_issued_by: Text | UnsetType | None = UNSET
    driver_license_date_of_issue: date | UnsetType | None = UNSET
    tecfactura_id: Short | UnsetType | None = UNSET


# The wire names in the vendor's order, after `ID`.
FIELD_NAMES: tuple[str, ...] = tuple(f.encode_name for f in msgspec.structs.fields(ContactFields))


class Contact(msgspec.Struct, frozen=True):
    id: int
    fields: dict[str, Any]  # wire name -> JSON value, only those known
    created_at: datetime
    updated_at: datetime


PartyKind = Literal["organisation", "individual", "channelPartner"]


class Enquiry(msgspec.Struct, frozen=True):
    """What a customer asked about, as a CRM sends it with the customer: becomes a lead."""

    title: str | None = None
    remarks: str | None = None


class PullQuery(msgspec.Struct, frozen=True):
    """Parties created in [start, end), with optional filters (None or empty: no filter)."""

    start: datetime
    end: datetime
    name: str | None = None  # contained in the name, ignoring case
    phone: str | None = None
    email: str | None = None
    party_id: int | None = None
    customer_code: str | None = None
    zone_ids: tuple[int, ...] = ()
    assigned_to_ids: tuple[int, ...] = ()
    kind: PartyKind | None = None
    sources: tuple[tuple[str, int], ...] = ()  # (primarySourceId, 3), ...
    attributes: tuple[tuple[str, str], ...] = ()  # (attr1, "gold"), ...
    offset: int = 0
    limit: int = 100


class PartyLead(msgspec.Struct, frozen=True):
    """A lead of a party, as the party's page lists it."""

    id: UUID
    origin: str
    status: str
    created_at: datetime
    message: str | None
