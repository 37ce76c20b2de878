"""Seeded random templates over Go's template grammar and builtins, rendered by amtool and by us.

Each run draws a seed (``TEMPLATE_DIFF_SEED`` replays one); about one template in ten is broken on
purpose. Outputs must be identical, or both renderers must fail.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable

import pytest

from test_templates_oracle import DATA_DIR, Case, differences, needs_amtool

COUNT = int(os.environ.get("TEMPLATE_DIFF_COUNT", "300"))
DATA_FILES = [
    str(DATA_DIR / name)
    for name in ("realistic_group.json", "realistic_resolved.json", "mixed.json", "sparse.json")
    if (DATA_DIR / name).exists()
]

STRINGS = ['"firing"', '"a<b>&c"', "`raw \\n`", '"x y"', '""', '"ünï"', '"%d%s"', '"Disk"']
KV_FIELDS = [".GroupLabels", ".CommonLabels", ".CommonAnnotations"]
ALERT_STR_FIELDS = [".Status", ".GeneratorURL", ".Fingerprint"]
FLOATS = ["-0.000001", "1e21", "0x1p-2", "3.0", "'\\n'", "1e6", "007", "1.5", "2e3"]
VERBS = ["%v", "%q", "%s", "%d", "%5.2f", "%-8s|", "%x", "%T", "%+v", "%#v", "%t", "%e", "%08.3f"]
TIME_METHODS = [
    'UTC.Format "15:04"',
    "Year",
    'Format "Mon Jan 2 15:04:05 MST 2006"',
    "IsZero",
]
DEFAULT_NAMES = [
    "__subject",
    "__alertmanager",
    "slack.default.title",
    "email.default.subject",
    "__text_alert_list",
]
ROOT_FIELDS = "Status|Receiver|ExternalURL|Alerts|GroupLabels|CommonLabels|CommonAnnotations"
# Inside range and with, dot is no longer the data: generated references go through $.
_ROOTED = re.compile(rf"(?<=[\s(|])\.({ROOT_FIELDS})\b")
KEEP = "\N{SECTION SIGN}"  # marks a reference to the range element, left as is
KV_KEYS = ["alertname", "severity", "instance", "summary", "missing", "team", "empty"]


class Gen:
    """A random template writer; ``vars`` holds the variables in scope."""

    def __init__(self, rng: random.Random, html: bool) -> None:
        self.r = rng
        self.html = html
        self.vars: list[str] = []
        self.defines: list[str] = []
        self.depth = 0

    def pick(self, *options: Callable[[], str]) -> str:
        return self.r.choice(options)()

    # Expressions by rough type.

    def string(self) -> str:
        r = self.r
        self.depth += 1
        try:
            if self.depth > 3:
                return r.choice([*STRINGS, ".Status", ".Receiver"])
            return self.pick(
                lambda: r.choice(STRINGS),
                lambda: r.choice([".Status", ".Receiver", ".ExternalURL"]),
                lambda: f"{r.choice(KV_FIELDS)}.{r.choice(KV_KEYS)}",
                lambda: f"(index {r.choice(KV_FIELDS)} {r.choice(STRINGS)})",
                lambda: f"({r.choice(['toUpper', 'toLower', 'title'])} {self.string()})",
                lambda: f'(printf "%s-%d" {self.string()} {self.integer()})',
                lambda: f"(print {self.any()} {self.any()})",
                lambda: f'(join ", " {self.strlist()})',
                lambda: f'(reReplaceAll "[aeiou]" "_" {self.string()})',
                lambda: f"({self.string()} | {r.choice(['toUpper', 'html', 'js', 'urlquery'])})",
                lambda: f"(slice {r.choice(STRINGS[:2])} 1 {r.randint(1, 3)})",
                lambda: f"(index .Alerts 0).{r.choice(['Status', 'Fingerprint'])}",
                lambda: f"(index (index .Alerts 0).Labels {r.choice(STRINGS)})",
                lambda: '((index .Alerts 0).StartsAt.Format "2006-01-02 15:04")',
                lambda: self.var_or(self.string),
                lambda: f'(printf "{r.choice(VERBS)}" {self.scalar()})',
                lambda: f"(index .Alerts 0).StartsAt.{r.choice(TIME_METHODS)}",
                lambda: f"(index .Alerts 0).Labels.{r.choice(['alertname', 'instance'])}",
                lambda: r.choice(["$.Status", "$.CommonLabels.severity"]),
                lambda: f"(println {self.any()} {self.any()})",
            )
        finally:
            self.depth -= 1

    def integer(self) -> str:
        r = self.r
        return self.pick(
            lambda: r.choice(["0", "1", "2", "-3", "0x1F", "0o17", "1_000", "'a'"]),
            lambda: f"(len {r.choice(['.Alerts', '.Alerts.Firing', '.Alerts.Resolved'])})",
            lambda: f"(len {r.choice(KV_FIELDS)})",
            lambda: f"(len {self.string()})",
        )

    def boolean(self) -> str:
        r = self.r
        self.depth += 1
        try:
            if self.depth > 3:
                return r.choice(["true", "false"])
            return self.pick(
                lambda: r.choice(["true", "false"]),
                lambda: f"(eq {self.string()} {self.string()})",
                lambda: f"(eq {self.string()} {self.string()} {self.string()})",
                lambda: f"(ne {self.integer()} {self.integer()})",
                lambda: f"({r.choice(['lt', 'le', 'gt', 'ge'])} {self.integer()} {self.integer()})",
                lambda: f"({r.choice(['lt', 'ge'])} {self.string()} {self.string()})",
                lambda: f"(not {self.any()})",
                lambda: f"({r.choice(['and', 'or'])} {self.any()} {self.any()})",
                lambda: f'(match "^[a-z]+$" {self.string()})',
            )
        finally:
            self.depth -= 1

    def scalar(self) -> str:
        # Whole structs are left to %v: gofmt does not print time.Time's fields for %e or %#v.
        return self.pick(self.string, self.integer, lambda: self.r.choice(FLOATS))

    def strlist(self) -> str:
        r = self.r
        return self.pick(
            lambda: f"{r.choice(KV_FIELDS)}.Values",
            lambda: f"{r.choice(KV_FIELDS)}.Names",
            lambda: f"{r.choice(KV_FIELDS)}.SortedPairs.Values",
            lambda: f"(stringSlice {self.string()} {self.string()})",
            lambda: f"({r.choice(KV_FIELDS)}.Remove (stringSlice {r.choice(STRINGS)})).Names",
        )

    def any(self) -> str:
        r = self.r
        return self.pick(
            self.string,
            self.integer,
            self.boolean,
            lambda: r.choice(["1.5", "2e3", "nil", ".", "$", ".Alerts.Firing", ".GroupLabels"]),
            lambda: r.choice(FLOATS),
        )

    def var_or(self, fallback: Callable[[], str]) -> str:
        if self.vars and self.r.random() < 0.6:
            return self.r.choice(self.vars)
        return fallback()

    # Statements.

    def action(self) -> str:
        r = self.r
        open_, close = r.choice([("{{", "}}"), ("{{ ", " }}"), ("{{- ", " -}}"), ("{{ ", " -}}")])
        return open_ + self.pick(self.string, self.integer, self.boolean, self.any) + close

    def text(self) -> str:
        r = self.r
        if self.html:
            return r.choice(
                ["<b>", "</b>", " & ", "\n", " x ", "<p>", "</p>", " 1 < 2 ", "<br/>", ""]
            )
        return r.choice(["\n", " - ", "|", "  ", ":", "a", " <b> "])

    def html_slot(self) -> str:
        r = self.r
        e = self.pick(self.string, self.any)
        # Whole structs are left out of JS: our Data cannot tell a nil map (JSON null) from {}.
        v = self.pick(self.string, self.integer, self.boolean)
        b = self.boolean()
        return r.choice(
            [
                f'<a href="{{{{ {e} }}}}">l</a>',
                f'<a href="/x?q={{{{ {e} }}}}&r=1">l</a>',
                f"<a title={{{{ {e} }}}}>t</a>",
                f"<td title='{{{{ {e} }}}}'>c</td>",
                f"<b>{{{{ {e} }}}}</b>",
                f"<script>var v = {{{{ {v} }}}};</script>",
                f'<script>var s = "{{{{ {e} }}}}";</script>',
                f"<style>p {{ color: {{{{ {e} }}}} }}</style>",
                f"<!-- {{{{ {e} }}}} -->",
                f"<textarea>{{{{ {e} }}}}</textarea>",
                f'<img src="{{{{ {e} }}}}" alt="{{{{ {e} }}}}">',
                f'<a href="{{{{ {e} }}}}/path?q={{{{ {e} }}}}">x</a>',
                f'<p class="{{{{ if {b} }}}}a{{{{ else }}}}{{{{ {e} }}}}{{{{ end }}}}">',
                '<a href="/x?{{ range $.CommonLabels.Names }}{{ . }}=1&{{ end }}">r</a>',
                f'<td style="color: {{{{ {v} }}}}">s</td>',
                f'<a onclick="f({{{{ {v} }}}})">j</a>',
                f"<script>var re = /{{{{ {v} }}}}/;</script>",
                f'<a title="{{{{ template "__alertmanager" $ }}}}-{{{{ {e} }}}}">t</a>',
                f"<title>{{{{ {e} }}}}</title>",
            ]
        )

    def block(self, budget: int) -> str:
        r = self.r
        parts = []
        for _ in range(r.randint(1, 3)):
            parts.append(self.statement(budget - 1) if budget > 0 else self.action())
            parts.append(self.text())
        return "".join(parts)

    def statement(self, budget: int) -> str:
        r = self.r
        choice = r.randint(0, 14)
        if choice == 11 and not self.html:
            choice = 0
        if choice <= 2:
            return self.action()
        if choice == 3:
            return self.if_(budget)
        if choice == 4:
            return self.range_(budget)
        if choice == 5:
            return self.with_(budget)
        if choice == 6:
            name = f"v{len(self.vars)}"
            self.vars.append(f"${name}")
            return f"{{{{ ${name} := {self.any()} }}}}"
        if choice == 7 and self.vars:
            return f"{{{{ {r.choice(self.vars)} = {self.string()} }}}}"
        if choice == 8:
            return "{{/* a comment */}}" if r.random() < 0.5 else "{{- /* trim */ -}}"
        if choice == 9 and self.defines:
            arg = "$" if r.random() < 0.9 else self.any()
            return f'{{{{ template "{r.choice(self.defines)}" {arg} }}}}'
        if choice == 10:
            name = r.choice(DEFAULT_NAMES)
            arg = r.choice([".Alerts", ".Alerts.Firing"]) if name == "__text_alert_list" else "."
            return f'{{{{ template "{name}" {arg} }}}}'
        if choice == 11:
            return self.html_slot()
        if choice == 12:
            return f'{{{{ block "b{r.randint(0, 3)}" . }}}}' + self.block(0) + "{{ end }}"
        if choice == 13:
            return f"{{{{ with $w := {self.string()} }}}}{{{{ $w }}}}-{{{{ . }}}}{{{{ end }}}}"
        if choice == 14:
            return "{{\n  " + self.string() + "\n}}"
        return self.action()

    @staticmethod
    def rooted(text: str) -> str:
        """Point data references at the root, for a body where dot has changed."""
        return _ROOTED.sub(r"$.\1", text)

    def scoped(self, body: Callable[[], str]) -> str:
        saved = list(self.vars)
        try:
            return body()
        finally:
            self.vars = saved

    def if_(self, budget: int) -> str:
        r = self.r
        cond = self.boolean() if r.random() < 0.7 else self.any()
        out = f"{{{{ if {cond} }}}}" + self.scoped(lambda: self.block(budget))
        if r.random() < 0.3:
            out += f"{{{{ else if {self.boolean()} }}}}" + self.scoped(lambda: self.block(budget))
        if r.random() < 0.5:
            out += "{{ else }}" + self.scoped(lambda: self.block(budget))
        return out + "{{ end }}"

    def range_(self, budget: int) -> str:
        r = self.r
        coll = r.choice(
            [
                ".Alerts",
                ".Alerts.Firing",
                ".Alerts.Resolved",
                ".CommonLabels",
                ".GroupLabels",
                ".CommonLabels.SortedPairs",
                '(stringSlice "a" "b")',
                ".CommonLabels.Names",
            ]
        )
        inner: list[str] = []
        decl = ""
        k = r.random()
        if k < 0.3:
            decl = "$i, $e := "
            inner = ["$i", "$e"]
        elif k < 0.5:
            decl = "$e := "
            inner = ["$e"]

        def body() -> str:
            self.vars += inner
            parts = [self.rooted(self.block(budget))]
            if r.random() < 0.2:
                parts.append(
                    f"{{{{ if {self.boolean()} }}}}"
                    + r.choice(["{{ break }}", "{{ continue }}"])
                    + "{{ end }}"
                )
            if coll.startswith(".Alerts") and r.random() < 0.6:
                parts.append(
                    r.choice(
                        [
                            f"{{{{ {KEEP}.Status }}}}",
                            "{{ .Labels.instance }}",
                            "{{ .Annotations.summary }}",
                            "{{ .StartsAt }}",
                            "{{ .EndsAt.Unix }}",
                            "{{ .Labels.SortedPairs }}",
                        ]
                    )
                )
            elif "SortedPairs" in coll:
                parts.append("{{ .Name }}={{ .Value }};")
            else:
                parts.append("[{{ . }}]")
            return "".join(parts)

        out = f"{{{{ range {decl}{coll} }}}}" + self.scoped(body)
        if r.random() < 0.3:
            out += "{{ else }}none"
        return out + "{{ end }}"

    def with_(self, budget: int) -> str:
        r = self.r
        subject = r.choice([*KV_FIELDS, ".Alerts.Firing", ".Alerts.Resolved", self.string()])
        out = f"{{{{ with {subject} }}}}" + self.scoped(lambda: self.rooted(self.block(budget)))
        if r.random() < 0.4:
            out += "{{ else }}empty"
        return out + "{{ end }}"

    def template(self) -> str:
        r = self.r
        out = []
        if r.random() < 0.3:
            name = f"t{r.randint(0, 99)}"
            body = self.scoped(lambda: self.block(1))
            out.append(f'{{{{ define "{name}" }}}}{body}{{{{ end }}}}')
            self.defines.append(name)
        out.append(self.block(2))
        return "".join(out)


BREAKERS: list[Callable[[random.Random, str], str]] = [
    lambda r, t: t[: r.randint(0, len(t))],
    lambda r, t: t.replace("}}", "", 1),
    lambda r, t: t + "{{ end }}",
    lambda r, t: t + "{{ nosuchfunc . }}",
    lambda r, t: t + "{{ .NoSuchField }}",
    lambda r, t: t + '{{ lt "a" 1 }}',
    lambda r, t: t + "{{ index .Alerts 99 }}",
    lambda r, t: t + "{{ $undefined }}",
    lambda r, t: t + "{{ toUpper 1 }}",
    lambda r, t: t + '{{ template "nope" . }}',
    lambda r, t: t + "{{ len 3 }}",
    lambda r, t: t + "{{ if }}x{{ end }}",
    lambda r, t: t + "{{ printf }}",
    lambda r, t: t + "{{ 1 | 2 }}",
    lambda r, t: t + "{{ range 5 }}x{{ end }}",
    lambda r, t: t + '{{ eq .Alerts "x" }}',
    lambda r, t: t + "{{ break }}",
    lambda r, t: t + '{{ "unterminated }}',
    lambda r, t: t + "{{ .Status.Foo }}",
    lambda r, t: t + "{{ with .Status }}a{{ else with .Receiver }}b{{ end }}",
    lambda r, t: t + '{{ define "x" }}{{ define "y" }}{{ end }}{{ end }}',
    lambda r, t: t + "{{ 08 }}",
    lambda r, t: t + "{{ 1e400 }}",
    lambda r, t: t + "{{ (index .Alerts 0).StartsAt.Format }}",
    lambda r, t: t + '{{ printf "%d" }}',
    lambda r, t: t + '{{ slice "abc" 2 1 }}',
    lambda r, t: t + '<a href="{{ .Receiver }}',
    lambda r, t: t + "<a {{ .Status }}={{ .Receiver }}>",
    lambda r, t: t + '{{ "a" | html | toUpper }}',
]


def make_cases(seed: int, count: int) -> list[Case]:
    """``count`` random cases, about 10% broken, from ``seed``."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        html = rng.random() < 0.4
        text = Gen(rng, html).template().replace(KEEP, "")
        if rng.random() < 0.1:
            text = rng.choice(BREAKERS)(rng, text)
        cases.append(Case(text, "html" if html else "text", rng.choice(DATA_FILES)))
    return cases


@pytest.mark.amtool
@needs_amtool
def test_random_templates_render_as_amtool_renders_them() -> None:
    """Random templates (text and html, some broken) render identically or fail in both."""
    seed = int(os.environ.get("TEMPLATE_DIFF_SEED", random.randrange(1 << 32)))
    report = differences(make_cases(seed, COUNT))
    assert not report, f"TEMPLATE_DIFF_SEED={seed}: {len(report)} differ\n" + "\n".join(report[:10])
