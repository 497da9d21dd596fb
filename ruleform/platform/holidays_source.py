"""Public holidays and adjusted working days (调休) from the ``holidays`` package.

The package computes a country's holidays one year at a time. A :class:`HolidaySource`
asks it lazily, once per year and language, and keeps plain frozen sets and read-only
mappings, so a working-day check is a few set look-ups.

Two details of the package shape this module:

* A year's holidays can be declared while computing a neighbouring year (an observed
  New Year's Day on 31 December, a 调休 Saturday at the end of December that belongs to
  the next year's New Year break). So the facts for year *Y* are gathered from the
  package's years *Y-1*, *Y* and *Y+1* and kept only if they fall in *Y*.
* ``weekend_workdays`` (the weekend days worked in exchange for a bridge day off) may
  hold dates of other years; it is filtered the same way.

Objects here are built with ``expand=False`` and never touched again after the year is
read, so they can be shared between threads; the caches are filled under a lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import holidays

__all__ = ["HolidaySource", "HolidayYear", "holiday_source"]


@dataclass(frozen=True, slots=True)
class HolidayYear:
    """The public holidays (with names in one language) and 调休 workdays of one year."""

    names: Mapping[date, str]
    weekend_workdays: frozenset[date]


class HolidaySource:
    """Holidays of one country (and optional subdivision), computed per year on demand.

    Raises ``NotImplementedError`` (from the package) for an unknown country or
    subdivision.
    """

    def __init__(self, country: str, subdivision: str | None = None) -> None:
        self.country = country
        self.subdivision = subdivision
        probe = self._package(years=(), language=None)  # fails early for unknown codes
        self.default_language: str | None = getattr(probe, "default_language", None)
        self.languages: tuple[str, ...] = tuple(getattr(probe, "supported_languages", ()))
        self._years: dict[tuple[int, str | None], HolidayYear] = {}
        self._lock = threading.Lock()

    def year(self, year: int, language: str | None = None) -> HolidayYear:
        """The holidays of ``year``; names in ``language`` (a package language code)."""
        key = (year, language)
        found = self._years.get(key)
        if found is None:
            with self._lock:
                found = self._years.get(key)
                if found is None:
                    found = self._years[key] = self._compute_year(year, language)
        return found

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` is a public holiday (observed and bridge days included)."""
        return day in self.year(day.year).names

    def is_weekend_workday(self, day: date) -> bool:
        """Whether ``day`` is a weekend day worked by law (调休)."""
        return day in self.year(day.year).weekend_workdays

    def name(self, day: date, locale: str) -> str | None:
        """The holiday's name in ``locale`` (``zh-CN``, ``en`` …), or ``None``."""
        return self.year(day.year, self.language_for(locale)).names.get(day)

    def language_for(self, locale: str) -> str | None:
        """The package language closest to ``locale``; the country's default otherwise."""
        wanted = locale.replace("-", "_")
        if wanted in self.languages:
            return wanted
        base = wanted.split("_")[0].lower()
        for language in self.languages:
            if language.split("_")[0].lower() == base:
                return language
        return self.default_language

    def _compute_year(self, year: int, language: str | None) -> HolidayYear:
        names: dict[date, str] = {}
        workdays: set[date] = set()
        for source_year in (year - 1, year, year + 1):
            package = self._package(years=(source_year,), language=language)
            names.update((d, n) for d, n in package.items() if d.year == year)
            workdays.update(d for d in package.weekend_workdays if d.year == year)
        ordered = dict(sorted(names.items()))
        return HolidayYear(MappingProxyType(ordered), frozenset(workdays))

    def _package(self, years: tuple[int, ...], language: str | None) -> holidays.HolidayBase:
        return holidays.country_holidays(
            self.country,
            subdiv=self.subdivision,
            years=years,
            language=language,
            expand=False,
        )


@functools.lru_cache(maxsize=64)
def holiday_source(country: str, subdivision: str | None = None) -> HolidaySource:
    """The shared :class:`HolidaySource` of a country (and subdivision)."""
    return HolidaySource(country, subdivision)
