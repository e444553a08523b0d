"""Yandex Cloud DataSphere: public endpoints over TLS."""

from dsjobs_lsp.backends.endpoints import Endpoints

CLOUD_ENDPOINTS = Endpoints(
    kind="cloud",
    jobs="datasphere.api.cloud.yandex.net:443",
    operations="operation.api.cloud.yandex.net:443",
    projects="datasphere.api.cloud.yandex.net:443",
    secure=True,
    ui_base_url="https://datasphere.yandex.ru",
)
IAM_ENDPOINT = "iam.api.cloud.yandex.net:443"

__all__ = ["CLOUD_ENDPOINTS", "IAM_ENDPOINT"]
