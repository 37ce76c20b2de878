"""The route tree walk, ported from Alertmanager 0.25's dispatch/route_test.go and
cli/test_routing_test.go, plus the edges of §3 of the design (missing labels, anchoring, forms).

The Go tests compare ``RouteOpts``; of those alertrouter keeps ``receiver`` and
``repeat_interval`` (grouping is Alertmanager's job upstream), so those two are asserted, and the
matched node's ``id`` stands in for Alertmanager's route ``Key()``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from alertrouter.cli.main import main
from alertrouter.config.loader import RoutingConfig, load_routing_config, parse_routing_config
from alertrouter.errors import ConfigError
from alertrouter.router.tree import Route, Router

DATA = Path(__file__).parent / "data" / "routing"
DEFAULT_REPEAT = timedelta(hours=4)  # Alertmanager's DefaultRouteOpts.RepeatInterval


def _receivers_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("receiver"), str):
            yield node["receiver"]
        for child in node.get("routes") or ():
            yield from _receivers_in(child)


def routing_file(route_yaml: str) -> str:
    """A whole routing file around a ``route:`` body, declaring every receiver it names."""
    body = textwrap.dedent(route_yaml).strip("\n")
    names = dict.fromkeys(_receivers_in(yaml.safe_load(body)))
    receivers = "".join(f"  - name: {name}\n" for name in names)
    return f"route:\n{textwrap.indent(body, '  ')}\nreceivers:\n{receivers}"


def load_tree(route_yaml: str) -> Route:
    """Parse a ``route:`` body (as Alertmanager's Go tests write it) into our route tree."""
    config: RoutingConfig = parse_routing_config(routing_file(route_yaml), "test.yml", {})
    return config.root


def receivers(root: Route, labels: Mapping[str, str]) -> list[str]:
    """The receivers ``labels`` reach, in order, as ``routes test`` prints them."""
    return [route.receiver for route in root.match(labels)]


# --- dispatch/route_test.go: TestRouteMatch, TestRouteMatchers, TestRouteMatchersAndMatch -------

# The same tree three times: with the legacy match/match_re forms, with matchers only, and mixed.
TREE_MATCH = """
receiver: notify-def
routes:
  - match: {owner: team-A}
    receiver: notify-A
    routes:
      - match: {env: testing}
        receiver: notify-testing
        group_by: [...]
      - match: {env: production}
        receiver: notify-productionA
        group_wait: 1m
        continue: true
      - match_re: {env: produ.*, job: .*}
        receiver: notify-productionB
        group_wait: 30s
        group_interval: 5m
        repeat_interval: 1h
        group_by: [job]
  - match_re: {owner: 'team-(B|C)'}
    group_by: [foo, bar]
    group_wait: 2m
    receiver: notify-BC
  - match: {group_by: role}
    group_by: [role]
    routes:
      - match: {env: testing}
        receiver: notify-testing
        routes:
          - match: {wait: long}
            group_wait: 2m
"""

TREE_MATCHERS = """
receiver: notify-def
routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: notify-A
    routes:
      - matchers: ['{env="testing"}', '{baz!~".*quux"}']
        receiver: notify-testing
        group_by: [...]
      - matchers: ['{env="production"}']
        receiver: notify-productionA
        group_wait: 1m
        continue: true
      - matchers: [env=~"produ.*", job=~".*"]
        receiver: notify-productionB
        group_wait: 30s
        group_interval: 5m
        repeat_interval: 1h
        group_by: [job]
  - matchers: [owner=~"team-(B|C)"]
    group_by: [foo, bar]
    group_wait: 2m
    receiver: notify-BC
  - matchers: [group_by="role"]
    group_by: [role]
    routes:
      - matchers: ['{env="testing"}']
        receiver: notify-testing
        routes:
          - matchers: [wait="long"]
            group_wait: 2m
"""

TREE_MATCHERS_AND_MATCH = """
receiver: notify-def
routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: notify-A
    routes:
      - matchers: ['{env="testing"}', '{baz!~".*quux"}']
        receiver: notify-testing
        group_by: [...]
      - match: {env: production}
        receiver: notify-productionA
        group_wait: 1m
        continue: true
      - matchers: [env=~"produ.*", job=~".*"]
        receiver: notify-productionB
        group_wait: 30s
        group_interval: 5m
        repeat_interval: 1h
        group_by: [job]
  - match_re: {owner: 'team-(B|C)'}
    group_by: [foo, bar]
    group_wait: 2m
    receiver: notify-BC
  - matchers: [group_by="role"]
    group_by: [role]
    routes:
      - matchers: ['{env="testing"}']
        receiver: notify-testing
        routes:
          - matchers: [wait="long"]
            group_wait: 2m
"""

GO_TREES = {
    "TestRouteMatch": TREE_MATCH,
    "TestRouteMatchers": TREE_MATCHERS,
    "TestRouteMatchersAndMatch": TREE_MATCHERS_AND_MATCH,
}

_A = "route.routes[0]"
_ROLE = "route.routes[2]"
# (labels, [(receiver, repeat_interval, node id), ...]): the Go tables' inputs and RouteOpts.
GO_CASES: list[tuple[dict[str, str], list[tuple[str, timedelta, str]]]] = [
    ({"owner": "team-A"}, [("notify-A", DEFAULT_REPEAT, _A)]),
    ({"owner": "team-A", "env": "unset"}, [("notify-A", DEFAULT_REPEAT, _A)]),
    ({"owner": "team-C"}, [("notify-BC", DEFAULT_REPEAT, "route.routes[1]")]),
    (
        {"owner": "team-A", "env": "testing"},
        [("notify-testing", DEFAULT_REPEAT, f"{_A}.routes[0]")],
    ),
    (
        {"owner": "team-A", "env": "production"},
        [
            ("notify-productionA", DEFAULT_REPEAT, f"{_A}.routes[1]"),
            ("notify-productionB", timedelta(hours=1), f"{_A}.routes[2]"),
        ],
    ),
    ({"group_by": "role"}, [("notify-def", DEFAULT_REPEAT, _ROLE)]),
    (
        {"env": "testing", "group_by": "role"},
        [("notify-testing", DEFAULT_REPEAT, f"{_ROLE}.routes[0]")],
    ),
    (
        {"env": "testing", "group_by": "role", "wait": "long"},
        [("notify-testing", DEFAULT_REPEAT, f"{_ROLE}.routes[0].routes[0]")],
    ),
]


@pytest.mark.parametrize("tree_name", list(GO_TREES))
@pytest.mark.parametrize(
    ("labels", "expected"),
    GO_CASES,
    ids=[",".join(f"{k}={v}" for k, v in labels.items()) for labels, _ in GO_CASES],
)
def test_go_route_match(
    tree_name: str, labels: dict[str, str], expected: list[tuple[str, timedelta, str]]
) -> None:
    """Each Go tree routes each Go input to the same receivers, repeat intervals and nodes."""
    root = load_tree(GO_TREES[tree_name])
    got = [(r.receiver, r.repeat_interval, r.id) for r in root.match(labels)]
    assert got == expected


@pytest.mark.parametrize("tree_name", list(GO_TREES))
def test_go_route_walk(tree_name: str) -> None:
    """Walking the tree depth first yields every node's resolved receiver (TestRouteWalk)."""
    root = load_tree(GO_TREES[tree_name])
    assert [r.receiver for r in root.walk()] == [
        "notify-def",
        "notify-A",
        "notify-testing",
        "notify-productionA",
        "notify-productionB",
        "notify-BC",
        "notify-def",
        "notify-testing",
        "notify-testing",
    ]


# --- cli/test_routing_test.go: TestRoutingTest ---------------------------------------------------


@pytest.mark.parametrize(
    ("config_file", "labels", "expected"),
    [
        ("conf.routing.yml", {"test": "1"}, ["test1"]),
        ("conf.routing.yml", {"test": "2"}, ["test1", "test2"]),
        ("conf.routing-reverted.yml", {"test": "2"}, ["test2", "test1"]),
        ("conf.routing.yml", {"test": "volovina"}, ["default"]),
    ],
)
def test_routing_test(config_file: str, labels: dict[str, str], expected: list[str]) -> None:
    """The amtool test configs give the receivers in tree order, continue included."""
    config = load_routing_config(DATA / config_file, environ={})
    assert receivers(config.root, labels) == expected


@pytest.mark.parametrize(
    ("config_file", "args", "line"),
    [
        ("conf.routing.yml", ["test=1"], "test1"),
        ("conf.routing.yml", ["test=2"], "test1,test2"),
        ("conf.routing-reverted.yml", ['test="2"'], "test2,test1"),
        ("conf.routing.yml", ["test=volovina"], "default"),
        ("conf.routing.yml", [], "default"),
    ],
)
def test_routing_test_cli(
    config_file: str, args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``routes test`` prints the comma-joined receivers on its first line, as amtool does."""
    code = main(["routes", "test", "--config", str(DATA / config_file), *args])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == line


# --- matchers: missing labels, anchoring, the forms a node may use -------------------------------


@pytest.mark.parametrize(
    ("matcher", "labels", "matches"),
    [
        # A missing label matches as the empty string.
        ('env=""', {}, True),
        ('env=""', {"env": ""}, True),
        ('env=""', {"env": "prod"}, False),
        ('env="prod"', {}, False),
        ('env!="prod"', {}, True),
        ('env!=""', {}, False),
        ('env!=""', {"env": "prod"}, True),
        ('env=~".*"', {}, True),
        ('env=~".+"', {}, False),
        ('env=~"prod|"', {}, True),
        ('env!~"prod|staging"', {}, True),
        ('env!~"prod|staging"', {"env": "staging"}, False),
        ('env!~".*"', {}, False),
        ('env!~".+"', {}, True),
        ('env!~""', {}, False),
        ('env!~""', {"env": "x"}, True),
        # Regexes are anchored at both ends, alternations included.
        ('foo=~"ab"', {"foo": "ab"}, True),
        ('foo=~"ab"', {"foo": "abc"}, False),
        ('foo=~"ab"', {"foo": "xab"}, False),
        ('foo=~"a|b"', {"foo": "ab"}, False),
        ('foo=~"a|b"', {"foo": "b"}, True),
        ('foo=~"ab.*"', {"foo": "abc"}, True),
        ('foo=~"[a-c]+"', {"foo": "abcd"}, False),
        ('foo!~"ab"', {"foo": "abc"}, True),
        ('foo!~"ab"', {"foo": "ab"}, False),
        # Equality is exact, never a prefix or a regex.
        ('foo="a.c"', {"foo": "abc"}, False),
        ('foo="ab"', {"foo": "abc"}, False),
        # Unquoted values, and a quoted value holding a comma.
        ("foo=bar", {"foo": "bar"}, True),
        ("foo=~ba.", {"foo": "baz"}, True),
        ('foo="a,b"', {"foo": "a,b"}, True),
        # Go's \B holds on the empty string (Python's re, before 3.14, never matches it there).
        ('foo=~"\\B"', {"foo": "--"}, False),
        pytest.param('foo=~"\\B"', {}, True),
        pytest.param('foo=~"a*\\B"', {"foo": ""}, True),
        pytest.param('foo!~"\\B|x"', {}, False),
        # Alertmanager wraps a regex as ^(?:...)$ textually; one that closes the group itself
        # escapes the anchoring, so "a)|(b" means "starts with a, or ends with b".
        ('foo=~"a)|(b"', {"foo": "b"}, True),
        pytest.param('foo=~"a)|(b"', {"foo": "xb"}, True),
        pytest.param('foo=~"a)|(b"', {"foo": "ax"}, True),
    ],
)
def test_matcher_semantics(matcher: str, labels: dict[str, str], matches: bool) -> None:
    """A one-matcher child catches exactly the label sets Alertmanager's matcher accepts."""
    root = load_tree(
        f"""
        receiver: root
        routes:
          - matchers: ['{matcher}']
            receiver: child
        """
    )
    assert receivers(root, labels) == (["child"] if matches else ["root"])


@pytest.mark.parametrize(
    ("labels", "matches"),
    [
        ({"a": "b", "c": "d"}, True),
        ({"a": "b", "c": "d", "e": "f"}, True),
        ({"a": "b", "c": "dd"}, False),
        ({"a": "b"}, False),
        ({"c": "d"}, False),
        ({"a": "x", "c": "d"}, False),
    ],
)
@pytest.mark.parametrize(
    "form",
    [
        pytest.param(['matchers: [\'{a="b", c=~"d"}\']'], id="list-in-braces"),
        pytest.param(['matchers: [\'a="b", c=~"d"\']'], id="list-without-braces"),
        pytest.param(["matchers: ['a=\"b\"', 'c=~\"d\"']"], id="two-entries"),
        pytest.param(["matchers: [a=b, c=~d]"], id="unquoted"),
        pytest.param(["match: {a: b}", "match_re: {c: d}"], id="match-and-match_re"),
        pytest.param(["match: {a: b}", "matchers: ['c=~\"d\"']"], id="match-and-matchers"),
        pytest.param(["match_re: {a: b, c: d}"], id="match_re-only"),
    ],
)
def test_matcher_forms_are_anded(form: list[str], labels: dict[str, str], matches: bool) -> None:
    """Every form of writing ``a="b"`` and ``c=~"d"`` requires both, and nothing more."""
    node = "".join(f"    {line}\n" for line in form)
    root = load_tree(f"receiver: root\nroutes:\n  - receiver: child\n{node}")
    assert receivers(root, labels) == (["child"] if matches else ["root"])


def test_match_values_that_yaml_reads_as_numbers() -> None:
    """``match: {test: 2}`` compares with the label value "2", as Alertmanager reads it."""
    root = load_tree(
        """
        receiver: root
        routes:
          - match: {code: 500}
            receiver: five-hundred
        """
    )
    assert receivers(root, {"code": "500"}) == ["five-hundred"]
    assert receivers(root, {"code": "5000"}) == ["root"]


YAML_SCALARS = [
    ("500", "500"),
    ("1.0", "1.0"),
    ("true", "true"),
    ("1e3", "1e3"),
    ("'010'", "010"),
    pytest.param("yes", "yes"),
    pytest.param("True", "True"),
    pytest.param("010", "010"),
    pytest.param("0x1F", "0x1F"),
    pytest.param("1_000", "1_000"),
    pytest.param("1.50", "1.50"),
    pytest.param(".inf", ".inf"),
    pytest.param("2001-12-14", "2001-12-14"),
]


@pytest.mark.parametrize(("scalar", "value"), YAML_SCALARS)
@pytest.mark.parametrize("key", ["match", "match_re"])
def test_match_values_keep_their_yaml_text(key: str, scalar: str, value: str) -> None:
    """A plain scalar under match/match_re means its text as written, whatever YAML types it as."""
    root = load_tree(f"receiver: root\nroutes:\n  - {key}: {{x: {scalar}}}\n    receiver: hit\n")
    assert receivers(root, {"x": value}) == ["hit"]


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        pytest.param("+1", "+1"),
        pytest.param("~", "", id="null"),
    ],
)
def test_match_value_scalars_only_match_allows(scalar: str, value: str) -> None:
    """Under ``match`` a signed number keeps its sign and a null is the empty string."""
    root = load_tree(f"receiver: root\nroutes:\n  - match: {{x: {scalar}}}\n    receiver: hit\n")
    assert receivers(root, {"x": value}) == ["hit"]


