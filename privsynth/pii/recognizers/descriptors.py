"""Words that describe a person: job titles and nationality, religion or politics.

* :class:`OccupationRecognizer` -- a job title ("Laboratory animal technician",
  "Cinematographer", "sewer pipe cleaner") where the sentence makes it someone's
  job: after "as" ("I worked there as Midwife", "works as a nurse"), after "is a"
  ("she is a retired carpenter"; not "a poor historian"), in apposition
  ("Jane Doe, the Technical writer, said"), after an "Occupation:"-type label, or
  right after a capitalised name on the same line ("Thomas Svendsen Assistant
  property manager"). A job title is reported as part of the person it describes
  (PERSON): with a name or an employer it narrows who is meant. A bare occupation
  word elsewhere ("the nurse", "a teacher at school") is never taken.
* :class:`NrpRecognizer` -- nationality, religion and political adjectives and
  nouns ("Greenlander", "American food", "Muslim", "Republican"), capitalised or,
  in a text written all in lower case, as they come. A language is not a
  nationality: "speaks Spanish", "English and journalism", "Spanish-speaking" and
  "a French interpreter" are left out.

The word lists are written for privsynth from general knowledge.
"""

from __future__ import annotations

from typing import ClassVar, Final

from presidio_analyzer import EntityRecognizer, RecognizerResult

from privsynth.pii import entities
from privsynth.pii.recognizers._base import (
    ContextRecognizer,
    alternation,
    compile_pattern,
    make_result,
    words,
)
from privsynth.pii.recognizers._lexicon import name_lexicon
from privsynth.pii.recognizers.gazetteer import is_english_word

ORGANIZATION: Final = entities.ORGANIZATION

# ------------------------------------------------------------------- occupations

