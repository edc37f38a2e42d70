"""Policy results for machines and terminals: JSON, JUnit XML, CSV and a summary table.

All four are written from the :class:`~modelgov.manifest.GovernanceReport` alone, so ``modelgov
check`` and ``modelgov build`` produce the same files, and the exit code does not depend on which
of them were asked for.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from xml.etree import ElementTree as ET

from modelgov import manifest
from modelgov.text_safety import spreadsheet_cell, visible

EXIT_PASSED = 0
EXIT_BLOCKED = 1

OUTCOMES = ("pass", "fail", "warn", "waived", "error", "not-applicable")


def exit_code(report: manifest.GovernanceReport | None) -> int:
    return EXIT_BLOCKED if report is not None and report.blocking else EXIT_PASSED


def counts(report: manifest.GovernanceReport) -> dict[str, int]:
    found = Counter(r.outcome for r in report.results)
    return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}


def results_json(report: manifest.GovernanceReport, built: manifest.Manifest) -> str:
    """``policy-results.json``: the verdict, the counts, every result with its checks, the waivers,
    and the analyses that ran degraded (:mod:`modelgov.degraded`). ``exit_code`` is the policies'
    verdict; ``--fail-on-degraded`` also exits with 1 when ``degraded`` is not empty."""
    from modelgov.degraded import degradations

    document = {
        "schema_version": built.schema_version,
        "generator": f"modelgov {built.generator.version}",
        "built_at": built.built_at,
        "as_of": report.as_of,
        "fail_on": report.fail_on,
        "blocking": report.blocking,
        "signatures_required": report.signatures_required,
        "exit_code": exit_code(report),
        "counts": counts(report),
        "results": [r.model_dump(mode="json") for r in report.results],
        "waivers": [w.model_dump(mode="json") for w in report.waivers],
        "policies": [p.model_dump(mode="json") for p in report.policies],
        "degraded": [d.as_json() for d in degradations(built)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def results_csv(report: manifest.GovernanceReport) -> str:
    """One row per result; the checks' messages joined, for spreadsheets. Every cell goes through
    :func:`~modelgov.text_safety.spreadsheet_cell`: rule titles and messages quote the workspace,
    and a cell such as ``=HYPERLINK(…)`` must open as text, not run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["model", "version", "policy", "rule", "severity", "outcome", "waiver", "message", "evidence"]
    writer.writerow([*header, "not_in_force"])
    for r in report.results:
        evidence = "; ".join(f"{c.path}={c.observed}" for c in r.checks)
        row = [r.model, r.version, r.policy, r.rule, r.severity, r.outcome, r.waiver or "", r.message, evidence]
        row.append(r.not_in_force or "")
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()


def _detail(result: manifest.PolicyResult) -> str:
    lines = [f"{result.policy}/{result.rule} on {result.model} {result.version}: {result.outcome}"]
    for check in result.checks:
        where = f" [evidence: {check.page}]" if check.page else ""
        lines.append(f"- {check.outcome}: {check.message} (requires {check.requirement}){where}")
    return "\n".join(lines)


#: What XML 1.0 cannot hold once control characters are escaped: the noncharacters U+FFFE and U+FFFF
#: and lone surrogates. A parser refuses the whole report at the first one.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    """``value`` with control characters (:func:`~modelgov.text_safety.visible`) and the code points
    XML 1.0 does not allow shown as escapes (``\\ufffe``)."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(value))


