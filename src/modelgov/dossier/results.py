"""The dossier's sections on the model itself: its card in full, the version's training record, and
the results of each evaluation (performance, fairness, explainability) and of monitoring, each
number with its interval, as the site's pages give them, read from the manifest alone."""

from __future__ import annotations

from collections.abc import Callable

from modelgov.dossier.html import code, day, facts, h, interval, md, num, p, pct, t, table
from modelgov.manifest import EvaluationRun, Model, ModelVersion, MonitoringReport

#: A chart of the site for this run (kind, model, version, run) as a printable figure, or "".
RunChart = Callable[[str, Model, ModelVersion, EvaluationRun], str]

_CARD_SECTIONS = (
    ("description", "Model details"),
    ("primary_uses", "Intended use"),
    ("primary_users", "Intended users"),
    ("out_of_scope", "Out-of-scope uses"),
    ("factors_relevant", "Relevant factors"),
    ("factors_evaluation", "Evaluation factors"),
    ("performance_measures", "Performance measures"),
    ("decision_threshold", "Decision threshold"),
    ("variation_approaches", "Variation approaches"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats", "Caveats and recommendations"),
    ("licence", "Licence"),
)


def card_section(model: Model) -> str:
    """The model card in full: every section the card has, in the site's order."""
    parts = [h(2, "Model card", "card")]
    owner = model.owner
    who = t(owner.name) + (f" ({t(owner.team)})" if owner.team else "") + (f", {t(owner.email)}" if owner.email else "")
    parts.append(
        facts(
            [
                ("Owner", who),
                ("Task", t(model.task.replace("_", " "))),
                ("Sensitive features", ", ".join(code(f) for f in model.sensitive_features) or "none declared"),
                ("Tags", ", ".join(t(tag) for tag in model.tags) or "none"),
                ("Card file", code(model.source.path) + f" · SHA-256 {code(model.source.sha256)}"),
            ]
        )
    )
    for key, title in _CARD_SECTIONS:
        value = getattr(model.card, key)
        if value:
            parts += [h(3, title), md(value)]
    if model.card.references:
        parts += [h(3, "References"), "<ul>" + "".join(f"<li>{t(ref)}</li>" for ref in model.card.references) + "</ul>"]
    if model.business is not None:
        parts += [h(3, "Business objective"), md(model.business.objective)]
        if model.business.kpis:
            rows = [
                [
                    t(k.title),
                    t(k.aggregation),
                    t(k.direction),
                    num(k.target, k.decimals if k.decimals is not None else 3),
                ]
                for k in model.business.kpis
            ]
            parts.append(table(["KPI", "Aggregation", "Better when", "Target"], rows, numeric=(3,)))
    return "\n".join(parts)


def version_section(version: ModelVersion) -> str:
    """What the version is and how it was trained."""
    training = version.training
    parts = [h(2, "The version", "version"), md(version.summary)]
    pairs = [
        ("Status", t(version.status)),
        ("Created", t(version.created)),
        ("Previous version", t(version.previous) if version.previous else "none"),
        ("Algorithm", t(training.algorithm)),
        ("Training data", ", ".join(code(d) for d in training.datasets)),
    ]
    if training.code_repository:
        pairs.append(
            (
                "Code",
                t(training.code_repository) + (f" at {code(training.code_commit)}" if training.code_commit else ""),
            )
        )
    if training.artifact is not None:
        pairs.append(("Model file", code(training.artifact.path) + f" · SHA-256 {code(training.artifact.sha256)}"))
    pairs.append(("Version file", code(version.source.path) + f" · SHA-256 {code(version.source.sha256)}"))
    parts.append(facts(pairs))
    if training.params:
        rows = [[code(k), t(v)] for k, v in sorted(training.params.items())]
        parts += [h(3, "Training parameters"), table(["Parameter", "Value"], rows)]
    return "\n".join(parts)


def evaluation_section(model: Model, version: ModelVersion, run: EvaluationRun, chart: RunChart) -> str:
    """One evaluation run: its performance, its fairness by group, its explanations."""
    perf = run.performance
    parts = [
        h(2, f"Evaluation {t(run.id)}", f"evaluation-{run.id}"),
        facts(
            [
                ("Dataset", code(run.dataset)),
                ("Date", t(run.date)),
                ("Rows", num(perf.rows)),
                ("Table", code(run.data.path) + f" · SHA-256 {code(run.data.sha256)}"),
            ]
            + ([("Decision threshold", num(perf.threshold))] if perf.threshold is not None else [])
        ),
        h(3, "Performance"),
    ]
    rows = []
    for metric in perf.metrics:
        ci = metric.interval
        rows.append(
            [
                t(metric.label),
                num(metric.value),
                interval(ci),
                f"{ci.level:.0%}, {num(ci.resamples)} resamples" if ci is not None else "",
                t(metric.note or ""),
            ]
        )
    parts.append(table(["Metric", "Value", "Interval", "Level", "Note"], rows, numeric=(1,)))
    if perf.metrics and perf.metrics[0].interval is not None:
        parts.append(p(f"Intervals: {t(perf.metrics[0].interval.method)}.", "note"))
    if perf.confusion_matrix is not None:
        cm = perf.confusion_matrix
        rows = [[t(label)] + [num(c) for c in counts] for label, counts in zip(cm.labels, cm.counts, strict=False)]
        headers = ["Actual ↓ / predicted →"] + [t(label) for label in cm.labels]
        parts += [h(4, "Confusion matrix"), table(headers, rows, numeric=range(1, len(cm.labels) + 1))]
    for kind in ("curves", "calibration", "regression"):
        parts.append(chart(kind, model, version, run))
    for result in run.fairness:
        parts.append(_fairness(model, version, run, result, chart))
    if run.explainability is not None:
        parts.append(_explainability(model, version, run, chart))
    return "\n".join(part for part in parts if part)


def _fairness(model: Model, version: ModelVersion, run: EvaluationRun, result, chart: RunChart) -> str:
    labels = result.metric_labels
    parts = [h(3, f"Fairness by {t(result.feature)}")]
    headers = ["Group", "Count"] + [t(label) for label in labels.values()]
    rows = []
    for group in result.groups:
        cells = [
            t(group.group)
            + (" <em>(small)</em>" if group.small else "")
            + (" <em>(absent)</em>" if group.absent else ""),
            num(group.count),
        ]
        for key in labels:
            value = num(group.metrics.get(key))
            ci = group.intervals.get(key)
            cells.append(value + (f"<br/><span class=ci>{interval(ci)}</span>" if ci is not None else ""))
        rows.append(cells)
    overall = ["<strong>Overall</strong>", ""] + [
        num(result.overall.get(key))
        + (
            f"<br/><span class=ci>{interval(result.overall_intervals[key])}</span>"
            if key in result.overall_intervals
            else ""
        )
        for key in labels
    ]
    rows.append(overall)
    parts.append(table(headers, rows, "groups", numeric=range(1, len(headers))))
    parts.append(
        p(
            f"A group with fewer than {result.min_group_size} people is marked <em>small</em>: its rates are unreliable"
            + (" and it is left out of the gaps." if result.exclude_small_groups else "."),
            "note",
        )
    )
    if result.disparities:
        rows = [
            [
                t(d.label),
                num(d.value),
                interval(d.interval),
                ", ".join(t(g) for g in d.groups),
                "; ".join(t(f"{e.group}: {e.reason}") for e in d.excluded),
            ]
            for d in result.disparities
        ]
        parts.append(table(["Gap", "Value", "Interval", "Between", "Left out"], rows, "gaps", numeric=(1,)))
    parts.append(chart(f"fairness:{result.feature}", model, version, run))
    return "\n".join(part for part in parts if part)


def _explainability(model: Model, version: ModelVersion, run: EvaluationRun, chart: RunChart) -> str:
    ex = run.explainability
    parts = [h(3, "Explainability")]
    if ex.permutation_importance is not None:
        pi = ex.permutation_importance
        rows = [[code(f.feature), num(f.mean, 4), num(f.std, 4)] for f in pi.features]
        parts += [
            h(4, "Permutation importance"),
            p(
                f"Drop in {t(pi.scoring)} when a feature is shuffled; {num(pi.repeats)} shuffles on {num(pi.rows)} rows."
            ),
            table(["Feature", "Mean drop", "Standard deviation"], rows, numeric=(1, 2)),
            chart("importance", model, version, run),
        ]
    if ex.shap is not None:
        rows = [[code(f), num(v, 4)] for f, v in ex.shap.mean_abs.items()]
        parts += [
            h(4, f"SHAP ({t(ex.shap.explainer)}, {num(ex.shap.rows)} rows)"),
            table(["Feature", "Mean |SHAP|"], rows, numeric=(1,)),
        ]
    if ex.error_slices:
        rows = [
            [
                ", ".join(f"{code(k)} = {t(v)}" for k, v in s.conditions.items()),
                num(s.count),
                num(s.error),
                num(s.overall_error),
            ]
            for s in ex.error_slices
        ]
        parts += [
            h(4, f"Error slices ({t(ex.error_metric or 'error')})"),
            table(["Slice", "Rows", "Error", "Overall"], rows, numeric=(1, 2, 3)),
        ]
    for note in ex.notes:
        parts.append(p(t(note), "note"))
    return "\n".join(part for part in parts if part)


#: Metrics per table of the performance over time: a window's date and four metrics fit the page's
#: width without a header running into the next one.
_METRICS_PER_TABLE = 4


def _drifting_since(report: MonitoringReport) -> str:
    """The site's "drifting since": the start of the run of drifted windows that reaches the latest,
    and the first drifted window when drift stopped and started again. The report's ``first_drift``
    alone, labelled "first drift", dated the last run as the first."""
    first = next((w for w in report.windows if w.drifted), None)
    if report.first_drift is None:
        if first is None:
            return "no drift in any window"
        return f"not drifting in the latest window; drift was first seen in the window from {day(first.start)}"
    said = f"the window from {day(report.first_drift)}, without a break to the latest"
    if first is not None and first.start != report.first_drift:
        said += f"; drift was first seen earlier, in the window from {day(first.start)}, then stopped and started again"
    return said


def monitoring_section(model: Model, version: ModelVersion) -> str:
    """Production monitoring: drift window by window, performance as outcomes arrive (a few metrics
    a table, so that none is squeezed), the KPIs in the card's words and units, as the site shows them."""
    from modelgov.render.kpi_views import format_value, interval_text, target_text

    report = version.drift
    if report is None:
        return ""
    parts = [
        h(2, "Monitoring in production", "monitoring"),
        facts(
            [
                ("Status", t(report.status)),
                ("Reference", t(report.reference) + f" ({num(report.reference_rows)} rows)"),
                ("Window", t(report.window)),
                ("Drifting since", _drifting_since(report)),
                ("Dataset drift when", f"at least {pct(report.dataset_share, 0)} of the features drift"),
            ]
        ),
    ]
    rows = [
        [
            day(window.start),
            num(window.rows),
            pct(window.share_drifted),
            "yes" if window.dataset_drift else "no",
            num(window.labelled_rows),
        ]
        for window in report.windows
    ]
    parts.append(
        table(
            ["Window start", "Rows", "Features drifted", "Dataset drift", "Rows with outcomes"],
            rows,
            "windows",
            numeric=(1, 2, 4),
        )
    )
    labelled = [window for window in report.windows if window.performance]
    names = list(dict.fromkeys(m.label for window in labelled for m in window.performance))
    if labelled:
        parts.append(h(3, "Performance as outcomes arrive"))
    for first in range(0, len(names), _METRICS_PER_TABLE):
        shown = names[first : first + _METRICS_PER_TABLE]
        rows = []
        for window in labelled:
            values = {m.label: m for m in window.performance}
            rows.append(
                [day(window.start)]
                + [
                    num(values[n].value)
                    + (f"<br/><span class=ci>{interval(values[n].interval)}</span>" if values[n].interval else "")
                    if n in values
                    else "—"
                    for n in shown
                ]
            )
        parts.append(table(["Window start", *(t(n) for n in shown)], rows, "windows", numeric=range(1, len(shown) + 1)))
    kpis = {kpi.name: kpi for kpi in (model.business.kpis if model.business else [])}
    for series in report.kpis:
        kpi = kpis.get(series.name)
        rows = [
            [
                day(w.start),
                t(w.status),
                num(w.kpi.count) if w.kpi else "—",
                (t(format_value(kpi, w.kpi.value)) if kpi is not None else num(w.kpi.value)) if w.kpi else "—",
                (t(interval_text(kpi, w.kpi)) if kpi is not None else interval(w.kpi.interval))
                if w.kpi and w.kpi.interval
                else "—",
                {True: "yes", False: "no", None: "—"}[w.meets_target],
            ]
            for w in series.windows
        ]
        title = t(kpi.title) if kpi is not None else f"KPI {t(series.name)}"
        target = f" Target: {t(target_text(kpi))}." if kpi is not None else ""
        parts += [
            h(3, title),
            p(t(series.method) + "." + target, "note"),
            table(
                ["Window start", "Status", "Records counted", "Value", "Interval", "Meets target"],
                rows,
                numeric=(2, 3),
            ),
        ]
    return "\n".join(parts)
