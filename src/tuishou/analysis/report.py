"""Pictures and pages of a ``Comparison``: a matplotlib figure and a self-contained HTML report.

The figure is built without pyplot (no global figure state, safe in servers and tests);
notebooks display it like any figure. Amounts are shown in yuan; the tables keep fen.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from tuishou.analysis.compare import in_yuan

if TYPE_CHECKING:
    from tuishou.analysis.compare import Comparison

__all__ = ["html_report", "plot_comparison"]

_CURVE_POINTS = 400  # enough for a smooth Lorenz curve over millions of members


def plot_comparison(comparison: Comparison) -> Any:
    """Two panels: how payouts spread over members (Lorenz curves) and paid by tier.

    >>> from tuishou.examples import example_comparison
    >>> figure = plot_comparison(example_comparison())
    >>> [axes.get_title() for axes in figure.axes]
    ['How payouts spread over members', 'Paid by tier']
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.8), layout="constrained")
    spread, tiers = figure.subplots(1, 2)
    _plot_spread(spread, comparison)
    _plot_tiers(tiers, comparison)
    figure.suptitle("Payouts under " + " vs ".join(comparison.labels))
    return figure


def _plot_spread(axes: Any, comparison: Comparison) -> None:
    axes.plot([0, 100], [0, 100], linestyle="--", color="grey", label="everyone paid equally")
    for label in comparison.labels:
        members, payouts = _lorenz(comparison.by_member[label].to_numpy())
        gini = comparison.distribution.loc[label, "gini"]
        note = "nothing paid" if np.isnan(gini) else f"Gini {gini:.2f}"
        axes.plot(members, payouts, label=f"{label} ({note})")
    axes.set_title("How payouts spread over members")
    axes.set_xlabel("members, lowest earners first (% of all members)")
    axes.set_ylabel("cumulative payouts (% of all paid)")
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.legend(loc="upper left")


def _lorenz(income: Any) -> tuple[Any, Any]:
    """Points of the Lorenz curve in percent, sampled to a fixed number of points."""
    ascending = np.sort(income.astype(np.float64))
    total = ascending.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(ascending)]) / (total if total else 1.0)
    picks = np.unique(np.linspace(0, len(ascending), _CURVE_POINTS).round().astype(np.int64))
    return picks / max(len(ascending), 1) * 100, cumulative[picks] * 100


def _plot_tiers(axes: Any, comparison: Comparison) -> None:
    by_tier = comparison.by_tier
    positions = np.arange(len(by_tier.index))
    width = 0.8 / len(comparison.labels)
    for offset, label in enumerate(comparison.labels):
        bars = axes.bar(
            positions + offset * width, by_tier[label].to_numpy() / 100, width, label=label
        )
        axes.bar_label(bars, fmt="¥{:,.0f}", fontsize=8)
    axes.set_xticks(
        positions + width * (len(comparison.labels) - 1) / 2, [str(tier) for tier in by_tier.index]
    )
    axes.yaxis.set_major_formatter("¥{x:,.0f}")
    axes.set_title("Paid by tier")
    axes.set_xlabel("member tier (lowest first)")
    axes.set_ylabel("paid (yuan, ¥)")
    axes.legend()


def html_report(comparison: Comparison) -> str:
    """One HTML page with the totals, distribution, by-tier and by-rule tables and the figure.

    >>> from tuishou.examples import example_comparison
    >>> page = html_report(example_comparison())
    >>> page.startswith("<!DOCTYPE html>"), "data:image/png;base64," in page
    (True, True)
    """
    image = io.BytesIO()
    plot_comparison(comparison).savefig(image, format="png", dpi=110)
    picture = base64.b64encode(image.getvalue()).decode("ascii")
    title = html.escape("tuishou: " + " vs ".join(comparison.labels))
    sections = [
        (
            "Totals (payout ratio = paid / GMV)",
            _formatted(in_yuan(comparison.totals), {"payout_ratio": "{:.2%}"}),
        ),
        (
            "Distribution of member income",
            _formatted(
                comparison.distribution,
                {"top_1pct_share": "{:.2%}", "top_10pct_share": "{:.2%}", "gini": "{:.3f}"},
            ),
        ),
        ("Paid by tier", in_yuan(comparison.by_tier)),
        ("Paid by rule", in_yuan(comparison.by_rule)),
    ]
    tables = "\n".join(
        f"<h2>{html.escape(heading)}</h2>\n{frame.to_html()}" for heading, frame in sections
    )
    return _PAGE.format(
        title=title, baseline=html.escape(comparison.baseline), tables=tables, picture=picture
    )


def _formatted(frame: Any, formats: dict[str, str]) -> Any:
    """Ratios as text for people; "-" where there is nothing to divide by (NaN)."""
    shown = frame.copy()
    for name, form in formats.items():
        shown[name] = ["-" if np.isnan(value) else form.format(value) for value in shown[name]]
    return shown


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 75em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }}
img {{ max-width: 100%; }}
</style></head>
<body>
<h1>{title}</h1>
<p>Every delta column is the policy minus the baseline, <b>{baseline}</b>.</p>
<img alt="payout spread over members and paid by tier" src="data:image/png;base64,{picture}">
{tables}
</body></html>
"""
