"""The deploy flags that guard the server: the exposure warning and --max_request_body_mb."""
import pytest

from sartor.arguments import DeployArguments, parse_args
from sartor.deploy.server import exposure_warning, is_loopback
from sartor.utils.errors import SartorError


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost", "LOCALHOST."])
def test_loopback_hosts(host):
    assert is_loopback(host)
    assert exposure_warning(host, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "my-server.example.com"])
def test_other_hosts_are_exposed_and_warned_about_without_a_key(host):
    assert not is_loopback(host)
    warning = exposure_warning(host, None)
    assert warning and f"--host {host}" in warning and "--api_key" in warning
    assert exposure_warning(host, "sk-key") is None


def test_max_request_body_mb_flag():
    args, explicit = parse_args(DeployArguments, ["--model", "tiny", "--max_request_body_mb", "0.5"])
    assert "max_request_body_mb" in explicit
    assert args.max_request_body_bytes == 512 * 1024
    assert DeployArguments(model="tiny").max_request_body_bytes == 16 * 1024 * 1024
    for bad in (0, -1):
        with pytest.raises(SartorError, match="--max_request_body_mb"):
            DeployArguments(model="tiny", max_request_body_mb=bad)