@pytest.mark.parametrize("scalar", [pytest.param("+1"), pytest.param("~", id="null")])
def test_match_re_scalar_that_is_no_regex_is_an_error(scalar: str) -> None:
    """``match_re: {x: +1}`` is the invalid regex "+1" and a null is no regex: both rejected."""
    with pytest.raises(ConfigError):
        load_tree(f"receiver: root\nroutes:\n  - match_re: {{x: {scalar}}}\n    receiver: hit\n")


# --- the walk: first match, continue, fallback to the parent -------------------------------------

WALK_TREE = """
receiver: root
routes:
  - matchers: [team=db]
    receiver: db
    routes:
      - matchers: [severity=critical]
        receiver: db-pager
      - matchers: [env=prod]
        receiver: db-prod
  - matchers: [team=~"db|web"]
    receiver: db-or-web
  - matchers: [severity=critical]
    receiver: pager
    continue: true
  - matchers: [env=prod]
    receiver: prod
    continue: true
  - matchers: [env=~"prod|staging"]
    receiver: prod-or-staging
  - matchers: [env=prod]
    receiver: never-reached
"""


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, ["root"]),
        # The first matching child ends the walk: db, not also db-or-web.
        ({"team": "db"}, ["db"]),
        ({"team": "web"}, ["db-or-web"]),
        # A node whose children all fail is itself the match.
        ({"team": "db", "severity": "info"}, ["db"]),
        # Within a matched node, the first matching grandchild wins.
        ({"team": "db", "severity": "critical", "env": "prod"}, ["db-pager"]),
        ({"team": "db", "env": "prod"}, ["db-prod"]),
        # continue: true lets the walk go on to later siblings, in order.
        ({"severity": "critical"}, ["pager"]),
        ({"severity": "critical", "env": "prod"}, ["pager", "prod", "prod-or-staging"]),
        ({"env": "prod"}, ["prod", "prod-or-staging"]),
        ({"env": "staging"}, ["prod-or-staging"]),
        ({"severity": "critical", "env": "dev"}, ["pager"]),
    ],
)
def test_walk_order_and_continue(labels: dict[str, str], expected: list[str]) -> None:
    """Depth first; the first match ends the walk unless it continues; a childless match stands."""
    assert receivers(load_tree(WALK_TREE), labels) == expected


