"""The translation table and language-dependent formatting."""

from __future__ import annotations

import math

import pytest

from towerplan.columns import (
    CANDIDATE_COLUMNS,
    RANKING_COLUMNS,
    SUMMARY_KEYS,
    TOWER_COLUMNS,
    VILLAGE_COLUMNS,
)
from towerplan.errors import ScenarioError
from towerplan.i18n import (
    SUPPORTED_LANGS,
    TEXT,
    format_idr,
    format_number,
    format_percent,
    status_label,
    t,
)


def test_every_label_has_every_language_and_no_empty_text():
    for key, entry in TEXT.items():
        assert set(entry) == set(SUPPORTED_LANGS), key
        assert all(text.strip() for text in entry.values()), key


@pytest.mark.parametrize("column", sorted({*VILLAGE_COLUMNS, *TOWER_COLUMNS, *CANDIDATE_COLUMNS,
                                           *RANKING_COLUMNS}))
def test_every_output_column_has_a_label(column):
    assert t(f"col.{column}", "id")
    assert t(f"col.{column}", "en")


def test_every_summary_key_has_a_label():
    missing = [k for k in SUMMARY_KEYS if f"sum.{k}" not in TEXT]
    assert missing == []


@pytest.mark.parametrize(("status", "lang", "expected"), [
    ("blank", "id", "blank spot"), ("partial", "id", "sebagian"), ("covered", "id", "tercakup"),
    ("blank", "en", "blank spot"), ("partial", "en", "partial"), ("covered", "en", "covered"),
])
def test_status_labels(status, lang, expected):
    assert status_label(status, lang) == expected
    assert t(f"status.{status}", lang) == expected


def test_unknown_status_has_a_label_instead_of_failing():
    assert status_label("weird", "en") == "unknown"


def test_sheet_names_are_valid_excel_names_and_differ_by_language():
    for key in ("sheet.summary", "sheet.ranking", "sheet.villages", "sheet.costs",
                "sheet.assumptions"):
        for lang in SUPPORTED_LANGS:
            name = t(key, lang)
            assert len(name) <= 31
            assert not set(name) & set("[]:*?/\\")
    assert t("sheet.summary", "id") == "Ringkasan"
    assert t("sheet.summary", "en") == "Summary"


def test_unknown_language_lists_the_supported_ones():
    with pytest.raises(ScenarioError, match="id, en") as info:
        t("sheet.summary", "fr")
    assert not isinstance(info.value, KeyError)


def test_unknown_label_is_a_value_error_not_a_key_error():
    with pytest.raises(ValueError, match="no label 'nope'") as info:
        t("nope", "id")
    assert not isinstance(info.value, KeyError)


@pytest.mark.parametrize(("lang", "expected"), [("id", "Rp 8.500.000.000"),
                                                ("en", "Rp 8,500,000,000")])
def test_rupiah(lang, expected):
    assert format_idr(8_500_000_000, lang) == expected


def test_numbers_use_the_separators_of_the_language():
    assert format_number(1234567.891, "id", 2) == "1.234.567,89"
    assert format_number(1234567.891, "en", 2) == "1,234,567.89"
    assert format_number(-0.5, "id", 1) == "-0,5"
    assert format_number(math.nan, "id") == "–"
    assert format_number(None, "en") == "–"


def test_percent():
    assert format_percent(0.4567, "id") == "45,7 %"
    assert format_percent(0.4567, "en", 0) == "46 %"
    assert format_percent(math.nan, "en") == "–"
