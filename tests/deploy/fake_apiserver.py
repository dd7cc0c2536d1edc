#!/usr/bin/env python3
"""Answers only Kubernetes API discovery (the kinds deploy/k8s uses), so that
`kubectl create --dry-run=client --validate=false` can map every object to its
resource without a cluster. Nothing is stored or created: a client-side dry
run never sends the objects. Usage: fake_apiserver.py PORTFILE (writes the
port it listens on to PORTFILE, serves until killed)."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def resource(name, kind, namespaced=True, short=None):
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            "shortNames": short or []}


CORE = [resource("namespaces", "Namespace", False, ["ns"]),
        resource("configmaps", "ConfigMap", short=["cm"]),
        resource("secrets", "Secret"),
        resource("services", "Service", short=["svc"]),
        resource("endpoints", "Endpoints", short=["ep"]),
        resource("persistentvolumeclaims", "PersistentVolumeClaim", short=["pvc"])]
APPS = [resource("deployments", "Deployment", short=["deploy"]),
        resource("daemonsets", "DaemonSet", short=["ds"]),
        resource("statefulsets", "StatefulSet", short=["sts"])]

ROUTES = {
    "/version": {"major": "1", "minor": "28", "gitVersion": "v1.28.0-fake"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": CORE},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/apis/apps/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
                      "resources": APPS},
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ROUTES.get(self.path.split("?")[0])
        data = json.dumps(body if body is not None else
                          {"kind": "Status", "status": "Failure", "code": 404}).encode()
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
