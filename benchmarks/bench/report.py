"""Markdown tables and the scaling plot, from the numbers ``run.py`` collects."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from .warehouses import log


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


_WORKLOAD_COLUMNS = (
    ("compiled s", "compiled_s"),
    ("compiled (typed) s", "compiled_typed_s"),
    ("hand s", "hand_s"),
    ("naive s", "naive_s"),
    ("floor s", "floor_s"),
)
_POSTGRES_COLUMNS = (("compiled s", "compiled_s"), ("hand s", "hand_s"))


def _timing_table(
    label: str, rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]
) -> tuple[list[str], str]:
    """The table of one workload, and its headline (median and worst compiled/hand)."""
    lines = [
        f"### {label}",
        "",
        "| audience | members | " + " | ".join(h for h, _ in columns) + " | compiled/hand |",
        "| --- | ---: | " + " | ".join("---:" for _ in columns) + " | ---: |",
    ]
    for r in rows:
        flag = "" if r["agree"] else " **MISMATCH**"
        cells = " | ".join(_s(r[key]) for _, key in columns)
        lines.append(f"| {r['audience']}{flag} | {r['members']:,} | {cells} | {r['ratio']:.2f} |")
    worst = max(rows, key=lambda r: r["ratio"])
    headline = (
        f"compiled/hand: median **{statistics.median(r['ratio'] for r in rows):.2f}×**, "
        f"worst **{worst['ratio']:.2f}×** (`{worst['audience']}`)"
    )
    return lines, headline


def workload_table(label: str, rows: list[dict[str, Any]]) -> str:
    lines, headline = _timing_table(label, rows, _WORKLOAD_COLUMNS)
    typed = statistics.median(r["typed_ratio"] for r in rows)
    lines += ["", f"{headline}; compiled (typed)/hand median {typed:.2f}×."]
    slower = [r["audience"] for r in rows if r["naive_s"] and r["naive_s"] < r["compiled_s"]]
    if slower:
        lines.append(f"Naive faster than compiled: {', '.join(f'`{k}`' for k in slower)}.")
    skipped = sorted({r["naive_note"] for r in rows if r["naive_s"] is None})
    if skipped:
        lines.append(f"No naive query where the audience has {'; '.join(skipped)}.")
    return "\n".join(lines) + "\n"


def postgres_table(label: str, rows: list[dict[str, Any]]) -> str:
    lines, headline = _timing_table(label, rows, _POSTGRES_COLUMNS)
    return "\n".join([*lines, "", f"{headline}."]) + "\n"


def compile_table(times: dict[str, dict[str, float]]) -> str:
    dialects = sorted(next(iter(times.values())))
    lines = [
        "| audience | " + " | ".join(dialects) + " |",
        "| --- | " + " | ".join("---:" for _ in dialects) + " |",
    ]
    for key, per in times.items():
        lines.append(f"| {key} | " + " | ".join(f"{per[d]:.1f}" for d in dialects) + " |")
    return "\n".join(lines) + "\n"


def preview_table(previews: dict[str, dict[str, float]]) -> str:
    labels = list(previews)
    keys = list(dict.fromkeys(key for per in previews.values() for key in per))
    lines = [
        "| audience | " + " | ".join(f"{label} (s)" for label in labels) + " |",
        "| --- | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for key in keys:
        cells = [_s(previews[label].get(key)) for label in labels]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def runs_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| audience | run | members | events | compile | warehouse query | diff | "
        "events prep | total s | peak RSS MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        s = r["seconds"]
        lines.append(
            f"| {r['audience']} | {r['run']} | {r['members']:,} | {r['events']:,} | "
            f"{s.get('compile', 0):.2f} | {s.get('warehouse_query', 0):.2f} | "
            f"{s.get('diff', 0):.2f} | {s.get('event_preparation', 0):.2f} | "
            f"{r['total_s']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], out: Path) -> bool:
    """Total seconds against profiles, per variant, per warehouse family; then full runs:
    seconds and peak RSS against members. False if no matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plot (pip install -e '.[bench]')")
        return False
    families = ("demo", "tpch")
    fig, axes = plt.subplots(3, 2, figsize=(11, 12.5), squeeze=False)
    styles = {
        "compiled": ("tab:red", "o-"),
        "compiled_typed": ("tab:orange", "^:"),
        "hand": ("tab:green", "s-"),
        "naive": ("tab:purple", "D--"),
        "floor": ("tab:gray", "v-"),
    }
    for col, family in enumerate(families):
        runs = [w for w in results["workloads"] if w["family"] == family]
        runs.sort(key=lambda w: w["profiles"])
        for row, subset in enumerate(("all", "naive")):
            ax = axes[row][col]
            if not runs:
                ax.set_visible(False)
                continue
            variants = [v for v in styles if subset == "naive" or v != "naive"]
            for variant in variants:
                xs, ys = [], []
                for w in runs:
                    rows = [r for r in w["rows"] if subset == "all" or r["naive_s"] is not None]
                    if rows:
                        xs.append(w["profiles"])
                        ys.append(sum(r[f"{variant}_s"] for r in rows))
                color, style = styles[variant]
                ax.plot(xs, ys, style, color=color, label=variant.replace("_", " "))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("profiles")
            ax.set_ylabel("seconds (sum of per-audience medians)")
            name = "demo (Profiles Sync layout)" if family == "demo" else "TPC-H (customers)"
            which = "all audiences" if subset == "all" else "audiences with a naive query"
            ax.set_title(f"{name}: {which}", fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    _plot_runs(results.get("runs", {}), axes[2][0], axes[2][1])
    fig.suptitle("linked-audiences on DuckDB: compiled vs hand-written vs naive vs one scan")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def _plot_runs(runs: dict[str, list[dict[str, Any]]], seconds_ax: Any, rss_ax: Any) -> None:
    """Each full run as a point: total seconds, and peak RSS, against the audience's members
    (one marker per kind of run, one colour per demo size)."""
    if not runs:
        seconds_ax.set_visible(False)
        rss_ax.set_visible(False)
        return
    markers = {"backfill": "o", "no change": "s", "changed data": "^"}
    colors = ["tab:blue", "tab:red", "tab:green", "tab:purple"]
    ordered = sorted(runs.items(), key=lambda item: int(item[0]))
    for index, (profiles, rows) in enumerate(ordered):
        color = colors[index % len(colors)]
        for kind, marker in markers.items():
            picked = [r for r in rows if r["run"] == kind]
            members = [r["members"] for r in picked]
            label = f"{int(profiles):,} profiles, {kind}"
            seconds_ax.scatter(
                members, [r["total_s"] for r in picked], marker=marker, color=color, label=label
            )
            rss_ax.scatter(
                members, [r["peak_rss_mb"] for r in picked], marker=marker, color=color, label=label
            )
    seconds_ax.set_title("full runs: seconds against members", fontsize=10)
    seconds_ax.set_ylabel("seconds (la.run, wall)")
    rss_ax.set_title("full runs: peak RSS against members", fontsize=10)
    rss_ax.set_ylabel("peak RSS (MB)")
    rss_ax.set_ylim(bottom=0)
    for ax in (seconds_ax, rss_ax):
        ax.set_xscale("log")
        ax.set_xlabel("members")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
