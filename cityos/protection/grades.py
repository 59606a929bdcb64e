"""Suggested grades (GB/T 43697-2024) for the types the detectors find: one table to review.

GB/T 43697-2024 has three levels, 核心数据 > 重要数据 > 一般数据. Splitting 一般数据 into four
sub-levels is common practice in local rules (STANDARDS.md marks it unverified), and CityOS uses
it so that personal information is not graded like open statistics:

=========  ============================================================================
grade      meaning in CityOS
=========  ============================================================================
核心       core data; never suggested by the scan (a decision of the data security body)
重要       important data; here also **sensitive personal information** (PIPL Art. 28:
           specific identity – 身份证/护照/通行证 – and financial accounts – bank cards)
一般-4     personal information that identifies, contacts or locates a person directly
           (mobile numbers, home addresses)
一般-3     other personal information (names, e-mail addresses, licence plates)
一般-2     internal data with no personal information (not suggested by a scan)
一般-1     public data, e.g. organisations' 统一社会信用代码; the baseline of a column in which
           nothing was found
=========  ============================================================================

Putting sensitive personal information at 重要 is CityOS' deliberate, stricter-than-minimum
choice for a government data bureau; a reviewer changes ``TYPE_GRADES`` below to change it.
The scan sees identifiers and personal information only: business attributes (the field and
the scale of the data) can raise a grade, never lower it below the suggestion.

The resource-level suggestion is the highest column grade, raised to 一般-4 when a name appears
next to a way to reach the person (``IDENTIFYING_COMBINATIONS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cityos.core.i18n import gettext, lazy

# lowest first
GRADES = ("一般-1", "一般-2", "一般-3", "一般-4", "重要", "核心")
BASELINE_GRADE = "一般-1"
_ORDER = {g: i for i, g in enumerate(GRADES)}

# personal categories, with the ids of cityos.catalog.models.SENSITIVITIES
SENSITIVE_PERSONAL = "sensitive_personal"
PERSONAL = "personal"


@dataclass(frozen=True, slots=True)
class TypeGrade:
    grade: str
    personal_category: str | None  # "sensitive_personal", "personal" or None (not personal)
    reason: str  # English message id, translated when shown


TYPE_GRADES: dict[str, TypeGrade] = {
    "id_card": TypeGrade("重要", SENSITIVE_PERSONAL, lazy("Specific identity (PIPL Art. 28)")),
    "passport": TypeGrade("重要", SENSITIVE_PERSONAL, lazy("Specific identity (PIPL Art. 28)")),
    "permit": TypeGrade("重要", SENSITIVE_PERSONAL, lazy("Specific identity (PIPL Art. 28)")),
    "bank_card": TypeGrade("重要", SENSITIVE_PERSONAL, lazy("Financial account (PIPL Art. 28)")),
    "mobile": TypeGrade("一般-4", PERSONAL, lazy("Contacts a person directly")),
    "address": TypeGrade("一般-4", PERSONAL, lazy("Locates a person's home")),
    "name": TypeGrade("一般-3", PERSONAL, lazy("Personal information")),
    "email": TypeGrade("一般-3", PERSONAL, lazy("Personal information")),
    "plate": TypeGrade("一般-3", PERSONAL, lazy("Personal information (vehicle)")),
    "uscc": TypeGrade("一般-1", None, lazy("Public organisation registration data")),
}

# (all of these, and any of those, at least this grade): a name next to a way to reach the
# person identifies and reaches them
IDENTIFYING_COMBINATIONS: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (frozenset({"name"}), frozenset({"mobile", "address", "email", "plate"}), "一般-4"),
)

GRADE_LABELS = {
    "核心": lazy("Core data"),
    "重要": lazy("Important data"),
    "一般-4": lazy("General data, level 4 (personal, directly identifying)"),
    "一般-3": lazy("General data, level 3 (personal)"),
    "一般-2": lazy("General data, level 2 (internal)"),
    "一般-1": lazy("General data, level 1 (public)"),
}
CATEGORY_LABELS = {
    SENSITIVE_PERSONAL: lazy("Sensitive personal information"),
    PERSONAL: lazy("Personal information"),
}
TYPE_LABELS = {
    "id_card": lazy("Resident ID card number"),
    "uscc": lazy("Unified social credit code"),
    "bank_card": lazy("Bank card number"),
    "mobile": lazy("Mobile phone number"),
    "email": lazy("E-mail address"),
    "plate": lazy("Licence plate"),
    "passport": lazy("Passport number"),
    "permit": lazy("Travel permit number"),
    "name": lazy("Personal name"),
    "address": lazy("Address"),
}


def grade_rank(grade: str) -> int:
    return _ORDER[grade]


def max_grade(grades: Iterable[str]) -> str:
    return max(grades, key=grade_rank, default=BASELINE_GRADE)


def grade_for_types(types: Iterable[str]) -> tuple[str, str | None]:
    """Suggested grade and personal category of a column holding these types."""
    entries = [TYPE_GRADES[kind] for kind in types]
    grade = max_grade(e.grade for e in entries)
    categories = {e.personal_category for e in entries}
    for category in (SENSITIVE_PERSONAL, PERSONAL):
        if category in categories:
            return grade, category
    return grade, None


def resource_grade(column_grades: Iterable[str], types: Iterable[str]) -> str:
    """The resource's suggestion: the highest column grade, raised when the columns together
    identify and reach a person (a name next to a phone number, address, e-mail or plate)."""
    grade = max_grade(column_grades)
    present = set(types)
    for all_of, any_of, floor in IDENTIFYING_COMBINATIONS:
        if all_of <= present and present & any_of and grade_rank(floor) > grade_rank(grade):
            grade = floor
    return grade


def grade_label(grade: str) -> str:
    return gettext(GRADE_LABELS[grade])


def type_label(kind: str) -> str:
    return gettext(TYPE_LABELS[kind])


def category_label(category: str | None) -> str:
    return gettext(CATEGORY_LABELS[category]) if category else ""


GENERAL_TYPE_LABELS = {
    "date": lazy("Date"),
    "datetime": lazy("Date and time"),
    "age": lazy("Age"),
    "point": lazy("Location (point)"),
}


def pi_type_label(kind: str | None) -> str:
    """Label of a detector type or generalisable type; "" for none, the id for unknown ones."""
    if not kind:
        return ""
    label = TYPE_LABELS.get(kind) or GENERAL_TYPE_LABELS.get(kind)
    return gettext(label) if label is not None else kind
