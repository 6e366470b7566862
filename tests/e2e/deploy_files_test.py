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
  renders them when kubectl is installed;
- the replicated variant (kubernetes/replicated/): a Deployment of two or
  more replicas with no volume of its own, spread across nodes, with the
  one-replica pod's security context, probes and resource limits; a
  PodDisruptionBudget over the same pods that keeps at least two; herald.yaml
  (accepted by `heraldd --check-config`) whose store.postgres.dsn names the
  CloudNativePG Cluster's `-rw` Service, database and owner, with no password
  in it, its password_file mounted from the Cluster's `-app` Secret, a
  pool that fits the Cluster's max_connections and a claim_lease of at least
  twice (longest send timeout + 5s); a Cluster of three or more instances
  with synchronous replication; the files copied from the one-replica
  manifests unchanged; the migration Job pointing the same DSN at the
  StatefulSet's SQLite claim; `kubectl kustomize` renders what this reads.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

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


def load_kustomization(k8s):
    """The objects a kustomization's resources hold, by kind, and its images."""
    kustomization = yaml.safe_load(open(f"{k8s}/kustomization.yaml"))
    docs = [d for f in kustomization["resources"]
            for d in yaml.safe_load_all(open(f"{k8s}/{f}")) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    return docs, by_kind, kustomization.get("images", [])


def named(objects, name):
    found = [o for o in objects if o["metadata"]["name"] == name]
    return found[0] if found else None


def check_pod(what, pod, image_uid):
    """The checks every heraldd pod passes: its user, ports, probes and mounts.

    Returns the container, its named ports, mounts and the pod's volumes."""
    if pod["securityContext"].get("runAsNonRoot") is not True or \
            str(pod["securityContext"].get("runAsUser")) != image_uid:
        fail(f"{what}: the pod must run as non-root uid {image_uid}, the image's user")
    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if ports != {"http": 7600, "grpc": 7601}:
        fail(f"{what}: container ports {ports}")
    probes = {k: container.get(k) for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    for name, probe in probes.items():
        if probe is None:
            fail(f"{what}: no {name}")
        if "httpGet" in probe:
            if probe["httpGet"]["path"] not in ("/healthz", "/readyz") or \
                    probe["httpGet"]["port"] not in ports:
                fail(f"{what}: {name} {probe['httpGet']} is not a health endpoint on a named port")
        elif probe.get("grpc", {}).get("port") != ports["grpc"]:
            fail(f"{what}: {name} is neither HTTP health nor gRPC health on the gRPC port")
    if "memory" not in container.get("resources", {}).get("limits", {}):
        fail(f"{what}: heraldd has no memory limit")
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    return container, ports, mounts, volumes


def check_webhook_token(what, server_config, mounts, volumes, secrets):
    token_dir, token_file = os.path.split(server_config["webhook_token_file"])
    secret_volume = [n for n, m in mounts.items() if m["mountPath"] == token_dir]
    if not secret_volume:
        fail(f"{what}: nothing is mounted at {token_dir}, where the config reads the webhook token")
    items = volumes[secret_volume[0]]["secret"]
    secret = named(secrets, items["secretName"])
    if not secret or not any(i["path"] == token_file and i["key"] in secret["stringData"]
                             for i in items["items"]):
        fail(f"{what}: the webhook token Secret does not provide {token_file}")


def check_services(what, by_kind, labels, ports):
    """Every Service selects the pod and targets its ports; the
    ServiceMonitor scrapes /metrics through exactly one Service."""
    services = by_kind["Service"]
    for svc in services:
        if not all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
            fail(f"{what}: Service {svc['metadata']['name']} does not select the pod")
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in ports:
                fail(f"{what}: Service port {p['name']} targets {p['targetPort']}, not a container port")
    monitor = by_kind["ServiceMonitor"][0]["spec"]
    selected = [s for s in services
                if all(s["metadata"]["labels"].get(k) == v for k, v in monitor["selector"]["matchLabels"].items())]
    if len(selected) != 1:
        fail(f"{what}: the ServiceMonitor selects {len(selected)} Services: each pod would be scraped that often")
    endpoint = monitor["endpoints"][0]
    if endpoint["path"] != "/metrics" or endpoint["port"] not in {p["name"] for p in selected[0]["spec"]["ports"]}:
        fail(f"{what}: the ServiceMonitor scrapes {endpoint}")
    return services


def check_config_accepted(what, heraldd, config_text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(config_text)
        f.flush()
        check = subprocess.run([heraldd, "--config", f.name, "--check-config"],
                               capture_output=True, text=True)
        if check.returncode != 0 or ": OK:" not in check.stdout:
            fail(f"heraldd --check-config refuses {what}'s herald.yaml: {check.stderr}")


def check_renders(k8s, docs):
    """kubectl kustomize renders the folder into exactly the objects read here."""
    if not shutil.which("kubectl"):
        return
    rendered = subprocess.run(["kubectl", "kustomize", k8s], capture_output=True, text=True)
    if rendered.returncode != 0:
        fail(f"kubectl kustomize {k8s}: {rendered.stderr}")
    got = sorted((d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(rendered.stdout) if d)
    want = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    if got != want:
        fail(f"kubectl kustomize {k8s} renders {got}, not {want}")
    print(f"kubectl kustomize renders {os.path.relpath(k8s)}")


def check_kubernetes(src, heraldd, image_uid):
    k8s = f"{src}/deploy/kubernetes"
    docs, by_kind, _ = load_kustomization(k8s)
    for kind in ("StatefulSet", "Service", "ServiceMonitor", "Secret", "ConfigMap"):
        if kind not in by_kind:
            fail(f"no {kind} among {sorted(by_kind)}")
    sts = by_kind["StatefulSet"][0]
    spec = sts["spec"]
    if spec.get("replicas") != 1:
        fail("SQLite has one writer: the StatefulSet must have exactly one replica")
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    container, ports, mounts, volumes = check_pod("StatefulSet", pod, image_uid)
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for name in mounts:
        if name not in volumes and name not in claims:
            fail(f"volume mount {name} has no volume or claim")

    config_map = by_kind["ConfigMap"][0]
    config_text = config_map["data"]["herald.yaml"]
    config = yaml.safe_load(config_text)["server"]
    data_mount = [m for n, m in mounts.items() if n in claims]
    if not data_mount or data_mount[0]["mountPath"] != config["data_dir"]:
        fail(f"server.data_dir {config['data_dir']} is not on the volume claim")
    check_webhook_token("one replica", config, mounts, volumes, by_kind["Secret"])

    services = check_services("one replica", by_kind, labels, ports)
    if spec["serviceName"] not in {s["metadata"]["name"] for s in services if s["spec"].get("clusterIP") == "None"}:
        fail("the StatefulSet's serviceName is not a headless Service")

    check_config_accepted("the ConfigMap", heraldd, config_text)
    check_renders(k8s, docs)
    print(f"Kubernetes: {len(docs)} objects hold together")
    return {"by_kind": by_kind, "pod": pod, "container": container,
            "data_dir": config["data_dir"],
            "claim": f"{data_mount[0]['name']}-{sts['metadata']['name']}-0"}


def parse_dsn(dsn):
    """A libpq connection string (key=value ...) or URI, as a dict."""
    if dsn.startswith(("postgresql://", "postgres://")):
        url = urllib.parse.urlsplit(dsn)
        out = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        hosts = url.netloc.rpartition("@")[2]
        out["host"] = ",".join(h.rsplit(":", 1)[0] for h in hosts.split(","))
        if url.username:
            out["user"] = urllib.parse.unquote(url.username)
        if url.password is not None:
            out["password"] = url.password
        if url.path.strip("/"):
            out["dbname"] = urllib.parse.unquote(url.path.strip("/"))
        return out
    pairs = re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
    return {k: v.strip("'") for k, v in pairs}


def go_duration_seconds(text):
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or not parts:
        fail(f"{text!r} is not a Go duration such as 2m")
    h, m, s = (int(p or 0) for p in parts.groups())
    return h * 3600 + m * 60 + s


def check_database_config(config, cluster, pod_volumes, mounts, replicas, surge):
    """herald.yaml's store reaches the Cluster as its owner, with the password
    from the Cluster's Secret; the pool fits; the claim lease is long enough."""
    if "data_dir" in config.get("server", {}) or "status_mirror" in config:
        fail("replicated herald.yaml: no data_dir (nothing is kept on the pod) and no "
             "status_mirror (every replica would write it)")
    pg = config.get("store", {}).get("postgres")
    if not pg or not pg.get("dsn"):
        fail("replicated herald.yaml has no store.postgres.dsn")
    dsn = parse_dsn(pg["dsn"])
    name = cluster["metadata"]["name"]
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    if f"{name}-rw" not in dsn.get("host", "").split(","):
        fail(f"store.postgres.dsn's host {dsn.get('host')} is not the Cluster's {name}-rw Service")
    if dsn.get("dbname") != initdb["database"] or dsn.get("user") != initdb["owner"]:
        fail(f"store.postgres.dsn connects to {dsn.get('dbname')} as {dsn.get('user')}, "
             f"not the Cluster's database {initdb['database']} as {initdb['owner']}")
    if "password" in dsn:
        fail("store.postgres.dsn holds a password: use password_file")
    pw_dir, pw_file = os.path.split(pg.get("password_file", ""))
    pw_volume = [n for n, m in mounts.items() if m["mountPath"] == pw_dir]
    secret = pod_volumes[pw_volume[0]].get("secret", {}) if pw_volume else {}
    if secret.get("secretName") != f"{name}-app" or \
            not any(i["key"] == "password" and i["path"] == pw_file for i in secret.get("items", [])):
        fail(f"store.postgres.password_file is not the key `password` of the Secret {name}-app")
    pool = pg.get("pool_size", 8)
    max_conn = int(cluster["spec"].get("postgresql", {}).get("parameters", {}).get("max_connections", 100))
    # Each heraldd also holds two connections for live events (NOTIFY, LISTEN).
    if not 1 <= pool <= 100 or (replicas + surge) * (pool + 2) >= max_conn:
        fail(f"{replicas}+{surge} replicas x (pool_size {pool} + 2) do not fit max_connections {max_conn}")
    lease = go_duration_seconds(config.get("delivery", {}).get("claim_lease", "30m"))
    longest = max(config.get("smtp", {}).get("timeout_seconds", 30),
                  config.get("delivery", {}).get("http_timeout_seconds", 10))
    if lease < 2 * (longest + 5):
        fail(f"delivery.claim_lease {lease}s: at least twice ({longest}s + 5s)")
    return pg["dsn"]


def check_cluster(cluster):
    spec = cluster["spec"]
    if cluster["apiVersion"] != "postgresql.cnpg.io/v1" or spec.get("instances", 1) < 3:
        fail("the database must be a CloudNativePG Cluster of three or more instances")
    sync = spec.get("postgresql", {}).get("synchronous", {}).get("number") or spec.get("minSyncReplicas")
    if not sync or not 1 <= sync < spec["instances"]:
        fail("the Cluster must replicate synchronously to at least one standby")
    if not spec.get("storage", {}).get("size"):
        fail("the Cluster has no storage size")


def check_spread(pod, labels):
    """Replicas land on different nodes."""
    selects = lambda sel: all(labels.get(k) == v for k, v in sel.get("matchLabels", {}).items())
    spread = [c for c in pod.get("topologySpreadConstraints", [])
              if c["topologyKey"] == "kubernetes.io/hostname" and selects(c["labelSelector"])]
    anti = pod.get("affinity", {}).get("podAntiAffinity", {})
    terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution", []) + \
        [t["podAffinityTerm"] for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    anti = [t for t in terms if t["topologyKey"] == "kubernetes.io/hostname" and selects(t["labelSelector"])]
    if not spread and not anti:
        fail("the Deployment's pods are not spread across nodes")


def check_pdb(pdb, labels, replicas):
    spec = pdb["spec"]
    if pdb["apiVersion"] != "policy/v1" or \
            not all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()):
        fail("the PodDisruptionBudget (policy/v1) does not select the Deployment's pods")
    floor = spec["minAvailable"] if "minAvailable" in spec else replicas - spec.get("maxUnavailable", 0)
    if not isinstance(floor, int) or not 2 <= floor < replicas:
        fail(f"the PodDisruptionBudget keeps {floor} of {replicas}: want at least 2, and room to drain one")


def check_migration_job(job, base, dsn, image, password_secret):
    """migrate-from-sqlite.yaml copies the StatefulSet's SQLite file into the
    database the replicas use."""
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    if pod["securityContext"] != base["pod"]["securityContext"] or \
            container["securityContext"] != base["container"]["securityContext"]:
        fail("the migration Job's security context is not the one-replica pod's")
    if container["image"] != image:
        fail(f"the migration Job runs {container['image']}, not {image}")
    command = container["command"]
    args = dict(zip(command[2::2], command[3::2]))
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    if command[:2] != ["heraldd", "migrate-store"] or args.get("--to") != dsn or \
            args.get("--from") != f"{base['data_dir']}/herald.db":
        fail(f"the migration Job runs {command}: want heraldd migrate-store "
             f"--from {base['data_dir']}/herald.db --to the replicas' DSN")
    claim = volumes[mounts[base["data_dir"]]].get("persistentVolumeClaim", {}).get("claimName")
    if claim != base["claim"]:
        fail(f"the migration Job reads claim {claim}, not the StatefulSet's {base['claim']}")
    pw = volumes[mounts[os.path.dirname(args.get("--password-file", ""))]]
    if pw.get("secret", {}).get("secretName") != password_secret:
        fail(f"the migration Job's --password-file is not from the Secret {password_secret}")


def check_replicated(src, heraldd, image_uid, base):
    k8s = f"{src}/deploy/kubernetes/replicated"
    docs, by_kind, images = load_kustomization(k8s)
    for kind in ("Deployment", "PodDisruptionBudget", "Cluster", "Service", "ServiceMonitor",
                 "Secret", "ConfigMap", "Namespace"):
        if kind not in by_kind:
            fail(f"replicated: no {kind} among {sorted(by_kind)}")
    if "StatefulSet" in by_kind or "PersistentVolumeClaim" in by_kind:
        fail("replicated: the replicas keep no state of their own (no StatefulSet, no claim)")
    # What is copied from the one-replica manifests stays as it is there.
    for kind in ("Namespace", "Secret", "ServiceMonitor", "Service"):
        for obj in by_kind[kind]:
            if obj != named(base["by_kind"][kind], obj["metadata"]["name"]):
                fail(f"replicated: {kind} {obj['metadata']['name']} differs from the one-replica one")

    deployment = by_kind["Deployment"][0]
    spec = deployment["spec"]
    replicas = spec.get("replicas", 1)
    if replicas < 2:
        fail(f"replicated: the Deployment has {replicas} replica(s)")
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    if not all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()):
        fail("replicated: the Deployment's selector does not select its pods")
    container, ports, mounts, volumes = check_pod("Deployment", pod, image_uid)
    if pod["securityContext"] != base["pod"]["securityContext"] or \
            container["securityContext"] != base["container"]["securityContext"]:
        fail("replicated: the pod's security context is not the one-replica pod's")
    for name in mounts:
        if name not in volumes:
            fail(f"replicated: volume mount {name} has no volume")
        if not {"configMap", "secret", "emptyDir"} & volumes[name].keys():
            fail(f"replicated: volume {name} keeps state on the pod; the state is in PostgreSQL")
    check_spread(pod, labels)
    check_pdb(by_kind["PodDisruptionBudget"][0], labels, replicas)

    cluster = by_kind["Cluster"][0]
    check_cluster(cluster)
    config_text = by_kind["ConfigMap"][0]["data"]["herald.yaml"]
    config = yaml.safe_load(config_text)
    surge = spec.get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
    dsn = check_database_config(config, cluster, volumes, mounts, replicas, surge)
    check_webhook_token("replicated", config["server"], mounts, volumes, by_kind["Secret"])
    check_services("replicated", by_kind, labels, ports)

    image = [f"{i['newName']}:{i['newTag']}" for i in images if i["name"] == container["image"]]
    job = yaml.safe_load(open(f"{k8s}/migrate-from-sqlite.yaml"))
    check_migration_job(job, base, dsn, image[0] if image else container["image"],
                        f"{cluster['metadata']['name']}-app")

    check_config_accepted("replicated/configmap.yaml", heraldd, config_text)
    check_renders(k8s, docs)
    print(f"Kubernetes, replicated: {len(docs)} objects hold together; "
          f"{replicas} replicas over {cluster['metadata']['name']}-rw")


def main():
    src, heraldd, herald = sys.argv[1:]
    uid = check_dockerfile(src, heraldd, herald)
    base = check_kubernetes(src, heraldd, uid)
    check_replicated(src, heraldd, uid, base)
    print("PASS")


if __name__ == "__main__":
    main()
