"""`up --bare`: the core and cluster DNS only, so a harness can install the rest itself.

Stops the ingress, metrics and storage add-ons (by recorded PID) and removes the cluster objects
that advertise them (IngressClass, APIService, default StorageClass); a later plain `up` starts
and applies them again.
"""

from __future__ import annotations

from .. import component
from ..context import Context
from . import ingress, metrics_server, settings, storage

REMOVED_PROCESSES = (ingress.NAME, metrics_server.NAME, storage.NAME)
REMOVED_OBJECTS = (
    ("apiservice", "v1beta1.metrics.k8s.io"),
    ("storageclass", settings.STORAGE_CLASS),
    ("ingressclass", settings.INGRESS_CLASS),
)


def remove_addons(ctx: Context) -> None:
    # objects first: an APIService whose server is gone would break discovery for every client
    for kind, name in REMOVED_OBJECTS:
        ctx.kubectl("delete", kind, name, "--ignore-not-found", "--wait=false")
    for name in REMOVED_PROCESSES:
        if component.stop(ctx.layout, name):
            ctx.say(f"bare: stopped {name}")
    ctx.say("bare: no ingress controller, metrics API or default StorageClass")
