"""Response times in working days, medians and percentiles."""

from __future__ import annotations

from datetime import UTC, datetime

from cityos.demand.stats import median, percentile, response_days
from cityos.sharing.calendar import built_in_calendar


def test_response_days_skip_weekends_and_holidays() -> None:
    calendar = built_in_calendar()
    friday = datetime(2025, 9, 26, 2, tzinfo=UTC)  # Friday 10:00 in Haikou
    monday = datetime(2025, 9, 29, 2, tzinfo=UTC)
    assert response_days(calendar, friday, friday) == 0
    # Sat 27 rests, Sun 28 is a make-up working day, Mon 29 works
    assert response_days(calendar, friday, monday) == 2
    # National Day: Oct 1-8 off, Oct 11 (Sat) a make-up working day
    oct_10 = datetime(2025, 10, 10, 2, tzinfo=UTC)
    assert response_days(calendar, monday, oct_10) == 3  # Sep 30, Oct 9 and Oct 10


def test_median_and_percentile() -> None:
    assert median([]) is None and percentile([], 0.9) is None
    assert median([3, 1, 2]) == 2.0 and median([1, 2, 3, 10]) == 2.5
    values = list(range(1, 11))
    assert percentile(values, 0.9) == 9.0 and percentile(values, 0.5) == 5.0
