"""The soak's result and its Markdown report."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.soak.chaos import Injection
from benchmarks.soak.checks import Check, ResourcePoint


@dataclass(slots=True)
class SoakResult:
    """Everything a run found, ready to be rendered."""

    parameters: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    injections: list[Injection] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    resources: list[ResourcePoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    """App behaviour the soak worked around and reports (not a failed check)."""
    coverage: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Return True when there is at least one check and every check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str, passed: bool, detail: str) -> None:
        """Add one verdict."""
        self.checks.append(Check(name, passed, detail))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _t(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(result: SoakResult, heading: str = "#") -> str:
    """Return the report as Markdown (``heading`` is the top level, e.g. ``##``)."""
    sub = heading + "#"
    lines = [f"{heading} Soak and chaos report", ""]
    lines.append(f"**Result: {'PASS' if result.passed else 'FAIL'}** "
                 f"({sum(c.passed for c in result.checks)}/{len(result.checks)} checks passed, "
                 f"{len(result.findings)} finding(s) reported below)")
    lines += ["", f"{sub} Parameters", ""]
    lines += [f"- {key}: {value}" for key, value in result.parameters.items()]
    lines += ["", f"{sub} Checks", "", "| check | result | detail |", "|---|---|---|"]
    lines += [
        f"| {_cell(c.name)} | {'pass' if c.passed else '**FAIL**'} | {_cell(c.detail)} |"
        for c in result.checks
    ]
    lines += ["", f"{sub} Fault coverage", ""]
    lines.append(", ".join(f"{name} x{count}" for name, count in result.coverage.items()))
    lines += ["", f"{sub} Timeline", ""]
    lines += [f"- {entry}" for entry in result.timeline]
    lines += ["", f"{sub} Resources at quiet checkpoints", "",
              "| checkpoint | t (s) | VmRSS (MiB) | fds | threads |", "|---|---|---|---|---|"]
    lines += [
        f"| {_cell(p.label)} | {p.at:.0f} | {p.rss_kb / 1024:.1f} | {p.fds} | {p.threads} |"
        for p in result.resources
    ]
    if result.findings:
        lines += ["", f"{sub} Findings", ""]
        lines += [f"- {finding}" for finding in result.findings]
    if result.notes:
        lines += ["", f"{sub} Notes", ""]
        lines += [f"- {note}" for note in result.notes]
    lines += [
        "",
        f"{sub} Injection log",
        "",
        "Times are seconds since the soak started. *Recovered* is measured from the fault's "
        "end (or from the user action that recovery needs) to the first moment the app's "
        "connection row was `connected` with data received after that moment.",
        "",
        "| # | start | planned | end | target | fault | param | recovered after | ok | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i in result.injections:
        verdict = "yes" if i.ok else ("**NO**" if i.ok is False else "n/a")
        note = "; ".join([i.note, *i.evidence] if i.note else i.evidence)
        lines.append(
            f"| {i.number} | {i.start:.1f} | {i.planned:.1f} | {_t(i.end)} | {_cell(i.target)} "
            f"| {i.fault} | {_cell(i.param)} | {_t(i.recovered_after)} "
            f"({_cell(i.recovery_from)}) | {verdict} | {_cell(note)} |"
        )
    return "\n".join(lines) + "\n"
