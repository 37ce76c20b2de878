"""Alertmanager's default texts that its 0.25 template files (our engine's) do not name yet.

Alertmanager 0.26+ defines ``msteams.default.text``, ``msteamsv2.default.text``,
``jira.default.description`` and ``mattermost.default.text``: the firing and resolved alerts as
a Markdown list. Our default template files mirror 0.25's names exactly (a test pins that set),
so these notifiers render the same text from the Go template below; the differential test
checks it against Alertmanager's own file through amtool.
"""

from __future__ import annotations

__all__ = ["MARKDOWN_ALERTS", "jira_priority"]


def _section(heading: str, alerts: str) -> str:
    # One "# heading" and, per alert, its labels, annotations and source as Markdown list items.
    return (
        f"{{{{ if gt (len {alerts}) 0 }}}}\n# {heading}:\n"
        f"{{{{ range {alerts} }}}}\nLabels:\n"
        "{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n{{ end }}\n"
        "Annotations:\n"
        "{{ range .Annotations.SortedPairs }}  - {{ .Name }} = {{ .Value }}\n{{ end }}\n"
        "Source: {{ .GeneratorURL }}\n{{ end }}\n\n{{ end }}"
    )


# What Alertmanager's ``msteams.default.text`` (and its siblings above) renders.
MARKDOWN_ALERTS = (
    "\n"
    + _section("Alerts Firing", ".Alerts.Firing")
    + "\n"
    + _section("Alerts Resolved", ".Alerts.Resolved")
    + "\n"
)


def jira_priority(severities_firing: list[str], severities_resolved: list[str]) -> str:
    """Alertmanager's ``jira.default.priority``: High for critical, Medium for warning, Low for
    info, from the firing alerts (the resolved ones when none fires); "" otherwise."""
    for severities in (severities_firing, severities_resolved):
        if "critical" in severities:
            return "High"
        if "warning" in severities:
            return "Medium"
        if "info" in severities:
            return "Low"
    return ""
