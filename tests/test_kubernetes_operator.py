"""deploy/kubernetes/prometheus-operator/: the ServiceMonitor and PrometheusRule, valid against
the operator's CRD schemas (vendored in schemas/, validated offline, unknown fields rejected as
``kubectl apply --validate=strict`` would), scraping what the Service serves and carrying
exactly the rules of monitoring/prometheus/rules/alertrouter.yml.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
KUBERNETES = REPO / "deploy" / "kubernetes"
OPERATOR = KUBERNETES / "prometheus-operator"
SCHEMAS = OPERATOR / "schemas"
RULES = REPO / "monitoring" / "prometheus" / "rules" / "alertrouter.yml"
OBJECTS = {
    "servicemonitor.yaml": ("ServiceMonitor", "servicemonitors"),
    "prometheusrule.yaml": ("PrometheusRule", "prometheusrules"),
}


def load(path: Path) -> Any:
    """One YAML document, parsed."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def strict(schema: Any) -> Any:
    """The schema with unknown fields rejected wherever it lists an object's fields, as the API
    server's strict field validation does (it never rejects under preserve-unknown-fields)."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
                node.setdefault("additionalProperties", False)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def validator(plural: str) -> jsonschema.Draft7Validator:
    """A strict validator for the v1 schema of ``<plural>.monitoring.coreos.com``."""
    path = SCHEMAS / f"{plural}.monitoring.coreos.com-v1.json"
    return jsonschema.Draft7Validator(strict(json.loads(path.read_text(encoding="utf-8"))))


def errors(plural: str, document: Any) -> list[str]:
    """Every schema violation, as path: message."""
    return [f"{e.json_path}: {e.message}" for e in validator(plural).iter_errors(document)]


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_each_object_validates_strictly_against_its_crd_schema(name: str) -> None:
    """The ServiceMonitor and the PrometheusRule follow the operator's v1 CRD schemas."""
    kind, plural = OBJECTS[name]
    document = load(OPERATOR / name)
    assert (document["apiVersion"], document["kind"]) == ("monitoring.coreos.com/v1", kind)
    assert errors(plural, document) == []


def test_the_schemas_are_live() -> None:
    """A misspelt field and a wrong type are errors: the validation is not vacuous."""
    monitor = load(OPERATOR / "servicemonitor.yaml")
    monitor["spec"]["endpoints"][0]["intervall"] = "10s"
    assert errors("servicemonitors", monitor)
    rule = load(OPERATOR / "prometheusrule.yaml")
    rule["spec"]["groups"][0]["rules"][0]["for"] = 120
    assert errors("prometheusrules", rule)


def test_prometheusrule_holds_exactly_the_shipped_rules() -> None:
    """spec.groups equals rules/alertrouter.yml's groups (`make prometheusrule` regenerates)."""
    assert load(OPERATOR / "prometheusrule.yaml")["spec"] == load(RULES), (
        "run `make prometheusrule`"
    )


def test_servicemonitor_scrapes_the_service_where_the_annotations_point() -> None:
    """It selects the Service's labels and named port, on the annotated metrics path, and its
    job (the Service's name) is the one the rules select."""
    monitor = load(OPERATOR / "servicemonitor.yaml")
    service = load(KUBERNETES / "service.yaml")
    (deployment,) = [
        doc
        for doc in yaml.safe_load_all((KUBERNETES / "deployment.yaml").read_text("utf-8"))
        if doc and doc["kind"] == "Deployment"
    ]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == annotations["prometheus.io/path"]
    assert "jobLabel" not in monitor["spec"], "the job is the Service's name"
    assert service["metadata"]["name"] == "alertrouter"
    assert 'up{job="alertrouter"}' in RULES.read_text(encoding="utf-8")


def test_kustomization_lists_both_objects() -> None:
    """`kubectl apply -k deploy/kubernetes/prometheus-operator` applies both, and the main
    kustomization leaves them out (clusters without the operator lack the CRDs)."""
    assert sorted(load(OPERATOR / "kustomization.yaml")["resources"]) == sorted(OBJECTS)
    assert not set(load(KUBERNETES / "kustomization.yaml")["resources"]) & set(OBJECTS)