#: head nouns of job titles (the last word: "Biomedical engineer", "Midwife")
OCCUPATION_HEADS: Final[tuple[str, ...]] = words(
    """
    accountant actor actress actuary adjuster administrator adviser advisor agent analyst
    announcer animator archaeologist architect archivist artist assessor assistant
    astronomer attendant attorney auditor author baker banker barber barista barrister
    bartender biologist bookkeeper breeder broker builder butcher buyer captain caretaker
    carpenter cartographer cashier caterer chef chemist choreographer cinematographer
    cleaner clerk coach collector columnist commentator composer conductor conservator
    consultant controller cook coordinator copywriter correspondent counsellor counselor
    courier craftsman curator dancer decorator dentist designer detective developer
    dietitian dietician director dispatcher diver doctor draughtsman draftsman driver
    economist editor educator electrician embalmer engineer engraver entrepreneur
    estimator examiner executive farmer firefighter fisherman fitter florist forester
    gardener geologist geographer glazier guard guide hairdresser handler historian
    housekeeper hygienist illustrator inspector installer instructor interpreter
    investigator janitor jeweller jeweler journalist judge labourer laborer landscaper
    lawyer lecturer librarian lifeguard linguist locksmith machinist magistrate maker
    manager marketer mason mathematician mechanic merchandiser meteorologist midwife
    miner minister musician nanny navigator negotiator nurse nutritionist officer
    operator optician optometrist organiser organizer painter paralegal paramedic
    pharmacist philosopher photographer physicist physician physiotherapist pilot planner
    plasterer plumber poet policeman policewoman porter postman practitioner presenter
    printer producer professor programmer proofreader psychologist psychiatrist
    psychotherapist publisher purchaser radiographer receptionist recruiter referee
    reporter representative researcher roofer sailor salesman saleswoman salesperson
    scientist sculptor secretary singer sociologist soldier solicitor sonographer
    specialist statistician steward stewardess stockbroker student supervisor surgeon
    surveyor tailor teacher technician technologist teller tester therapist trader
    trainer translator treasurer tutor typist underwriter upholsterer valuer vet
    veterinarian waiter waitress warden weaver welder worker writer zoologist
    """
)
_HEAD = (
    alternation(OCCUPATION_HEADS) + r"|\p{L}+(?:ographer|ologist|ician|iatrist|therapist|ometrist)"
)
_NOT_MODIFIER: Final = frozenset(
    words(
        """
        a an the my his her their our your its this that as at for of in on to with and or
        but was were is am are be been being i he she we they you it who which what when
        from by into than then so if also now not no
        """
    )
)
# a word of a job title before its head: "Biomedical", "X-ray", "property", "Leasing"
_MODIFIER = (
    rf"(?!(?i:{alternation(_NOT_MODIFIER)})(?![\p{{L}}'’-]))\p{{L}}[\p{{L}}'’]*(?:-\p{{L}}+)*"
)
_TITLE_PHRASE = rf"(?:{_MODIFIER}[ \t]+){{0,3}}(?i:{_HEAD})s?"
_OCC_END = r"(?![\p{L}\d-])"
# "as Midwife", "worked as a nurse", "works as an X-ray technician"
_AS_RE = compile_pattern(rf"\b(?i:as)[ \t]+(?:(?i:a|an)[ \t]+)?\K{_TITLE_PHRASE}{_OCC_END}")
# "she is a retired carpenter", "I'm a Technical writer", "he became an Echocardiographer"
_PREDICATE_RE = compile_pattern(
    r"\b(?i:is|was|am|are|were|be|been|became|become|becomes|becoming|being|i['’]m)[ \t]+"
    rf"(?i:a|an)[ \t]+\K{_TITLE_PHRASE}{_OCC_END}"
)
# a patient's reliability as a source, not a job: "is a poor historian"
_NOT_A_JOB_RE = compile_pattern(
    r"(?i:(?:poor|good|fair|reliable|unreliable|limited|adequate|excellent|accurate"
    r"|inaccurate|vague|questionable)[ \t]+historian)"
)
# "Jane Doe, the Technical writer, said"
_APPOSITION_RE = compile_pattern(
    rf"\p{{L}},[ \t]+(?i:the|a|an|our|their|my)[ \t]+\K{_TITLE_PHRASE}{_OCC_END}(?=[ \t]*[,;)])"
)
# "Occupation: Dairy scientist", "Job title - Leasing consultant"
_LABEL_RE = compile_pattern(
    r"\b(?i:occupation|profession|job[ \t]+title|job|position|employment|title)[ \t]*[:=-][ \t]*"
    rf"\K{_TITLE_PHRASE}{_OCC_END}"
)
# "Thomas Svendsen Assistant property manager": right after a capitalised name
_AFTER_NAME_RE = compile_pattern(
    rf"(?<=\p{{Lu}}\p{{Ll}}+[ \t]{{1,3}})\p{{Lu}}(?:\p{{Ll}}[\p{{L}}'’]*(?:-\p{{L}}+)*)?"
    rf"(?:[ \t]+\p{{Ll}}[\p{{L}}'’]*(?:-\p{{L}}+)*){{0,3}}{_OCC_END}"
)
# a signature block or business card: "Jane Doe\nLeasing consultant\nAcme\n1 Main St"
_TITLE_LINE_RE = compile_pattern(
    r"(?<=^[ \t]*\p{Lu}[^\n\d]{1,60}\n)[ \t]*\K\p{Lu}(?:\p{Ll}[\p{L}'’]*(?:-\p{L}+)*)?"
    r"(?:[ \t]+\p{Ll}[\p{L}'’]*(?:-\p{L}+)*){0,3}[ \t]*$"
)
_EMPLOYER_LINE_RE = compile_pattern(
    r"\n[ \t]*\K\p{Lu}[\p{L}&'’.-]*(?:[ \t]+(?:&|and|of)?[ \t]*\p{Lu}[\p{L}&'’.-]*){0,3}[ \t]*$"
)
#: the patterns whose cue (not the words) makes a phrase someone's job, and why
_CUED_PATTERNS: Final = (
    (_AS_RE, "as_occupation"),
    (_PREDICATE_RE, "predicate"),
    (_APPOSITION_RE, "apposition"),
    (_LABEL_RE, "occupation_label"),
)
_HEAD_WORDS: Final = frozenset(OCCUPATION_HEADS)
#: endings that make a word a profession on their own ("Echocardiographer")
_HEAD_SUFFIXES: Final = ("ographer", "ologist", "ician", "iatrist", "therapist", "ometrist")


def _is_head(word: str) -> bool:
    key = word.lower().removesuffix("s")
    return key in _HEAD_WORDS or key.endswith(_HEAD_SUFFIXES)


