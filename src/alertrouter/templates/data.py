# Attribute and method names are Alertmanager's Go names (templates say .CommonLabels.SortedPairs).
# ruff: noqa: N802, N803
"""Alertmanager's template ``Data`` (``template.Data`` of Alertmanager 0.25) and its types.

``data_from_webhook`` decodes a webhook payload the way ``amtool template render
--template.data`` does: Go's ``encoding/json`` into ``template.Data``, so unknown keys are
ignored, keys match field names case-insensitively, ``null`` leaves a field at its zero value and
nothing is recomputed (Common* labels are taken as sent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from .gotime import GoDuration, GoTime, parse_rfc3339, parse_time

__all__ = [
    "KV",
    "Alert",
    "Alerts",
    "Data",
    "Pair",
    "Pairs",
    "Strings",
    "amtool_default_data",
    "data_from_webhook",
]

_ALERT_NAME = "alertname"
_RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Strings(list[str]):
    """A ``[]string``; ``Join`` is the method later Alertmanager releases added to it."""

    go_type = "[]string"

    def Join(self, sep: str) -> str:
        """Join the strings with ``sep`` (``{{ .GroupLabels.Values.Join ":" }}``)."""
        return sep.join(self)


class Pair:
    """A label name and value (``template.Pair``)."""

    go_type = "template.Pair"
    go_fields: ClassVar[tuple[str, ...]] = ("Name", "Value")

    __slots__ = ("Name", "Value")

    def __init__(self, name: str, value: str) -> None:
        self.Name = name
        self.Value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pair):
            return NotImplemented
        return (self.Name, self.Value) == (other.Name, other.Value)

    def __hash__(self) -> int:
        return hash((self.Name, self.Value))

    def __repr__(self) -> str:
        return f"Pair({self.Name!r}, {self.Value!r})"


class Pairs(list[Pair]):
    """A list of pairs (``template.Pairs``)."""

    go_type = "template.Pairs"

    def Names(self) -> Strings:
        """The pairs' names, in order."""
        return Strings(p.Name for p in self)

    def Values(self) -> Strings:
        """The pairs' values, in order."""
        return Strings(p.Value for p in self)


class KV(dict[str, str]):
    """A label or annotation set (``template.KV``); missing keys read as ``""``."""

    go_type = "template.KV"
    go_zero_value: ClassVar[str] = ""
    # True for Go's nil map (a field absent or null in the JSON): %#v and toJson tell it apart.
    go_nil = False

    @classmethod
    def nil(cls) -> KV:
        """Go's nil ``template.KV``: empty, but printed ``template.KV(nil)`` by ``%#v``."""
        kv = cls()
        kv.go_nil = True
        return kv

    def SortedPairs(self) -> Pairs:
        """Pairs sorted by name, except that ``alertname`` always comes first."""
        names = sorted(k for k in self if k != _ALERT_NAME)
        if _ALERT_NAME in self:
            names.insert(0, _ALERT_NAME)
        return Pairs(Pair(k, self[k]) for k in names)

    def Remove(self, keys: Iterable[str]) -> KV:
        """A copy without the given keys."""
        drop = set(keys)
        return KV({k: v for k, v in self.items() if k not in drop})

    def Names(self) -> Strings:
        """The names in ``SortedPairs`` order."""
        return self.SortedPairs().Names()

    def Values(self) -> Strings:
        """The values in ``SortedPairs`` order."""
        return self.SortedPairs().Values()


class Alert:
    """One alert as templates see it (``template.Alert``)."""

    go_type = "template.Alert"
    go_fields: ClassVar[tuple[str, ...]] = (
        "Status",
        "Labels",
        "Annotations",
        "StartsAt",
        "EndsAt",
        "GeneratorURL",
        "Fingerprint",
    )
    go_json: ClassVar[tuple[str, ...]] = (
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    )

    def __init__(
        self,
        Status: str = "",
        Labels: KV | None = None,
        Annotations: KV | None = None,
        StartsAt: GoTime | None = None,
        EndsAt: GoTime | None = None,
        GeneratorURL: str = "",
        Fingerprint: str = "",
    ) -> None:
        self.Status = Status
        # None stands for Go's nil map: it prints as map[] and reads as empty.
        self.Labels = Labels if Labels is not None else KV()
        self.Annotations = Annotations if Annotations is not None else KV()
        self.StartsAt = StartsAt if StartsAt is not None else GoTime.zero()
        self.EndsAt = EndsAt if EndsAt is not None else GoTime.zero()
        self.GeneratorURL = GeneratorURL
        self.Fingerprint = Fingerprint

    def __repr__(self) -> str:
        return f"Alert({self.Status!r}, {dict(self.Labels)!r})"


