"""What deploy/ ships: Kubernetes manifests valid against the API schemas (kubernetes-validate
ships them, so this runs offline), the rules of OPERATIONS.md in the manifests, the image's
Dockerfile, the compose services, the Grafana dashboard's metrics and the lock files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import orjson
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from processor.ingress.service import IngressMetrics
from processor.metrics import Metrics
from processor.reports.service import ReportMetrics
from processor.settings import Settings
from tests.support.stack import ROOT

K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes the manifests support (preStop sleep is 1.30) and the newest schema
# kubernetes-validate ships.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


def resources() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in kustomization()["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text()):
            if document:
                yield name, document


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in resources() if d["kind"] == kind}


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for _, document in resources():
        if document["kind"] in {"Deployment", "Job"}:
            yield document["metadata"]["name"], document["spec"]["template"]["spec"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_api(version: str) -> None:
    checked = 0
    for name, document in resources():
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name} {document['kind']}/{document['metadata']['name']}: "
                        f"{exc.message} at {'.'.join(map(str, exc.path))}")
        checked += 1
    assert checked >= 10


def test_the_validator_does_refuse_a_wrong_manifest() -> None:
    worker = by_kind("Deployment")["consent-gate-worker"]
    broken = yaml.safe_load(yaml.safe_dump(worker))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"][
        "path"] = 5
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_the_kustomization_lists_every_manifest_and_one_image() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    [image] = kustomization()["images"]
    for name, spec in pod_specs():
        assert {c["image"] for c in spec["containers"]} == {image["name"]}, name


def test_the_settings_configmap_is_settings_the_processor_accepts() -> None:
    data = by_kind("ConfigMap")["consent-gate-settings"]["data"]
    settings = Settings.from_env(data)  # an unknown CG_ variable would raise
    assert settings.partitions == int(data["CG_PARTITIONS"])
    gateways = by_kind("ConfigMap")["consent-gate-gateways"]["data"]["gateways.yaml"]
    from processor.domain.gateways.parsing import parse_gateways

    parse_gateways(yaml.safe_load(gateways))
    secret = by_kind("Secret")["consent-gate-secrets"]["stringData"]
    from processor.ingress.tokens import parse_tokens

    parse_tokens(yaml.safe_load(secret["tokens.yaml"]))
    for key in secret:
        if key.startswith("CG_"):
            Settings.from_env({key: secret[key]})


def test_the_worker_fits_the_partitions_and_finishes_a_batch_on_sigterm() -> None:
    settings = Settings.from_env(by_kind("ConfigMap")["consent-gate-settings"]["data"])
    worker = by_kind("Deployment")["consent-gate-worker"]
    assert worker["spec"]["replicas"] <= settings.partitions
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    spec = worker["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] * 1000 > settings.transaction_timeout_ms
    [container] = spec["containers"]
    assert container["args"] == ["run"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == settings.web_port
    reports = by_kind("Deployment")["consent-gate-reports"]
    assert reports["spec"]["replicas"] == 1  # one replica holds every partition's counts


def test_services_and_budgets_select_their_pods() -> None:
    deployments = by_kind("Deployment")
    labels = {name: d["spec"]["template"]["metadata"]["labels"]
              for name, d in deployments.items()}
    for name, service in by_kind("Service").items():
        assert service["spec"]["selector"].items() <= labels[name].items()
        [container] = deployments[name]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"] for p in container["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    budgets = by_kind("PodDisruptionBudget")
    assert set(budgets) == {"consent-gate-worker", "consent-gate-ingress"}
    for name, budget in budgets.items():
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels[name].items()
    ingress = deployments["consent-gate-ingress"]["spec"]["template"]["spec"]["containers"][0]
    assert ingress["args"] == ["ingress"]
    assert (ingress["livenessProbe"]["httpGet"]["path"],
            ingress["readinessProbe"]["httpGet"]["path"]) == ("/healthz", "/readyz")


def test_every_pod_runs_unprivileged_and_refers_to_what_exists() -> None:
    config_maps, secrets = set(by_kind("ConfigMap")), set(by_kind("Secret"))
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] >= 10000, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert "limits" in container["resources"], name
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for variable in container.get("env", []):
                if "valueFrom" in variable:
                    assert variable["valueFrom"]["secretKeyRef"]["name"] in secrets
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets


def test_the_dockerfile_builds_one_slim_unprivileged_image() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(stages) >= 2  # multi-stage: build tools stay in the build stage
    assert "slim" in re.search(r"ARG PYTHON_IMAGE=(\S+)", text).group(1)  # type: ignore[union-attr]
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert 'ENTRYPOINT ["python", "-m", "processor"]' in text
    assert "--require-hashes -r deploy/requirements.lock" in text
    for copied in re.findall(r"^COPY (?!--from)(\S+)", text, re.MULTILINE):
        assert (ROOT / copied).exists(), copied


def test_compose_runs_the_roles_from_the_dockerfile() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for role, command in (("worker", ["run"]), ("ingress", ["ingress"]),
                          ("reports", ["reports-service"]), ("topics", ["topics", "create"])):
        assert services[role]["build"]["dockerfile"] == "deploy/Dockerfile", role
        assert services[role]["command"] == command
        assert services[role]["profiles"] == ["app"]  # `docker compose up` = the stack only
    assert {"kafka", "redis"} <= set(services)


def _metric_names() -> set[str]:
    names: set[str] = set()
    for registry in (Metrics().registry, IngressMetrics().registry, ReportMetrics().registry):
        for family in registry.collect():
            names.update(sample.name for sample in family.samples)
            names.add(family.name)
    # Label-less families expose no sample until used; their exposed names are these.
    names.update(f"{n}_total" for n in list(names))
    names.update(f"{n}_bucket" for n in list(names))
    return names


def test_the_grafana_dashboard_uses_metrics_that_exist() -> None:
    import json

    dashboard = json.loads((ROOT / "deploy" / "grafana" / "consent-gate-dashboard.json")
                           .read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"consent_gate_[a-z_]+", expr)}
    assert used, "no metric in the dashboard"
    missing = used - _metric_names()
    assert not missing, f"the dashboard uses metrics nobody exports: {sorted(missing)}"
    # The worker's, the ingress's and the consent transitions all have panels.
    assert {"consent_gate_records_total", "consent_gate_ingress_requests_total",
            "consent_gate_consent_transitions_total"} <= used


# --- packaging ----------------------------------------------------------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


@pytest.mark.parametrize(("lock", "groups"), [
    ("requirements.lock", ("charts",)), ("requirements-dev.lock", ("charts", "dev"))])
def test_the_lock_pins_every_declared_dependency_within_its_bounds(
        lock: str, groups: tuple[str, ...]) -> None:
    pins = _pins(ROOT / "deploy" / lock)
    declared = list(PYPROJECT["project"]["dependencies"])
    for group in groups:
        declared += PYPROJECT["project"]["optional-dependencies"][group]
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name(PYPROJECT["project"]["name"]):
            continue  # the project's own extras
        assert name in pins, f"{lock} does not pin {name} (run `make lock`)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {requirement.specifier}")


def test_redis_py_has_an_upper_bound_and_validate_has_its_dependency() -> None:
    runtime = {canonicalize_name(Requirement(r).name): Requirement(r)
               for r in PYPROJECT["project"]["dependencies"]}
    assert any(s.operator == "<" for s in runtime["redis"].specifier)
    assert "jsonschema" in runtime  # processor.codec.schemas, used by `validate`


def test_the_package_list_is_the_source_tree() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts)
            for p in (ROOT / "processor").rglob("__init__.py")}
    assert listed == tree | {"processor._schemas"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from the checkout (once for the module)."""
    out = tmp_path_factory.mktemp("wheel")
    # From a copy of what the build reads: setuptools reuses a checkout's build/ directory, so
    # a module moved out of processor/ would still be in a wheel built in place.
    source = tmp_path_factory.mktemp("wheel-source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("processor", "schemas"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=300)
    [built] = out.glob("*.whl")
    return built


# Names of what is not the product: the benchmark, the demo, tests.
NOT_THE_PRODUCT = re.compile(r"(^|/)(bench|benchmarks?|demo|tests?|conftest)(/|\.py$)|"
                             r"(^|/)test_[^/]*\.py$")


def test_the_wheel_holds_the_product_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    code = {n for n in names if n.endswith(".py")}
    assert [n for n in names if NOT_THE_PRODUCT.search(n)] == []
    assert [n for n in names if not n.startswith(("processor/", "consent_gate-"))] == []
    # Every module shipped is a module of processor/ (nothing generated or copied in).
    assert code == {p.relative_to(ROOT).as_posix() for p in (ROOT / "processor").rglob("*.py")}
    assert NOT_THE_PRODUCT.search("processor/bench/main.py")  # the pattern does match
    assert NOT_THE_PRODUCT.search("processor/demo.py")


def test_the_wheel_ships_the_schemas(wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.relative_to(ROOT / "schemas").as_posix()
               for p in (ROOT / "schemas").rglob("*") if p.is_file()}
    assert {f"processor/_schemas/{s}" for s in schemas} <= names
    assert "processor/ingress/service.py" in names
    # Installed (no source checkout beside it), `validate` reads the schemas it ships.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    example = (ROOT / "schemas" / "examples" / "inbound").glob("valid-*.json")
    line = orjson.dumps(orjson.loads(next(iter(example)).read_bytes())) + b"\n"
    checked = subprocess.run(
        [sys.executable, "-c", "import sys; from processor.codec import schemas; "
         "print(schemas.SCHEMA_DIR); from processor.__main__ import main; "
         "sys.exit(main(['validate', 'inbound']))"],
        check=False, input=line + b"{}\n", cwd=tmp_path, capture_output=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"})
    assert checked.stdout.decode().startswith(str(site / "processor" / "_schemas")), checked
    assert checked.returncode == 1, checked  # the second line is invalid, the first valid
    assert b"line 2" in checked.stdout and b"line 1" not in checked.stdout
