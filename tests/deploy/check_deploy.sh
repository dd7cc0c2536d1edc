#!/usr/bin/env bash
# Validates deploy/: every YAML parses; the kustomize overlays render and
# their objects are what the operator relies on (check_manifests.py); kubectl
# accepts them in a client-side dry run (against fake_apiserver.py, a
# discovery-only stand-in, so no cluster is needed); the systemd units pass
# `systemd-analyze verify`. Every step says what ran; a missing tool is named,
# never silently skipped. Usage: check_deploy.sh SOURCE_DIR REELFARM_BINARY
set -euo pipefail
src="$1"
binary="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== YAML syntax (python3 yaml)"
find "$src/deploy" "$src/config" -name '*.yaml' -print0 | sort -z |
  xargs -0 python3 -c '
import sys, yaml
for name in sys.argv[1:]:
    with open(name) as f:
        n = sum(1 for d in yaml.safe_load_all(f) if d is not None)
    print(f"  ok {name} ({n} documents)")
'

if command -v kubectl >/dev/null; then
  echo "== kubectl $(kubectl version --client 2>/dev/null | head -1)"
  python3 "$here/fake_apiserver.py" "$work/port" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { echo "FAIL: the discovery stand-in did not start"; exit 1; }
  server="http://127.0.0.1:$(cat "$work/port")"
  for overlay in dev production; do
    echo "== kubectl kustomize deploy/k8s/overlays/$overlay"
    kubectl kustomize --load-restrictor LoadRestrictionsNone "$src/deploy/k8s/overlays/$overlay" \
      > "$work/$overlay.yaml"
    python3 "$here/check_manifests.py" "$overlay" < "$work/$overlay.yaml"
    echo "== kubectl create --dry-run=client --validate=false ($overlay)"
    KUBECONFIG=/dev/null kubectl --server "$server" create --dry-run=client --validate=false \
      -f "$work/$overlay.yaml"
  done
else
  echo "== kubectl not found (Debian: kubernetes-client): kustomize rendering and the"
  echo "   kubectl dry run did NOT run; checking the base manifests with python3 only"
  python3 "$here/check_manifests.py" base-only "$src"/deploy/k8s/base/{coordinator,gateway,node-daemonset,media-volume,external-services}.yaml ||
    echo "   (the base alone lacks the generated ConfigMaps: problems above naming them are expected)"
fi

if command -v systemd-analyze >/dev/null; then
  echo "== systemd-analyze verify deploy/systemd"
  # verify checks that ExecStart's program exists: point it at the build.
  for unit in "$src"/deploy/systemd/*@.service; do
    base="$(basename "$unit" .service)"
    sed "s|/usr/local/bin/reelfarm|$binary|" "$unit" > "$work/${base}0.service"
  done
  out="$(systemd-analyze verify "$work"/*@0.service 2>&1 || true)"
  # Only complaints about our units count (not the host's own unit files).
  ours="$(printf '%s\n' "$out" | grep -F "@0.service" || true)"
  if [ -n "$ours" ]; then
    printf 'FAIL: systemd-analyze verify:\n%s\n' "$ours"
    exit 1
  fi
  echo "  ok $(ls "$src"/deploy/systemd/*.service | wc -l) units"
else
  echo "== systemd-analyze not found: the units were NOT verified"
fi
echo "deploy/ checks passed"