class AlertList(list[Alert]):
    """A plain ``[]template.Alert``, as ``Firing`` and ``Resolved`` return."""

    go_type = "[]template.Alert"


class Alerts(list[Alert]):
    """The alerts of a notification (``template.Alerts``)."""

    go_type = "template.Alerts"
    go_nil = False

    @classmethod
    def nil(cls) -> Alerts:
        """Go's nil ``template.Alerts`` (no ``alerts`` in the JSON)."""
        alerts = cls()
        alerts.go_nil = True
        return alerts

    def Firing(self) -> AlertList:
        """The alerts whose status is ``firing``."""
        return AlertList(a for a in self if a.Status == "firing")

    def Resolved(self) -> AlertList:
        """The alerts whose status is ``resolved``."""
        return AlertList(a for a in self if a.Status == "resolved")


class Data:
    """The value of ``.`` in a notification template (``template.Data``)."""

    go_type = "template.Data"
    go_fields: ClassVar[tuple[str, ...]] = (
        "Receiver",
        "Status",
        "Alerts",
        "GroupLabels",
        "CommonLabels",
        "CommonAnnotations",
        "ExternalURL",
    )
    go_json: ClassVar[tuple[str, ...]] = (
        "receiver",
        "status",
        "alerts",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
    )

    def __init__(
        self,
        Receiver: str = "",
        Status: str = "",
        Alerts: Alerts | None = None,
        GroupLabels: KV | None = None,
        CommonLabels: KV | None = None,
        CommonAnnotations: KV | None = None,
        ExternalURL: str = "",
    ) -> None:
        self.Receiver = Receiver
        self.Status = Status
        self.Alerts = Alerts if Alerts is not None else _no_alerts()
        self.GroupLabels = GroupLabels if GroupLabels is not None else KV()
        self.CommonLabels = CommonLabels if CommonLabels is not None else KV()
        self.CommonAnnotations = CommonAnnotations if CommonAnnotations is not None else KV()
        self.ExternalURL = ExternalURL

    def __repr__(self) -> str:
        return f"Data({self.Receiver!r}, {self.Status!r}, {len(self.Alerts)} alerts)"


def _no_alerts() -> Alerts:
    # Data.__init__'s parameter named Alerts hides the class there.
    return Alerts()


# --- decoding --------------------------------------------------------------------------------


class WebhookDataError(ValueError):
    """The payload does not decode into ``template.Data`` (amtool would refuse it too)."""


def _go_string(value: str) -> str:
    # Go's JSON decoder turns unpaired UTF-16 surrogates into U+FFFD; Python keeps them.
    return _LONE_SURROGATE.sub("\ufffd", value)


def _fields(obj: Mapping[str, Any], names: tuple[str, ...], what: str) -> dict[str, Any]:
    """Match JSON keys to field names as ``encoding/json`` does: exact, else case-insensitive."""
    out: dict[str, Any] = {}
    by_fold = {n.lower(): n for n in names}
    for key, value in obj.items():
        name = key if key in names else by_fold.get(key.lower())
        if name is not None:
            out[name] = value
    return out