def junit_xml(report: manifest.GovernanceReport) -> str:
    """One ``<testsuite>`` per policy, one ``<testcase>`` per model version × rule: ``fail`` (and
    ``warn`` when warnings block) are failures, ``error`` errors, ``waived`` and ``not-applicable``
    skipped with the reason, and so is any result under a text not in force (it never blocks); the
    evidence is in the message and the element text."""
    titles = {p.id: p.title for p in report.policies}
    rule_titles = {(p.id, r.id): r.title for p in report.policies for r in p.rules}
    root = ET.Element("testsuites", name="modelgov policies")
    totals = Counter()
    for policy_id in dict.fromkeys(r.policy for r in report.results):
        mine = [r for r in report.results if r.policy == policy_id]
        suite = ET.SubElement(root, "testsuite", name=f"{policy_id}: {titles.get(policy_id, policy_id)}")
        tally = Counter()
        for result in mine:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{result.model}@{result.version}",
                name=f"{result.rule}: {rule_titles.get((result.policy, result.rule), result.rule)}",
                time="0",
            )
            tally["tests"] += 1
            blocking_warning = result.outcome == "warn" and report.fail_on == "warning"
            if result.not_in_force and result.outcome in ("fail", "error", "warn"):  # reported, never a CI failure
                why = "not yet in force" if result.not_in_force == "coming" else "its text was rescinded"
                ET.SubElement(case, "skipped", message=f"{result.outcome}, {why}: {result.message}")
                tally["skipped"] += 1
            elif result.outcome == "fail" or blocking_warning:
                ET.SubElement(case, "failure", message=result.message, type=result.severity).text = _detail(result)
                tally["failures"] += 1
            elif result.outcome == "error":
                ET.SubElement(case, "error", message=result.message, type="missing evidence").text = _detail(result)
                tally["errors"] += 1
            elif result.outcome == "waived":
                ET.SubElement(case, "skipped", message=f"waived by {result.waiver}: {result.message}")
                tally["skipped"] += 1
            elif result.outcome == "not-applicable":
                ET.SubElement(case, "skipped", message=f"not applicable: {result.message}")
                tally["skipped"] += 1
            elif result.outcome == "warn":
                ET.SubElement(case, "system-out").text = "warning: " + _detail(result)
        for key in ("tests", "failures", "errors", "skipped"):
            suite.set(key, str(tally[key]))
            totals[key] += tally[key]
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    for element in root.iter():  # XML 1.0 has no control characters; a CI report must stay parseable
        element.attrib.update({name: _xml_text(value) for name, value in element.attrib.items()})
        if element.text:
            element.text = _xml_text(element.text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def summary_table(report: manifest.GovernanceReport) -> str:
    """What a terminal shows after ``check``/``build``: one line per model version, then every
    result that is not a pass, then the verdict. Control characters from the workspace are shown as
    escapes (``\\x1b``), so a rule title cannot repaint the CI log."""
    lines = []
    versions = list(dict.fromkeys((r.model, r.version) for r in report.results))
    width = max((len(f"{m} {v}") for m, v in versions), default=10)
    header = f"{'model version':<{width}}  " + "  ".join(f"{o:>6}" for o in ("pass", "fail", "warn", "waived", "error"))
    lines += [f"Policy results as of {report.as_of}", header, "-" * len(header)]
    for model, version in versions:
        mine = Counter(r.outcome for r in report.results if (r.model, r.version) == (model, version))
        cells = "  ".join(f"{mine.get(o, 0):>6}" for o in ("pass", "fail", "warn", "waived", "error"))
        lines.append(f"{model + ' ' + version:<{width}}  {cells}")
    notable = [r for r in report.results if r.outcome in ("fail", "error", "warn")]
    if notable:
        lines.append("")
        for r in notable:
            lines.append(f"{r.outcome.upper():5} {r.model} {r.version}  {r.policy}/{r.rule}: {r.message}")
    expired = [w for w in report.waivers if w.state == "expired"]
    refused = [w for w in report.waivers if w.state == "not accepted"]
    unused = [w for w in report.waivers if w.state not in ("expired", "not accepted") and not w.used_by]
    for w in refused:
        why = f"changed since it was signed ({', '.join(w.record.changed)})" if w.record.changed else "not signed"
        if w.record.signature == "invalid":
            why = f"its signature is not accepted ({w.record.signature_problem})"
        lines.append(
            f"NOTE  waiver {w.id} is not accepted: {why}"
            + (f"; it would cover {', '.join(w.would_apply_to)}" if w.would_apply_to else "")
        )
    for w in expired:
        lines.append(
            f"NOTE  waiver {w.id} expired on {w.expires}"
            + (f"; it would cover {', '.join(w.would_apply_to)}" if w.would_apply_to else "")
        )
    for w in unused:
        lines.append(f"NOTE  waiver {w.id} matched no failing result")
    lines.append("")
    lines.append(
        "BLOCKED: a blocking rule failed or could not be checked (exit code 1)"
        if report.blocking
        else "PASSED: no blocking rule failed (exit code 0)"
    )
    return visible("\n".join(lines))  # names and messages quote the workspace: no terminal controls
