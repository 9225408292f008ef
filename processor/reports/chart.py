"""The report's chart: opt-ins and opt-outs per day, one line per gateway (matplotlib)."""

from __future__ import annotations

from pathlib import Path

from processor.reports.counts import Report, opt_ins_and_outs


def draw_chart(result: Report, out: Path) -> None:
    """Writes a PNG (or any format matplotlib infers from the suffix) to ``out``."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    series = opt_ins_and_outs(result)
    days = sorted({day for per_day in series.values() for day in per_day})
    figure, (ins, outs) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    for gateway, per_day in sorted(series.items()):
        ins.plot(days, [per_day.get(d, (0, 0))[0] for d in days], marker="o", label=gateway)
        outs.plot(days, [per_day.get(d, (0, 0))[1] for d in days], marker="o", label=gateway)
    ins.set_title("Opt-ins per day")
    outs.set_title("Opt-outs per day")
    for axes in (ins, outs):
        axes.set_ylabel("subscriptions")
        axes.grid(True, alpha=0.3)
        if series:
            axes.legend(loc="upper left")
    outs.set_xlabel(f"day (UTC) since {result.since}")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
