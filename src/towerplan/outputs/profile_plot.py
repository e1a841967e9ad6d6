"""Path profile plot (PNG) of a point-to-point link: terrain, line of sight, Fresnel zone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from towerplan.analysis.link import LinkReport
from towerplan.i18n import t
from towerplan.io.atomic import atomic_output
from towerplan.radio.profile import Clearance, Profile

__all__ = ["write_profile_png"]


def write_profile_png(report: LinkReport, profile: Profile, clearance: Clearance,
                      path: str | Path, *, lang: str = "id") -> Path:
    """Draw the profile of a link and write it as a PNG atomically.

    Terrain is drawn with the earth bulge of the k-factor added, so the straight line of sight
    and the first-Fresnel ellipse around it can be compared with it directly.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d_km = profile.distance_m / 1000.0
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    try:
        base = float(np.nanmin(clearance.terrain_m)) - 20.0
        ax.fill_between(d_km, base, clearance.terrain_m, color="#b9a078", alpha=0.9,
                        label=t("link.terrain", lang))
        ax.plot(d_km, clearance.ray_m, color="#1f4e9c", lw=1.6, label=t("link.los_ray", lang))
        upper = clearance.ray_m + clearance.fresnel_m
        lower = clearance.ray_m - clearance.fresnel_m
        ax.plot(d_km, upper, color="#1f4e9c", lw=0.8, ls="--",
                label=t("link.fresnel", lang))
        ax.plot(d_km, lower, color="#1f4e9c", lw=0.8, ls="--")
        ax.fill_between(d_km, lower, upper, color="#1f4e9c", alpha=0.08)
        ax.plot(d_km, clearance.ray_m - 0.6 * clearance.fresnel_m, color="#c0392b", lw=0.7,
                ls=":", label=t("link.fresnel60", lang))
        if clearance.worst_index >= 0:
            k = clearance.worst_index
            ax.plot([d_km[k]], [clearance.terrain_m[k]], "o", color="#c0392b", ms=6,
                    label=t("link.worst", lang))
        ax.annotate("Tx", (d_km[0], clearance.ray_m[0]), textcoords="offset points",
                    xytext=(4, 4), fontsize=9)
        ax.annotate("Rx", (d_km[-1], clearance.ray_m[-1]), textcoords="offset points",
                    xytext=(-16, 4), fontsize=9)
        ax.set_xlim(d_km[0], d_km[-1])
        ax.set_ylim(bottom=base)
        ax.set_xlabel(t("link.distance_km", lang))
        ax.set_ylabel(t("link.height_m", lang))
        los = t("link.los_yes" if report.los else "link.los_no", lang)
        ax.set_title(
            f"{report.model}: {report.distance_m / 1000:.2f} km, {report.freq_mhz:g} MHz, "
            f"k = {report.k_factor:.3g}; {los}; "
            f"{t('link.loss', lang)} {report.total_loss_db:.1f} dB, "
            f"RSRP {report.rsrp_dbm:.1f} dBm ({t('link.margin', lang)} "
            f"{report.margin_db:+.1f} dB)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
        fig.tight_layout()
        path = Path(path)
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return path
