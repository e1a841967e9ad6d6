"""The area to fetch: --kabupaten, --code (village register) or --bbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from towerplan.errors import InputDataError, InputFileError
from towerplan.fetch.area import Area, area_from_options, default_register, parse_bbox
from towerplan.io.register import packaged_register, read_register

REGISTER = packaged_register()


def test_bbox_is_parsed_and_checked() -> None:
    assert parse_bbox(" 115.9, -1.8 ,116.1,-1.6") == (115.9, -1.8, 116.1, -1.6)
    with pytest.raises(InputDataError, match="expected four numbers"):
        parse_bbox("115.9,-1.8,116.1")
    with pytest.raises(InputDataError, match="expected four numbers"):
        parse_bbox("a,b,c,d")
    with pytest.raises(InputDataError) as info:
        parse_bbox("116.1,-1.6,115.9,-1.8")
    assert len(info.value.problems) == 2  # both axes reported at once
    with pytest.raises(InputDataError, match="at most 5 degrees a side"):
        parse_bbox("100,-10,110,0")


def test_exactly_one_way_to_name_the_area() -> None:
    with pytest.raises(InputDataError, match="give exactly one of --kabupaten"):
        area_from_options()
    with pytest.raises(InputDataError, match=r"\(got --kabupaten, --bbox\)"):
        area_from_options(kabupaten="Paser", bbox="1,2,3,4")


def test_kabupaten_name_loses_its_prefix() -> None:
    assert area_from_options(kabupaten="Kabupaten  Paser") == Area("kabupaten", name="Paser")
    assert area_from_options(kabupaten="kab. Paser").name == "Paser"
    with pytest.raises(InputDataError, match="printable characters"):
        area_from_options(kabupaten="Paser\n[out:xml]")


def test_default_register_ships_with_the_package() -> None:
    """The register is package data: ``fetch --code`` works from a normal pip install."""
    import towerplan

    path = default_register()
    assert path == REGISTER and path.is_file()
    assert Path(towerplan.__file__).resolve().parent in path.resolve().parents
    frame, _ = read_register(path)
    assert len(frame) == 144 and frame["code"].str.startswith("64.01.").all()
    assert area_from_options(code="64.01.08.2008").name == "Muara Toyu"


def test_codes_are_resolved_with_the_register() -> None:
    assert area_from_options(code="64.01", register=REGISTER) == Area("kabupaten", name="Paser",
                                                                      code="64.01")
    assert area_from_options(code="64.01.07", register=REGISTER) == Area(
        "kecamatan", name="Muara Komam", code="64.01.07", kabupaten="Paser")
    assert area_from_options(code="64.01.07.2009", register=REGISTER) == Area(
        "desa", name="Muara Payang", code="64.01.07.2009", kabupaten="Paser",
        kecamatan="Muara Komam")
    assert area_from_options(code="64.01.04.1001", register=REGISTER).name == "Tanah Grogot"


def test_unknown_or_malformed_codes_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"kabupaten 63.01 is not in the register .*"
                                             r"\(it lists 64.01\)"):
        area_from_options(code="63.01", register=REGISTER)
    with pytest.raises(InputDataError, match="no kecamatan with this code"):
        area_from_options(code="64.01.99", register=REGISTER)
    with pytest.raises(InputDataError, match="no desa/kelurahan with this code"):
        area_from_options(code="64.01.07.2999", register=REGISTER)
    with pytest.raises(InputDataError, match="expected a Kemendagri code"):
        area_from_options(code="6401", register=REGISTER)
    with pytest.raises(InputFileError):
        area_from_options(code="64.01", register=tmp_path / "none.csv")


def test_labels_and_slugs() -> None:
    assert Area("kabupaten", name="Paser", code="64.01").label == "kabupaten Paser (64.01)"
    assert Area("bbox", bbox=(115.9, -1.8, 116.1, -1.6)).label == "bbox 115.9,-1.8,116.1,-1.6"
    assert Area("desa", name="Muara Payang").slug == "muara-payang"
    assert Area("kabupaten", name="Paser").admin_level == 5