class OccupationRecognizer(ContextRecognizer):
    """Job titles where the sentence makes them someone's job (module docstring)."""

    ENTITY: ClassVar[str] = entities.OCCUPATION
    SCORE: ClassVar[float] = 0.55

    EXTRA_ENTITIES: ClassVar[tuple[str, ...]] = (ORGANIZATION,)

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Job titles of ``text``."""
        results = []
        for pattern, reason in _CUED_PATTERNS:
            for match in pattern.finditer(text):
                if _NOT_A_JOB_RE.fullmatch(match.group()):
                    continue
                span = _trim_modifiers(text, match.start(), match.end())
                if span is not None:
                    results.append(make_result(self, *span, self.SCORE, reason))
        for match in _AFTER_NAME_RE.finditer(text):
            last = match.group().split()[-1]
            name = text[text.rfind(" ", 0, match.start() - 1) + 1 : match.start()].strip()
            if _is_head(last) and (not is_english_word(name) or name_lexicon().is_last(name)):
                results.append(
                    make_result(self, match.start(), match.end(), self.SCORE, "after_name")
                )
        for match in _TITLE_LINE_RE.finditer(text):
            if _is_head(match.group().split()[-1]):
                start, end = match.span()
                results.append(make_result(self, start, end, self.SCORE, "title_line"))
                employer = _EMPLOYER_LINE_RE.match(text, end)
                if employer is not None and ORGANIZATION in (entities or [ORGANIZATION]):
                    start, end = employer.span()
                    company = make_result(self, start, end, self.SCORE, "employer_line")
                    company.entity_type = ORGANIZATION
                    results.append(company)
        deduplicated: list[RecognizerResult] = EntityRecognizer.remove_duplicates(results)
        return deduplicated


def is_occupation(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a job title that the recognizer would report
    (the filters keep the NER model's PERSON spans that are one)."""
    window = max(0, start - 80)
    for pattern in (*(p for p, _ in _CUED_PATTERNS), _TITLE_LINE_RE):
        for match in pattern.finditer(text, window, min(len(text), end + 40)):
            if match.start() <= start and end <= match.end():
                return True
    return False


