"""deploy/kubernetes*.yaml: valid against the Kubernetes API schemas, hardened, and
consistent with the image (user, data dir, port), the health endpoints and the settings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from churnwatch.settings import Settings
from churnwatch.settings.environment import unknown_variables
from tests.support.packaging import env_of_image, final_stage

ROOT = Path(__file__).parents[2]
MANIFEST = ROOT / "deploy" / "kubernetes.yaml"
MONITORING = ROOT / "deploy" / "kubernetes-monitoring.yaml"


def objects(path: Path = MANIFEST) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(path.read_text()) if doc}


@pytest.mark.parametrize("version", ["1.34.0", "1.37.0"])
def test_manifest_is_valid_strictly(version: str) -> None:
    tool = Path(sys.executable).parent / "kubernetes-validate"
    done = subprocess.run([str(tool), "--strict", "-k", version, str(MANIFEST)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("passed") == len(objects()) == 6, done.stdout


def pod() -> dict[str, Any]:
    spec: dict[str, Any] = objects()["Deployment"]["spec"]["template"]["spec"]
    return spec


def test_pod_is_hardened() -> None:
    spec = pod()
    assert spec["automountServiceAccountToken"] is False
    uid = next(a for op, a in final_stage() if op == "ARG" and a.startswith("UID=")).split("=")[1]
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": int(uid),
                                       "runAsGroup": int(uid), "fsGroup": int(uid),
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    (worker,) = spec["containers"]
    assert worker["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "privileged": False, "capabilities": {"drop": ["ALL"]}}
    assert set(worker["resources"]) == {"requests", "limits"}
    assert worker["resources"]["limits"]["memory"]
    assert {c["topologyKey"] for c in spec["topologySpreadConstraints"]} == {
        "kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_writable_paths_are_volumes_and_every_mount_has_one() -> None:
    spec = pod()
    (worker,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in worker["volumeMounts"]}
    assert set(mounts.values()) == set(volumes)
    data_dir = env_of_image()["CHURNWATCH_RUNTIME__DATA_DIR"]
    assert "emptyDir" in volumes[mounts[data_dir]], "Faust writes here: needs a volume"
    assert "emptyDir" in volumes[mounts["/tmp"]]
    read_only = {path for path, name in mounts.items() if "emptyDir" not in volumes[name]}
    assert all(m.get("readOnly") for m in worker["volumeMounts"]
               if m["mountPath"] in read_only)


def test_probes_use_the_health_endpoints_on_the_metrics_port() -> None:
    (worker,) = pod()["containers"]
    (port,) = worker["ports"]
    assert port["containerPort"] == int(env_of_image()["CHURNWATCH_RUNTIME__METRICS_PORT"])
    paths = {probe: worker[probe]["httpGet"]["path"] for probe in
             ("startupProbe", "livenessProbe", "readinessProbe")}
    assert paths == {"startupProbe": "/livez", "livenessProbe": "/livez",
                     "readinessProbe": "/readyz"}
    assert {worker[p]["httpGet"]["port"] for p in paths} == {port["name"]}


def test_selectors_agree() -> None:
    docs = objects()
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert docs["Deployment"]["spec"]["selector"]["matchLabels"] == labels
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    service = docs["Service"]
    assert service["spec"]["selector"] == labels and service["spec"]["clusterIP"] == "None"
    monitor = objects(MONITORING)["ServiceMonitor"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"][
        "labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
    assert job == "churnwatch", "the rules select job=\"churnwatch\""


def test_settings_in_the_manifest_are_real_settings(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CHURNWATCH_ variable, the commented ones too, names a setting, and the
    ConfigMap's file with the manifest's values loads."""
    text = MANIFEST.read_text()
    names = set(re.findall(r"\bname: (CHURNWATCH_[A-Z_]+)", text))
    assert {"CHURNWATCH_KAFKA__SSL_CAFILE", "CHURNWATCH_RISK__PARAMS_FILE"} <= names
    assert unknown_variables(dict.fromkeys(names, "")) == []
    docs = objects()
    (tmp_path / "churnwatch.toml").write_text(docs["ConfigMap"]["data"]["churnwatch.toml"])
    (worker,) = pod()["containers"]
    for var in worker["env"]:
        if "value" in var:
            monkeypatch.setenv(var["name"], var["value"])
    monkeypatch.setenv("CHURNWATCH_CONFIG", str(tmp_path / "churnwatch.toml"))
    monkeypatch.setenv("CHURNWATCH_KAFKA__SASL_PASSWORD",
                       docs["Secret"]["stringData"]["password"])
    settings = Settings.from_env()
    assert settings.topics.partitions == 12
    assert settings.kafka.security_protocol == "SASL_SSL"
    secret = next(v for v in worker["env"] if "valueFrom" in v)["valueFrom"]["secretKeyRef"]
    assert secret["name"] == docs["Secret"]["metadata"]["name"]
    assert secret["key"] in docs["Secret"]["stringData"]
