"""Phone numbers as people write them, made E.164 (how the bridge and every stored number spell
them) by Google's libphonenumber (the `phonenumbers` package), never by hand."""

from __future__ import annotations

import re

import phonenumbers

# ISO 3166 alpha-2, as libphonenumber names regions ("DE", "PT").
REGION = re.compile(r"^[A-Z]{2}$")


class NotAPhoneNumber(ValueError):
    """The text is no phone number, with the reason a manager reads."""


def to_e164(text: str, region: str | None = None) -> str:
    """`text` as E.164 (`+4915112345678`). A number without its country code needs `region`
    (the country it is written for: "0151 1234567" in "DE"). A number of a length no country
    has is refused; one that merely is not assigned yet is not (a new range, a test number)."""
    if region is not None and (not REGION.match(region) or
                               region not in phonenumbers.SUPPORTED_REGIONS):  # fmt: skip
        raise NotAPhoneNumber(f"{region} is not a country code such as DE or PT")
    if len(text) > 40:
        raise NotAPhoneNumber("too long for a phone number")
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix most countries dial
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        if region is None and not text.startswith("+"):
            raise NotAPhoneNumber(
                "needs its country code (+49 …), or a country for the file"
            ) from None
        raise NotAPhoneNumber("not a phone number") from None
    # Six digits after the country code at least: shorter ones are extensions or service codes.
    if not phonenumbers.is_possible_number(number) or len(str(number.national_number)) < 6:
        raise NotAPhoneNumber("not a possible phone number (too short or too long)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
