"""The container and Kubernetes files in deploy/ hold together.

usage: deploy_files_test.py SOURCE_DIR HERALDD HERALD

No Docker engine or cluster runs in CI, so this checks what can be checked
without one, with the real parts where they exist:
- the Dockerfile: two stages on Debian 12, a numeric non-root user, a health
  check, the ports heraldd serves; runtime-packages.sh, which its build stage
  runs, names an installed Debian package for every library the built
  binaries load;
- the Kubernetes manifests: a one-replica StatefulSet with a volume claim
  for SQLite, probes on heraldd's real health endpoints and named ports, a
  Service and a ServiceMonitor that select what they must, the webhook token
  Secret mounted where the ConfigMap's herald.yaml reads it, and that
  herald.yaml accepted by `heraldd --check-config`; `kubectl kustomize`
  renders them when kubectl is installed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml


def fail(why):
    sys.exit(f"FAIL: {why}")


def check_dockerfile(src, heraldd, herald):
    lines = [l.strip() for l in open(f"{src}/deploy/docker/Dockerfile")
             if l.strip() and not l.startswith("#")]
    stages = [l.split()[1] for l in lines if l.startswith("FROM ")]
    if len(stages) != 2 or not all(s.startswith("debian:12") for s in stages):
        fail(f"Dockerfile stages {stages}: want two, both Debian 12")
    users = [l.split()[1] for l in lines if l.startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root") or not users[-1].split(":")[0].isdigit():
        fail(f"the image must run as a numeric non-root user, not {users}")
    if not any(l.startswith("HEALTHCHECK ") for l in lines):
        fail("the Dockerfile has no HEALTHCHECK")
    exposed = {p for l in lines if l.startswith("EXPOSE ") for p in l.split()[1:]}
    if exposed != {"7600", "7601"}:
        fail(f"EXPOSE {exposed}: want 7600 and 7601")
    out = subprocess.run(["bash", f"{src}/deploy/docker/runtime-packages.sh", heraldd, herald],
                         capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.split():
        fail(f"runtime-packages.sh: {out.stderr}")
    for pkg in out.stdout.split():
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                                capture_output=True, text=True).stdout
        if "install ok installed" not in status:
            fail(f"runtime-packages.sh named {pkg}, which is not an installed package")
    print(f"Dockerfile: 2 Debian 12 stages, user {users[-1]}; "
          f"{len(out.stdout.split())} runtime packages")
    return users[-1].split(":")[0]


def check_kubernetes(src, heraldd, image_uid):
    k8s = f"{src}/deploy/kubernetes"
    kustomization = yaml.safe_load(open(f"{k8s}/kustomization.yaml"))
    docs = [d for f in kustomization["resources"]
            for d in yaml.safe_load_all(open(f"{k8s}/{f}")) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in ("StatefulSet", "Service", "ServiceMonitor", "Secret", "ConfigMap"):
        if kind not in by_kind:
            fail(f"no {kind} among {sorted(by_kind)}")
    sts = by_kind["StatefulSet"][0]
    spec = sts["spec"]
    if spec.get("replicas") != 1:
        fail("SQLite has one writer: the StatefulSet must have exactly one replica")
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    if pod["securityContext"].get("runAsNonRoot") is not True or \
            str(pod["securityContext"].get("runAsUser")) != image_uid:
        fail(f"the pod must run as non-root uid {image_uid}, the image's user")
    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if ports != {"http": 7600, "grpc": 7601}:
        fail(f"container ports {ports}")
    probes = {k: container.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    for name, probe in probes.items():
        if probe is None:
            fail(f"no {name}")
        if "httpGet" in probe:
            if probe["httpGet"]["path"] not in ("/healthz", "/readyz") or \
                    probe["httpGet"]["port"] not in ports:
                fail(f"{name} {probe['httpGet']} is not a health endpoint on a named port")
        elif probe.get("grpc", {}).get("port") != ports["grpc"]:
            fail(f"{name} is neither HTTP health nor gRPC health on the gRPC port")
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    volumes = {v["name"]: v for v in pod["volumes"]}
    for name in mounts:
        if name not in volumes and name not in claims:
            fail(f"volume mount {name} has no volume or claim")

    config_map = by_kind["ConfigMap"][0]
    config_text = config_map["data"]["herald.yaml"]
    config = yaml.safe_load(config_text)["server"]
    data_mount = [m for n, m in mounts.items() if n in claims]
    if not data_mount or data_mount[0]["mountPath"] != config["data_dir"]:
        fail(f"server.data_dir {config['data_dir']} is not on the volume claim")
    token_dir, token_file = os.path.split(config["webhook_token_file"])
    secret_volume = [n for n, m in mounts.items() if m["mountPath"] == token_dir]
    if not secret_volume:
        fail(f"nothing is mounted at {token_dir}, where the config reads the webhook token")
    items = volumes[secret_volume[0]]["secret"]
    secret = [s for s in by_kind["Secret"] if s["metadata"]["name"] == items["secretName"]]
    if not secret or not any(i["path"] == token_file and i["key"] in secret[0]["stringData"]
                             for i in items["items"]):
        fail(f"the webhook token Secret does not provide {token_file}")

    services = by_kind["Service"]
    for svc in services:
        if not all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
            fail(f"Service {svc['metadata']['name']} does not select the pod")
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in ports:
                fail(f"Service port {p['name']} targets {p['targetPort']}, not a container port")
    if spec["serviceName"] not in {s["metadata"]["name"] for s in services if s["spec"].get("clusterIP") == "None"}:
        fail("the StatefulSet's serviceName is not a headless Service")
    monitor = by_kind["ServiceMonitor"][0]["spec"]
    selected = [s for s in services
                if all(s["metadata"]["labels"].get(k) == v for k, v in monitor["selector"]["matchLabels"].items())]
    if len(selected) != 1:
        fail(f"the ServiceMonitor selects {len(selected)} Services: each pod would be scraped that often")
    endpoint = monitor["endpoints"][0]
    if endpoint["path"] != "/metrics" or endpoint["port"] not in {p["name"] for p in selected[0]["spec"]["ports"]}:
        fail(f"the ServiceMonitor scrapes {endpoint}")

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(config_text)
        f.flush()
        check = subprocess.run([heraldd, "--config", f.name, "--check-config"],
                               capture_output=True, text=True)
        if check.returncode != 0 or ": OK:" not in check.stdout:
            fail(f"heraldd --check-config refuses the ConfigMap's herald.yaml: {check.stderr}")
    if shutil.which("kubectl"):
        rendered = subprocess.run(["kubectl", "kustomize", k8s], capture_output=True, text=True)
        if rendered.returncode != 0:
            fail(f"kubectl kustomize: {rendered.stderr}")
        print("kubectl kustomize renders the manifests")
    print(f"Kubernetes: {len(docs)} objects hold together")


def main():
    src, heraldd, herald = sys.argv[1:]
    uid = check_dockerfile(src, heraldd, herald)
    check_kubernetes(src, heraldd, uid)
    print("PASS")


if __name__ == "__main__":
    main()
