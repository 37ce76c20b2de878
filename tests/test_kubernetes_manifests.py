"""deploy/kubernetes/: every manifest valid for Kubernetes 1.30 (strict), and consistent.

Validation uses ``kubernetes-validate`` and the schemas it ships (offline). The other checks
are the promises of deploy/kubernetes/README.md: two replicas, the probes, non-root, the
shipped routing policy in the ConfigMap, secrets only through ``secretKeyRef``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
KUBERNETES = REPO / "deploy" / "kubernetes"
SHIPPED = REPO / "config" / "alertrouter.yml"
KUBERNETES_VERSION = "1.30.0"
MANIFESTS = sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
SECRET_KEYS = {"PAGERDUTY_SERVICE_KEY", "SLACK_WEBHOOK_URL", "ALERTROUTER_WEBHOOK_TOKEN"}
ROUTER = {"app.kubernetes.io/name": "alertrouter", "app.kubernetes.io/component": "router"}


def documents(name: str) -> list[dict[str, Any]]:
    """The YAML documents of one manifest file (empty ones dropped)."""
    with (KUBERNETES / name).open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def resource(kind: str, name: str) -> dict[str, Any]:
    """The one resource of ``kind`` named ``name`` across the manifests."""
    found = [
        doc
        for file in MANIFESTS
        for doc in documents(file)
        if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} definitions"
    return found[0]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    """One container of a workload's pod template."""
    (found,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return found


def test_the_pinned_kubernetes_version_has_schemas() -> None:
    """The package ships the 1.30 schemas, so validation below runs offline against them."""
    package = Path(kubernetes_validate.__file__).parent
    assert (package / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict").is_dir()


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_manifest_is_valid_for_the_pinned_kubernetes_strictly(name: str) -> None:
    """Each resource validates against Kubernetes 1.30's schema, unknown fields rejected."""
    docs = documents(name)
    assert docs, f"{name} holds no resource"
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    """Strict mode catches what Kubernetes would silently drop (the check above has teeth)."""
    deployment = resource("Deployment", "alertrouter")
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest_but_the_example_secret() -> None:
    """kustomization.yaml lists each manifest except secret.example.yaml, and nothing else."""
    (kustomization,) = documents("kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(
        m for m in MANIFESTS if m != "secret.example.yaml"
    )
    assert [i["name"] for i in kustomization["images"]] == ["alertrouter"]


def test_two_replicas_with_probes_on_healthy_and_ready() -> None:
    """Two replicas; liveness GETs /-/healthy and readiness /-/ready on the serving port."""
    deployment = resource("Deployment", "alertrouter")
    assert deployment["spec"]["replicas"] == 2
    router = container(deployment, "alertrouter")
    assert router["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert router["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    (port,) = router["ports"]
    assert port == {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    assert router["livenessProbe"]["httpGet"]["port"] == "http"
    assert router["readinessProbe"]["httpGet"]["port"] == "http"
    assert "0.0.0.0:8080" in router["args"]
    assert set(router["resources"]) == {"requests", "limits"}


def test_pods_run_as_non_root_on_a_read_only_root_filesystem() -> None:
    """Both workloads run non-root, without privilege escalation, root filesystem read-only."""
    for kind, name in (("Deployment", "alertrouter"), ("StatefulSet", "alertrouter-redis")):
        workload = resource(kind, name)
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        for each in pod["containers"]:
            security = each["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, each["name"]
            assert security["readOnlyRootFilesystem"] is True, each["name"]
            assert security["capabilities"]["drop"] == ["ALL"], each["name"]


def test_state_is_redis_and_secrets_come_from_the_secret() -> None:
    """STATE_URL names the Redis Service; each secret is a secretKeyRef to a key the example has."""
    router = container(resource("Deployment", "alertrouter"), "alertrouter")
    env = {e["name"]: e for e in router["env"]}
    assert env["ALERTROUTER_STATE_URL"]["value"] == "redis://alertrouter-redis:6379/0"
    assert resource("Service", "alertrouter-redis")["spec"]["ports"][0]["port"] == 6379
    refs = {name: e["valueFrom"]["secretKeyRef"] for name, e in env.items() if "valueFrom" in e}
    assert set(refs) >= SECRET_KEYS
    for name in SECRET_KEYS:
        assert "value" not in env[name]
        assert refs[name] == {"name": "alertrouter", "key": name}, name
    example = resource("Secret", "alertrouter")["stringData"]
    assert {r["key"] for r in refs.values()} <= set(example)
    for key in SECRET_KEYS:
        assert "REPLACE" in example[key], f"{key} should be an obvious placeholder"


def test_the_routing_file_comes_from_the_configmap_at_etc_alertrouter() -> None:
    """The ConfigMap is mounted read-only at /etc/alertrouter, where --config points."""
    deployment = resource("Deployment", "alertrouter")
    router = container(deployment, "alertrouter")
    (mount,) = [m for m in router["volumeMounts"] if m["mountPath"] == "/etc/alertrouter"]
    assert mount["readOnly"] is True
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mount["name"]]["configMap"]["name"] == "alertrouter-config"
    config_flag = router["args"][router["args"].index("--config") + 1]
    assert config_flag == "/etc/alertrouter/alertrouter.yml"
    assert list(resource("ConfigMap", "alertrouter-config")["data"]) == ["alertrouter.yml"]


def test_the_configmap_holds_the_shipped_policy_and_it_checks(tmp_path: Path) -> None:
    """The ConfigMap's routing file is config/alertrouter.yml exactly, and check-config passes."""
    routing = resource("ConfigMap", "alertrouter-config")["data"]["alertrouter.yml"]
    assert routing == SHIPPED.read_text(encoding="utf-8")
    path = tmp_path / "alertrouter.yml"
    path.write_text(routing, encoding="utf-8")
    runner = "from alertrouter.cli.main import main; raise SystemExit(main())"
    result = subprocess.run(
        [sys.executable, "-c", runner, "check-config", "--allow-missing-env", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_services_and_the_budget_select_the_pods() -> None:
    """The Service and the PDB (minAvailable 1) select exactly the alertrouter pods."""
    deployment = resource("Deployment", "alertrouter")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == ROUTER
    assert labels.items() >= ROUTER.items()
    service = resource("Service", "alertrouter")
    assert service["spec"]["selector"] == ROUTER
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    budget = resource("PodDisruptionBudget", "alertrouter")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == ROUTER
    redis = resource("StatefulSet", "alertrouter-redis")
    redis_labels = redis["spec"]["template"]["metadata"]["labels"]
    for name in ("alertrouter-redis", "alertrouter-redis-headless"):
        assert resource("Service", name)["spec"]["selector"].items() <= redis_labels.items()
    assert redis["spec"]["serviceName"] == "alertrouter-redis-headless"


def test_redis_is_durable_and_never_evicts() -> None:
    """Redis runs append-only with fsync, no eviction, its data on a PersistentVolumeClaim."""
    redis = resource("StatefulSet", "alertrouter-redis")
    assert redis["spec"]["replicas"] == 1
    args = container(redis, "redis")["args"]
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] in ("always", "everysec")
    assert options["--maxmemory-policy"] == "noeviction"
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    mounts = container(redis, "redis")["volumeMounts"]
    assert [m["mountPath"] for m in mounts if m["name"] == claim["metadata"]["name"]] == ["/data"]
    assert "managed" in (KUBERNETES / "redis.yaml").read_text(encoding="utf-8")
