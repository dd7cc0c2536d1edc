#!/usr/bin/env python3
"""Structural checks of rendered Kubernetes manifests (kustomize output on
stdin, or the files named): what the operator relies on, beyond YAML syntax.
Usage: check_manifests.py OVERLAY_NAME [FILE...]; exits 1 naming each problem."""
import sys

import yaml

overlay = sys.argv[1]
if len(sys.argv) > 2:
    docs = []
    for name in sys.argv[2:]:
        with open(name) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
else:
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
problems = []


def find(kind, name):
    for d in docs:
        if d.get("kind") == kind and d["metadata"]["name"].startswith(name):
            return d
    problems.append(f"{overlay}: no {kind} {name}")
    return None


def container(workload):
    return workload["spec"]["template"]["spec"]["containers"][0]


def mounts(workload):
    return {m["name"]: m["mountPath"] for m in container(workload).get("volumeMounts", [])}


def check(cond, what):
    if not cond:
        problems.append(f"{overlay}: {what}")


coordinator = find("Deployment", "reelfarm-coordinator")
gateway = find("Deployment", "reelfarm-gateway")
node = find("DaemonSet", "reelfarm-node")
pvc = find("PersistentVolumeClaim", "reelfarm-media")
farm = find("Service", "reelfarm-farm")
find("ConfigMap", "reelfarm-config")
find("ConfigMap", "reelfarm-grafana-dashboards")
for external in ("reelfarm-postgres", "reelfarm-redis"):
    svc = find("Service", external)
    if svc:
        check(svc["spec"].get("type") == "ExternalName" or "selector" not in svc["spec"],
              f"{external} is not an external service")
if coordinator:
    check(coordinator["spec"]["replicas"] == 2, "coordinator: not 2 replicas (leader + standby)")
    # A rolling update would wait forever for a standby to become ready.
    check(coordinator["spec"].get("strategy", {}).get("type") == "Recreate",
          "coordinator: strategy is not Recreate")
    c = container(coordinator)
    check("--role" in c["args"] and "coordinator" in c["args"], "coordinator: not --role coordinator")
    check("--health-port" in c["args"], "coordinator: no --health-port for its probes")
    check(c["readinessProbe"]["httpGet"]["path"] == "/api/v1/readyz", "coordinator: readiness")
    check(c["livenessProbe"]["httpGet"]["path"] == "/api/v1/healthz", "coordinator: liveness")
    check(coordinator["spec"]["template"]["metadata"]["annotations"].get("prometheus.io/scrape")
          == "true", "coordinator: no scrape annotation")
if gateway:
    check(gateway["spec"]["replicas"] >= 1, "gateway: no replicas")
    c = container(gateway)
    check(c["readinessProbe"]["httpGet"]["path"] == "/api/v1/readyz", "gateway: readiness")
    check(c["livenessProbe"]["httpGet"]["path"] == "/api/v1/healthz", "gateway: liveness")
    check(gateway["spec"]["template"]["metadata"]["annotations"].get("prometheus.io/scrape")
          == "true", "gateway: no scrape annotation")
    # Metrics are not on the public API port: the scrape goes to --metrics-port.
    scrape_port = gateway["spec"]["template"]["metadata"]["annotations"].get("prometheus.io/port")
    api_ports = [str(p["containerPort"]) for p in c.get("ports", []) if p.get("name") == "http"]
    check(scrape_port not in api_ports, "gateway: metrics scraped from the public API port")
    check("--metrics-port" in c["args"]
          and c["args"][c["args"].index("--metrics-port") + 1].endswith(":" + str(scrape_port)),
          "gateway: the scrape port is not its --metrics-port")
if node and overlay == "production":
    spec = node["spec"]["template"]["spec"]
    check(container(node)["resources"]["limits"].get("nvidia.com/gpu") == 1,
          "node: does not request nvidia.com/gpu")
    check("nodeSelector" in spec, "node: no nodeSelector for GPU machines")
    check(any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", [])),
          "node: no toleration for GPU taints")
if pvc:
    check(pvc["spec"]["accessModes"] == ["ReadWriteMany"], "media volume: not ReadWriteMany")
for w in (coordinator, gateway, node):
    if not w:
        continue
    name = w["metadata"]["name"]
    check(mounts(w).get("media") == "/var/lib/reelfarm/media", f"{name}: media not at the shared path")
    vols = {v["name"]: v for v in w["spec"]["template"]["spec"]["volumes"]}
    claim = vols.get("media", {}).get("persistentVolumeClaim", {}).get("claimName", "")
    check(pvc is not None and claim == pvc["metadata"]["name"], f"{name}: media is not the shared PVC")
    res = container(w).get("resources", {})
    check("requests" in res and "limits" in res, f"{name}: no resource requests/limits")
    env_from = container(w).get("envFrom", [])
    if name != "reelfarm-node":
        check(any(e.get("secretRef", {}).get("name", "").startswith("reelfarm-secrets")
                  for e in env_from), f"{name}: secrets not passed as environment")
for p in problems:
    print("PROBLEM", p)
print(f"{overlay}: {len(docs)} objects, {len(problems)} problems")
sys.exit(1 if problems else 0)
