"""Place-name normalisation: the key two spellings of one village or kecamatan share.

Used by the register matching (:mod:`towerplan.io.register`), the population table's
kecamatan names and the audit's village names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = ["name_numbers", "normalise", "normalise_name", "plain_name"]

_PREFIXES = {
    "village": frozenset({"desa", "ds", "kelurahan", "kel", "kalurahan", "village"}),
    "kecamatan": frozenset({"kecamatan", "kec", "kcm", "distrik", "district"}),
}
_ABBREVIATIONS = {
    "sei": "sungai", "sg": "sungai", "sgi": "sungai", "sui": "sungai", "sng": "sungai",
    "tg": "tanjung", "tj": "tanjung", "tjg": "tanjung", "tgg": "tanjung",
    "mra": "muara", "bt": "batu", "kp": "kampung", "kpg": "kampung", "gn": "gunung",
    "gng": "gunung", "tlk": "teluk", "krg": "karang", "smp": "simpang", "spg": "simpang",
    "pl": "pulau", "dsn": "dusun", "lg": "long",
}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10"}
# Old (pre-1972) spelling and common transliteration variants, rewritten inside words.
_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("bh", "b"), ("dh", "d"))
_DOUBLED = re.compile(r"([a-z])\1+")


def _tokens(text: str, level: str) -> list[str]:
    """Lower-case ASCII words of *text*, prefixes dropped, abbreviations and numerals expanded."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    ascii_text = re.sub(r"['’`]", "", ascii_text)
    words = re.findall(r"[a-z]+|\d+", ascii_text)
    prefixes = _PREFIXES.get(level, frozenset())
    while len(words) > 1 and words[0] in prefixes:
        words = words[1:]
    out: list[str] = []
    for word in words:
        word = _ABBREVIATIONS.get(word, word)
        if word in _ROMAN and out:  # a Roman numeral after the first word: "Muara Adang II"
            out.append(_ROMAN[word])
            continue
        for old, new in _SPELLING:
            word = word.replace(old, new)
        out.append((word.lstrip("0") or "0") if word.isdigit() else word)
    return out


def normalise_name(text: str, *, level: Literal["village", "kecamatan"] = "village",
                   compact: bool = True) -> str:
    """Return the key two spellings of one place name share.

    Parameters
    ----------
    text : str
        A village or kecamatan name as written in some file.
    level : {"village", "kecamatan"}
        Which prefixes are dropped: ``Desa``, ``Ds.``, ``Kelurahan``, ``Kel.`` for villages;
        ``Kecamatan``, ``Kec.`` for kecamatan.
    compact : bool
        Without spaces and with doubled letters collapsed (default); ``False`` keeps one space
        between words (for word-order-insensitive scores).

    Examples
    --------
    >>> normalise_name("Ds. Muara-Toyu")
    'muaratoyu'
    >>> normalise_name("Kel. Labuang Kallo") == normalise_name("Labuangkallo")
    True
    >>> normalise_name("Sei Terik") == normalise_name("Sungai Terik")
    True
    >>> normalise_name("Soeweto"), normalise_name("Muara Adang II")
    ('suweto', 'muaradang2')
    >>> normalise_name("Kec. Long Kali", level="kecamatan")
    'longkali'
    """
    return normalise(text, level, compact=compact)


def normalise(text: str, level: str, *, compact: bool = True) -> str:
    """:func:`normalise_name` for any *level* string (unknown levels drop no prefix)."""
    words = _tokens(text, level)
    if not compact:
        return " ".join(_DOUBLED.sub(r"\1", w) for w in words)
    return _DOUBLED.sub(r"\1", "".join(words))


def plain_name(text: str) -> str:
    """Case- and spacing-insensitive form used for exact matches."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def name_numbers(text: str, level: str) -> frozenset[str]:
    """The numbers in a name (``"Muara Adang II"`` -> ``{"2"}``), to keep numbered places apart."""
    return frozenset(w for w in _tokens(text, level) if w.isdigit())