def test_nested_node_without_matching_children_is_the_match() -> None:
    """At any depth, a matching node whose children all fail is the match, not its parent."""
    root = load_tree(
        """
        receiver: root
        routes:
          - matchers: [a=1]
            receiver: one
            routes:
              - matchers: [b=2]
                receiver: two
                routes:
                  - matchers: [c=3]
                    receiver: three
                  - matchers: [c=4]
                    receiver: four
        """
    )
    assert receivers(root, {"a": "1", "b": "2", "c": "5"}) == ["two"]
    assert receivers(root, {"a": "1", "b": "9", "c": "3"}) == ["one"]
    assert receivers(root, {"a": "1", "b": "2", "c": "4"}) == ["four"]
    assert receivers(root, {"b": "2", "c": "3"}) == ["root"]


def test_continue_then_no_further_match_keeps_only_the_continued_node() -> None:
    """A continued match that nothing follows is the only result; the parent is not added."""
    root = load_tree(
        """
        receiver: root
        routes:
          - matchers: [a=1]
            receiver: first
            continue: true
          - matchers: [a=2]
            receiver: second
        """
    )
    assert receivers(root, {"a": "1"}) == ["first"]


def test_same_receiver_reached_twice_is_listed_twice() -> None:
    """Two continued matches with one receiver give it twice, as Alertmanager's list does."""
    root = load_tree(
        """
        receiver: root
        routes:
          - matchers: [a=1]
            receiver: dup
            continue: true
          - matchers: [a=~".*"]
            receiver: dup
        """
    )
    assert receivers(root, {"a": "1"}) == ["dup", "dup"]