def _trim_modifiers(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The title without leading function words ("as a nurse" -> "nurse")."""
    for word in text[start:end].split():
        if word.lower() not in _NOT_MODIFIER:
            return text.index(word, start), end
    return None


# ---------------------------------------------------------------------------- NRP

#: nationalities and peoples (adjectives and nouns), religions, political groups
NRP_WORDS: Final[tuple[str, ...]] = words(
    """
    Afghan Albanian Algerian American Andorran Angolan Argentine Argentinian Armenian
    Australian Austrian Azerbaijani Bahraini Bangladeshi Barbadian Belarusian Belgian
    Belizean Beninese Bhutanese Bolivian Bosnian Botswanan Brazilian British Briton
    Bruneian Bulgarian Burmese Burundian Cambodian Cameroonian Canadian Chadian Chilean
    Chinese Colombian Congolese Croatian Cuban Cypriot Czech Danish Dane Djiboutian
    Dominican Dutch Ecuadorian Egyptian Emirati English Eritrean Estonian Ethiopian Fijian
    Filipino Finnish Finn French Gabonese Gambian Georgian German Ghanaian Greek
    Greenlander Greenlandic Grenadian Guatemalan Guinean Guyanese Haitian Honduran
    Hungarian Icelandic Icelander Indian Indonesian Iranian Iraqi Irish Israeli Italian
    Ivorian Jamaican Japanese Jordanian Kazakh Kenyan Korean Kosovar Kuwaiti Kyrgyz Lao
    Laotian Latvian Lebanese Liberian Libyan Lithuanian Luxembourgish Macedonian Malagasy
    Malawian Malaysian Maldivian Malian Maltese Mauritanian Mauritian Mexican Moldovan
    Monegasque Mongolian Montenegrin Moroccan Mozambican Namibian Nepalese Nepali
    Nicaraguan Nigerian Nigerien Norwegian Omani Pakistani Palestinian Panamanian
    Paraguayan Persian Peruvian Polish Pole Portuguese Qatari Romanian Russian Rwandan
    Salvadoran Samoan Saudi Scottish Scot Senegalese Serbian Serb Leonean
    Singaporean Slovak Slovakian Slovenian Slovene Somali Sudanese Spanish Spaniard
    Lankan Surinamese Swazi Swedish Swede Swiss Syrian Taiwanese Tajik Tanzanian Thai
    Tibetan Togolese Tongan Trinidadian Tunisian Turkish Turk Turkmen Ugandan Ukrainian
    Uruguayan Uzbek Venezuelan Vietnamese Welsh Yemeni Zambian Zimbabwean
    Basque Catalan Flemish Walloon Kurdish Kurd Bavarian Sicilian Corsican Faroese
    Sami Roma Romani Inuit Maori Aboriginal Cherokee Navajo Sioux Apache Hopi
    Scandinavian European Asian African Arab Arabian Latin Latino Latina Hispanic
    Caribbean Balkan Slavic Nordic Baltic Persian Celtic Anglo-Saxon Mediterranean
    Christian Christians Catholic Protestant Orthodox Anglican Lutheran Methodist Baptist
    Presbyterian Evangelical Pentecostal Mormon Quaker Amish Mennonite Adventist
    Muslim Moslem Islamic Sunni Shia Shiite Jewish Jew Hindu Sikh Buddhist Jain Taoist
    Confucian Bahai Zoroastrian Pagan Wiccan Atheist Agnostic Rastafarian
    Democrat Democratic Republican Conservative Liberal Labour Socialist Communist
    Marxist Libertarian Green Tory Whig Nationalist Fascist Anarchist Unionist
    Loyalist Separatist Federalist Maoist Leninist Trotskyist Zionist
    """
)
# words that are also ordinary words or race terms: only "NRP" in a phrase like "X food"
_AMBIGUOUS_NRP: Final = frozenset(
    words(
        """
        Democratic Conservative Liberal Labour Green Orthodox Baptist Roma Latin Pole Scot
        Turk Finn Dane Swede Polish Catholic Christian Evangelical Unionist Nationalist
        Asian African Arab Arabian Hispanic Latino Latina Mediterranean European Caribbean
        Aboriginal
        """
    )
)
_NRP_KEYS: Final = frozenset(w.lower() for w in NRP_WORDS)
_PLURAL = r"(?:s|es)?"
_NRP_WORD = rf"(?:{alternation(w for w in NRP_WORDS if ' ' not in w)}){_PLURAL}"
_NRP_RE = compile_pattern(rf"(?<![\p{{L}}\d'’-])(?-i:{_NRP_WORD})(?![\p{{L}}\d'’-])")
_NRP_LOWER_RE = compile_pattern(rf"(?<![\p{{L}}\d'’-])(?i:{_NRP_WORD})(?![\p{{L}}\d'’-])")
# a language, not a people: "speaks Spanish", "English and journalism", "in French"
_LANGUAGE_BEFORE_RE = compile_pattern(
    r"(?i:\b(?:speaks?|spoke|speaking|spoken|studying|studied|study|studies|learning|learn"
    r"|learned|learnt|teaches|teaching|taught|fluent[ \t]+in|in|into|from|translated"
    r"|translate|native|read|reads|write|writes|writing|understands?|only|and|or|english,)"
    r")[ \t]+\Z"
)
_LANGUAGE_AFTER_RE = compile_pattern(
    r"(?i:[ \t]*-?[ \t]*(?:speaking|speaker|speakers|language|languages|interpreter|translator"
    r"|translation|literature|class|classes|course|lessons?|teacher|grammar|subtitles"
    r"|and[ \t]+journalism|version|dictionary|only)\b)"
)
_LANGUAGES: Final = frozenset(
    words(
        """
        english french german spanish italian portuguese russian chinese japanese korean
        arabic dutch polish greek turkish swedish norwegian danish finnish hungarian czech
        hindi urdu hebrew persian thai vietnamese romanian ukrainian icelandic welsh irish
        catalan basque bulgarian serbian croatian slovak slovenian estonian latvian
        lithuanian albanian indonesian malay tagalog somali swahili latin
        """
    )
)


def is_nrp_word(word: str) -> bool:
    """Whether ``word`` (any case, a plural allowed) is a nationality, religion or
    political group in the list above."""
    key = word.strip(".,;:'’\"()").lower()
    return key in _NRP_KEYS or key.rstrip("s") in _NRP_KEYS or key[:-2] in _NRP_KEYS


class NrpRecognizer(ContextRecognizer):
    """Nationality, religion and political group words (module docstring)."""

    ENTITY: ClassVar[str] = entities.NRP
    SCORE: ClassVar[float] = 0.6
    AMBIGUOUS_SCORE: ClassVar[float] = 0.3

    CONTEXT: ClassVar[tuple[str, ...]] = (
        "nationality",
        "religion",
        "citizen",
        "ethnicity",
        "party",
        "food",
        "cuisine",
    )

    def find(self, text: str, entities: list[str]) -> list[RecognizerResult]:
        """Nationality, religion and political words of ``text``."""
        lower_text = not any(c.isupper() for c in text)
        results = []
        for match in (_NRP_LOWER_RE if lower_text else _NRP_RE).finditer(text):
            word = match.group()
            start, end = match.span()
            if word.lower() in _LANGUAGES and self._language(text, start, end):
                continue
            base = word if word in NRP_WORDS else word.rstrip("s")
            ambiguous = base.title() in _AMBIGUOUS_NRP or base in _AMBIGUOUS_NRP
            score = self.AMBIGUOUS_SCORE if ambiguous else self.SCORE
            results.append(make_result(self, start, end, score, "nrp_word"))
        return results

    @staticmethod
    def _language(text: str, start: int, end: int) -> bool:
        """Whether the word at ``start:end`` names a language, not a people."""
        window = max(text.rfind("\n", 0, start) + 1, start - 30)
        return bool(
            _LANGUAGE_BEFORE_RE.search(text, window, start) or _LANGUAGE_AFTER_RE.match(text, end)
        )
