"""Whole-life cost of a tower: capital cost plus running cost over a horizon, discounted.

The running cost of a year ``t = 1..n`` is discounted by ``(1 + r)**-t``, so ``n`` years of a
constant running cost weigh the annuity factor ``(1 - (1 + r)**-n) / r``. Power (PLN grid
connection, solar or genset) and backhaul (VSAT or microwave with its yearly licence fee) are
costed by small kernels on arrays. Every default figure and its source (cited, or a stated
planning assumption) is listed in ``docs/costs.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BackhaulPrices",
    "PowerPrices",
    "annuity_factor",
    "backhaul_cost_idr",
    "power_cost_idr",
    "whole_life_cost_idr",
]

POWER_KINDS: tuple[str, ...] = ("pln", "solar", "genset")
BACKHAUL_KINDS: tuple[str, ...] = ("vsat", "microwave")

_HOURS_PER_YEAR = 8_760.0


@dataclass(frozen=True, slots=True)
class PowerPrices:
    """Prices of the power supply of a site (rupiah; sources in ``docs/costs.md``).

    Attributes
    ----------
    pln_connection_idr_per_va : float
        PLN connection fee per VA above 2,200 VA (Rp 969, Permen ESDM 27/2017).
    va_per_w : float
        Connected VA per W of load (1.25, i.e. power factor 0.8; planning assumption).
    pln_tariff_idr_per_kwh : float
        Energy price (Rp 1,699.53/kWh, Permen ESDM 7/2024, R-2/R-3 non-subsidised).
    grid_line_idr_per_km : float
        Medium-voltage line to the site, per km (planning assumption).
    grid_max_km : float
        Farthest grid connection, km; beyond it solar or genset (as ``[costs] grid_max_km``).
    solar_idr_per_w : float
        Solar panels and batteries per W of load (planning assumption).
    solar_opex_share : float
        Yearly upkeep of a solar plant as a share of its capital cost (planning assumption).
    genset_idr : float
        Diesel generator, installed (planning assumption).
    diesel_litre_per_kwh : float
        Fuel use of a small genset (planning assumption).
    diesel_idr_per_litre : float
        Delivered diesel price at a remote site (planning assumption).
    """

    pln_connection_idr_per_va: float = 969.0
    va_per_w: float = 1.25
    pln_tariff_idr_per_kwh: float = 1_699.53
    grid_line_idr_per_km: float = 300_000_000.0
    grid_max_km: float = 5.0
    solar_idr_per_w: float = 300_000.0
    solar_opex_share: float = 0.02
    genset_idr: float = 150_000_000.0
    diesel_litre_per_kwh: float = 0.35
    diesel_idr_per_litre: float = 12_000.0


@dataclass(frozen=True, slots=True)
class BackhaulPrices:
    """Prices of the backhaul of a site (rupiah; sources in ``docs/costs.md``).

    Attributes
    ----------
    vsat_capex_idr : float
        VSAT terminal and installation (as ``[costs.vsat] capex_idr``; planning assumption).
    vsat_idr_per_year : float
        Satellite capacity per year (as ``[costs.vsat] opex_idr_per_year``; planning
        assumption).
    microwave_hop_idr : float
        One microwave hop installed (as ``[costs.backhaul] microwave_pair_idr``; planning
        assumption).
    microwave_licence_idr_per_year : float
        Frequency licence fee (BHP frekuensi) of one hop per year: the worked example of
        PP 7/2009 for a 7 MHz link (Rp 4,206,590).
    """

    vsat_capex_idr: float = 150_000_000.0
    vsat_idr_per_year: float = 180_000_000.0
    microwave_hop_idr: float = 350_000_000.0
    microwave_licence_idr_per_year: float = 4_206_590.0


def annuity_factor(rate: float, years: int) -> float:
    """Return the present value of 1 rupiah a year paid at the end of years 1..*years*.

    Parameters
    ----------
    rate : float
        Discount rate per year (0 = no discounting).
    years : int
        Number of years (>= 0).

    Examples
    --------
    >>> annuity_factor(0.0, 10)
    10.0
    >>> round(annuity_factor(0.05, 10), 4)
    7.7217
    """
    if years < 0 or rate <= -1:
        msg = f"annuity needs years >= 0 and rate > -1, got {years} and {rate:g}"
        raise ValueError(msg)
    if rate == 0:
        return float(years)
    return float((1.0 - (1.0 + rate) ** -years) / rate)


def whole_life_cost_idr(capex_idr: ArrayLike, opex_idr_per_year: ArrayLike, rate: float,
                        years: int) -> NDArray[np.float64]:
    """Return capital cost plus the discounted running cost over *years*, rupiah.

    Examples
    --------
    >>> float(whole_life_cost_idr(1_000.0, 100.0, 0.0, 10))
    2000.0
    """
    capex = np.asarray(capex_idr, dtype=float)
    opex = np.asarray(opex_idr_per_year, dtype=float)
    return capex + opex * annuity_factor(rate, years)


def power_cost_idr(distance_to_grid_km: ArrayLike, power_w: float, *, rate: float,
                   years: int, prices: PowerPrices = PowerPrices(),  # noqa: B008
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Return the power supply of each site: capital cost, running cost a year and kind.

    A site within ``prices.grid_max_km`` of the grid is connected to PLN (connection fee
    for ``power_w * va_per_w`` VA plus the line, energy at the tariff); a site farther away
    gets solar or a genset, whichever has the lower whole-life cost over *years* at *rate*.

    Parameters
    ----------
    distance_to_grid_km : array_like
        Distance of each site to the nearest grid line or point, km (``inf`` = no grid).
    power_w : float
        Power draw of the site, W.
    rate, years
        Discount rate and horizon of the whole-life comparison.
    prices : PowerPrices

    Returns
    -------
    capex_idr, opex_idr_per_year : ndarray
    kind : ndarray of str
        ``"pln"``, ``"solar"`` or ``"genset"`` (:data:`POWER_KINDS`).
    """
    distance = np.asarray(distance_to_grid_km, dtype=float)
    energy_kwh = power_w * _HOURS_PER_YEAR / 1_000.0
    grid_capex = (prices.pln_connection_idr_per_va * power_w * prices.va_per_w
                  + prices.grid_line_idr_per_km * np.where(np.isfinite(distance), distance, 0))
    grid_opex = energy_kwh * prices.pln_tariff_idr_per_kwh
    solar_capex = prices.solar_idr_per_w * power_w
    solar_opex = prices.solar_opex_share * solar_capex
    genset_opex = energy_kwh * prices.diesel_litre_per_kwh * prices.diesel_idr_per_litre
    factor = annuity_factor(rate, years)
    solar = solar_capex + factor * solar_opex <= prices.genset_idr + factor * genset_opex
    off_capex, off_opex = ((solar_capex, solar_opex) if solar
                           else (prices.genset_idr, genset_opex))
    on_grid = distance <= prices.grid_max_km
    capex = np.where(on_grid, grid_capex, off_capex)
    opex = np.where(on_grid, grid_opex, off_opex)
    kind = np.where(on_grid, "pln", "solar" if solar else "genset")
    return capex.astype(float), opex.astype(float), kind


def backhaul_cost_idr(hops: ArrayLike, *,
                      prices: BackhaulPrices = BackhaulPrices(),  # noqa: B008
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Return the backhaul of each site: capital cost, running cost a year and kind.

    Parameters
    ----------
    hops : array_like of int
        Microwave hops to a point of presence; 0 or less = no feasible path, VSAT.
    prices : BackhaulPrices

    Returns
    -------
    capex_idr, opex_idr_per_year : ndarray
    kind : ndarray of str
        ``"microwave"`` or ``"vsat"`` (:data:`BACKHAUL_KINDS`).

    Examples
    --------
    >>> capex, opex, kind = backhaul_cost_idr([0, 2])
    >>> capex.tolist(), opex.tolist(), kind.tolist()
    ([150000000.0, 700000000.0], [180000000.0, 8413180.0], ['vsat', 'microwave'])
    """
    n = np.asarray(hops, dtype=float)
    microwave = n > 0
    capex = np.where(microwave, n * prices.microwave_hop_idr, prices.vsat_capex_idr)
    opex = np.where(microwave, n * prices.microwave_licence_idr_per_year,
                    prices.vsat_idr_per_year)
    kind = np.where(microwave, "microwave", "vsat")
    return capex.astype(float), opex.astype(float), kind