def _string(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebhookDataError(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {where} "
            "of type string"
        )
    return _go_string(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _kv(value: Any, where: str) -> KV:
    if value is None:
        return KV.nil()
    if not isinstance(value, Mapping):
        raise WebhookDataError(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {where} "
            "of type template.KV"
        )
    return KV({_go_string(k): _string(v, where) for k, v in value.items()})


def _time(value: Any, where: str) -> GoTime:
    if value is None:
        return GoTime.zero()
    if not isinstance(value, str):
        raise WebhookDataError(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {where} "
            "of type time.Time"
        )
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        # Go parses the JSON string, quotes included, with a quoted RFC 3339 layout: its error
        # message shows both quoted.
        try:
            parse_time(f'"{_RFC3339_LAYOUT}"', f'"{value}"')
        except ValueError as go_error:
            raise WebhookDataError(str(go_error)) from exc
        raise WebhookDataError(str(exc)) from exc


def _alert(value: Any) -> Alert:
    if value is None:
        return Alert(Labels=KV.nil(), Annotations=KV.nil())
    if not isinstance(value, Mapping):
        raise WebhookDataError(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field Data.alerts "
            "of type template.Alert"
        )
    f = _fields(value, Alert.go_fields, "Alert")
    return Alert(
        Status=_string(f.get("Status"), "Alert.alerts.status"),
        Labels=_kv(f.get("Labels"), "Alert.alerts.labels"),
        Annotations=_kv(f.get("Annotations"), "Alert.alerts.annotations"),
        StartsAt=_time(f.get("StartsAt"), "Alert.alerts.startsAt"),
        EndsAt=_time(f.get("EndsAt"), "Alert.alerts.endsAt"),
        GeneratorURL=_string(f.get("GeneratorURL"), "Alert.alerts.generatorURL"),
        Fingerprint=_string(f.get("Fingerprint"), "Alert.alerts.fingerprint"),
    )


def data_from_webhook(payload: Mapping[str, Any]) -> Data:
    """Build template ``Data`` from a webhook JSON payload exactly as amtool decodes it."""
    f = _fields(payload, Data.go_fields, "Data")
    raw_alerts = f.get("Alerts")
    if raw_alerts is not None and not isinstance(raw_alerts, list):
        raise WebhookDataError(
            f"json: cannot unmarshal {_json_kind(raw_alerts)} into Go struct field Data.alerts "
            "of type template.Alerts"
        )
    return Data(
        Receiver=_string(f.get("Receiver"), "Data.receiver"),
        Status=_string(f.get("Status"), "Data.status"),
        Alerts=Alerts.nil() if raw_alerts is None else Alerts(_alert(a) for a in raw_alerts),
        GroupLabels=_kv(f.get("GroupLabels"), "Data.groupLabels"),
        CommonLabels=_kv(f.get("CommonLabels"), "Data.commonLabels"),
        CommonAnnotations=_kv(f.get("CommonAnnotations"), "Data.commonAnnotations"),
        ExternalURL=_string(f.get("ExternalURL"), "Data.externalURL"),
    )


def amtool_default_data(now: GoTime | None = None) -> Data:
    """The data ``amtool template render`` uses without ``--template.data``.

    Its alerts started five and ten minutes before ``now`` and end at ``now`` (the moment of the
    render, like amtool's ``time.Now()``).
    """
    end = now if now is not None else GoTime.now()
    minute = GoDuration(60 * 1_000_000_000)
    common_labels = {"commonlabelkey1": "commonlabelvalue1", "commonlabelkey2": "commonlabelvalue2"}
    common_annotations = {
        "commonannotationkey1": "commonannotationvalue1",
        "commonannotationkey2": "commonannotationvalue2",
    }
    first = Alert(
        Status="alertstatus",
        Labels=KV(
            {"label1": "value1", "label2": "value2", "instance": "foo.bar:1234"} | common_labels
        ),
        Annotations=KV({"annotation1": "value1", "annotation2": "value2"} | common_annotations),
        StartsAt=end.Add(-5 * minute),
        EndsAt=end,
        GeneratorURL="https://generatorurl.com",
        Fingerprint="fingerprint1",
    )
    second = Alert(
        Status="alertstatus",
        Labels=KV({"foo": "bar", "baz": "qux"} | common_labels),
        Annotations=KV({"aaa": "bbb", "ccc": "ddd"} | common_annotations),
        StartsAt=end.Add(-10 * minute),
        EndsAt=end,
        GeneratorURL="https://generatorurl.com",
        Fingerprint="fingerprint2",
    )
    return Data(
        Receiver="receiver",
        Status="alertstatus",
        Alerts=Alerts([first, second]),
        GroupLabels=KV(
            {"grouplabelkey1": "grouplabelvalue1", "grouplabelkey2": "grouplabelvalue2"}
        ),
        CommonLabels=KV(common_labels),
        CommonAnnotations=KV(common_annotations),
        ExternalURL="https://example.com",
    )