def test_catch_all_child_shadows_later_siblings() -> None:
    """A child without matchers matches everything and stops the walk unless it continues."""
    root = load_tree(
        """
        receiver: root
        routes:
          - receiver: everything
          - matchers: [a=1]
            receiver: unreachable
        """
    )
    assert receivers(root, {}) == ["everything"]
    assert receivers(root, {"a": "1"}) == ["everything"]


# --- inherited options ---------------------------------------------------------------------------


def test_root_repeat_interval_defaults_to_four_hours() -> None:
    """Without ``repeat_interval`` the root, and so every node, repeats every 4h."""
    root = load_tree(
        """
        receiver: root
        routes:
          - matchers: [a=1]
            receiver: child
        """
    )
    assert root.repeat_interval == timedelta(hours=4)
    assert root.routes[0].repeat_interval == timedelta(hours=4)


def test_receiver_and_repeat_interval_are_inherited() -> None:
    """Each node takes receiver and repeat_interval from its nearest ancestor that sets them."""
    root = load_tree(
        """
        receiver: root
        repeat_interval: 12h
        routes:
          - matchers: [a=1]
            routes:
              - matchers: [b=1]
                receiver: b-team
                routes:
                  - matchers: [c=1]
                    repeat_interval: 5m
                    routes:
                      - matchers: [d=1]
          - matchers: [a=2]
            receiver: a2
            repeat_interval: 1h
        """
    )
    got = {r.id: (r.receiver, r.repeat_interval) for r in root.walk()}
    assert got == {
        "route": ("root", timedelta(hours=12)),
        "route.routes[0]": ("root", timedelta(hours=12)),
        "route.routes[0].routes[0]": ("b-team", timedelta(hours=12)),
        "route.routes[0].routes[0].routes[0]": ("b-team", timedelta(minutes=5)),
        "route.routes[0].routes[0].routes[0].routes[0]": ("b-team", timedelta(minutes=5)),
        "route.routes[1]": ("a2", timedelta(hours=1)),
    }
    leaf = root.match({"a": "1", "b": "1", "c": "1", "d": "1"})
    assert [(r.receiver, r.repeat_interval) for r in leaf] == [("b-team", timedelta(minutes=5))]


# --- Router: the cached walk ---------------------------------------------------------------------


def test_router_matches_like_the_tree_and_caches_per_label_set() -> None:
    """``Router.match`` gives the tree's result as a tuple, whatever the label order or repeats."""
    root = load_tree(WALK_TREE)
    router = Router(root)
    for labels in ({}, {"env": "prod"}, {"severity": "critical", "env": "prod"}, {"team": "db"}):
        assert router.match(labels) == tuple(root.match(labels))
        assert router.match(labels) == tuple(root.match(labels))  # now from the cache
        assert router.match(dict(reversed(labels.items()))) == tuple(root.match(labels))
    assert [r.receiver for r in router.match({"env": "prod"})] == ["prod", "prod-or-staging"]
    assert [r.receiver for r in router.match({"env": "staging"})] == ["prod-or-staging"]


def test_router_with_no_labels_returns_the_root() -> None:
    """An empty label set reaches only the root (the tree's default receiver)."""
    root = load_tree(GO_TREES["TestRouteMatch"])
    assert Router(root).match({}) == (root,)
