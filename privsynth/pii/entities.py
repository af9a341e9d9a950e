"""Entity types privsynth detects, and the HIPAA Safe Harbor identifier each maps to.

Names follow Presidio where Presidio has the entity, so its recognizers plug in
unchanged; health identifiers Presidio lacks are ours. The HIPAA mapping (45 CFR
164.514(b)(2)(i)(A)-(R)) drives Safe Harbor mode and the residual-PII report.
"""

from __future__ import annotations

from typing import Final

PERSON: Final = "PERSON"
LOCATION: Final = "LOCATION"  # cities, counties, countries, facilities' towns
STREET_ADDRESS: Final = "STREET_ADDRESS"
US_ZIP_CODE: Final = "US_ZIP_CODE"
ORGANIZATION: Final = "ORGANIZATION"
FACILITY: Final = "FACILITY"  # hospitals, clinics, medical centers
DATE_TIME: Final = "DATE_TIME"
AGE: Final = "AGE"  # any age; Safe Harbor generalises only ages over 89
PHONE_NUMBER: Final = "PHONE_NUMBER"
EMAIL_ADDRESS: Final = "EMAIL_ADDRESS"
URL: Final = "URL"
IP_ADDRESS: Final = "IP_ADDRESS"
US_SSN: Final = "US_SSN"
MEDICAL_RECORD_NUMBER: Final = "MEDICAL_RECORD_NUMBER"
HEALTH_PLAN_NUMBER: Final = "HEALTH_PLAN_NUMBER"
ACCOUNT_NUMBER: Final = "ACCOUNT_NUMBER"
NPI: Final = "NPI"  # National Provider Identifier
DEA_NUMBER: Final = "DEA_NUMBER"
US_DRIVER_LICENSE: Final = "US_DRIVER_LICENSE"
US_PASSPORT: Final = "US_PASSPORT"
CREDIT_CARD: Final = "CREDIT_CARD"
IBAN_CODE: Final = "IBAN_CODE"
US_BANK_NUMBER: Final = "US_BANK_NUMBER"
DEVICE_ID: Final = "DEVICE_ID"
NRP: Final = "NRP"  # nationality, religious or political group (quasi-identifier)
OCCUPATION: Final = "OCCUPATION"  # job titles (quasi-identifier, not a HIPAA identifier)

#: HIPAA Safe Harbor identifier (letter of 164.514(b)(2)(i)) for each entity
HIPAA_IDENTIFIER: Final[dict[str, str]] = {
    PERSON: "A names",
    LOCATION: "B geographic subdivisions smaller than a state",
    STREET_ADDRESS: "B geographic subdivisions smaller than a state",
    US_ZIP_CODE: "B geographic subdivisions smaller than a state",
    FACILITY: "B geographic subdivisions smaller than a state",
    DATE_TIME: "C dates (except year) and ages over 89",
    AGE: "C dates (except year) and ages over 89",
    PHONE_NUMBER: "D telephone numbers",
    EMAIL_ADDRESS: "F electronic mail addresses",
    US_SSN: "G social security numbers",
    MEDICAL_RECORD_NUMBER: "H medical record numbers",
    HEALTH_PLAN_NUMBER: "I health plan beneficiary numbers",
    ACCOUNT_NUMBER: "J account numbers",
    CREDIT_CARD: "J account numbers",
    IBAN_CODE: "J account numbers",
    US_BANK_NUMBER: "J account numbers",
    US_DRIVER_LICENSE: "K certificate/license numbers",
    US_PASSPORT: "K certificate/license numbers",
    NPI: "K certificate/license numbers",
    DEA_NUMBER: "K certificate/license numbers",
    DEVICE_ID: "M device identifiers and serial numbers",
    URL: "N web universal resource locators",
    IP_ADDRESS: "O internet protocol addresses",
}

#: every entity the default detector looks for
DEFAULT_ENTITIES: Final[tuple[str, ...]] = (*HIPAA_IDENTIFIER, ORGANIZATION, NRP, OCCUPATION)
