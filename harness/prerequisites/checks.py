"""What the spec needs from a cluster before Taskflow is deployed, checked through its API.

Each check returns None when the piece is there, else the reason it is not.
"""

from __future__ import annotations

from collections.abc import Callable

import urllib3
from kubernetes import client

from harness.errors import UserError
from harness.kube import Kube

METRICS_API_SERVICE = "v1beta1.metrics.k8s.io"
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)

Check = Callable[[Kube], "str | None"]


def require_reachable(kube: Kube) -> str:
    """The server's Kubernetes version; one line with the cause when the API server does not answer."""
    host = kube.api_client.configuration.host
    try:
        version = client.VersionApi(kube.api_client).get_code(_request_timeout=10)
    except urllib3.exceptions.HTTPError as error:
        cause = getattr(error, "reason", None) or error
        raise UserError(
            f"the API server {host} does not answer ({type(cause).__name__})",
            where=str(kube.kubeconfig),
            fix="check that the cluster runs and the kubeconfig names its address"
            " (`kubectl --kubeconfig PATH version`)",
        ) from None
    except client.ApiException as error:
        raise UserError(
            f"the API server {host} refused the harness ({error.status} {error.reason})",
            where=str(kube.kubeconfig),
            fix="use a kubeconfig whose user may create namespaces and cluster-scoped objects",
        ) from None
    return str(version.git_version)


def ingress_class_missing(name: str) -> Check:
    def check(kube: Kube) -> str | None:
        try:
            found = kube.networking.read_ingress_class(name)
        except client.ApiException as error:
            if error.status == 404:
                return f"no IngressClass {name!r} (the overlay's Ingress names it)"
            raise
        return None if found else f"no IngressClass {name!r}"

    return check


def metrics_api_missing(kube: Kube) -> str | None:
    api = client.ApiregistrationV1Api(kube.api_client)
    try:
        service = api.read_api_service(METRICS_API_SERVICE)
    except client.ApiException as error:
        if error.status == 404:
            return f"no APIService {METRICS_API_SERVICE} (the HPA cannot read CPU)"
        raise
    for condition in (service.status.conditions if service.status else None) or []:
        if condition.type == "Available":
            if condition.status == "True":
                return None
            return f"APIService {METRICS_API_SERVICE} not Available: {condition.message or condition.reason}"
    return f"APIService {METRICS_API_SERVICE} has no Available condition yet"


def default_storage_class(kube: Kube) -> str | None:
    """The name of the default StorageClass, or None."""
    for storage_class in client.StorageV1Api(kube.api_client).list_storage_class().items:
        annotations = storage_class.metadata.annotations or {}
        if any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS):
            return str(storage_class.metadata.name)
    return None


def default_storage_class_missing(kube: Kube) -> str | None:
    if default_storage_class(kube) is None:
        return "no default StorageClass (postgres's volumeClaimTemplate names none)"
    return None


def dns_missing(kube: Kube) -> str | None:
    try:
        kube.core.read_namespaced_service("kube-dns", "kube-system")
    except client.ApiException as error:
        if error.status == 404:
            return "no Service kube-system/kube-dns (pods cannot resolve service names)"
        raise
    slices = kube.discovery.list_namespaced_endpoint_slice(
        "kube-system", label_selector="kubernetes.io/service-name=kube-dns"
    ).items
    ready = [
        endpoint
        for endpoint_slice in slices
        for endpoint in endpoint_slice.endpoints or []
        if endpoint.conditions is None or endpoint.conditions.ready is not False
    ]
    return None if ready else "Service kube-system/kube-dns has no ready endpoint"
