"""The sampling defaults have one source: the flags, a request's settings and the server's defaults agree."""
import dataclasses

from sartor.arguments import InferArguments
from sartor.arguments.generation_args import SAMPLING
from sartor.deploy.serving import SamplingDefaults
from sartor.infer.engine import RequestConfig


def test_flags_requests_and_server_start_from_the_same_defaults():
    names = [f.name for f in dataclasses.fields(SAMPLING)]
    flags, request, server = InferArguments(), RequestConfig(), SamplingDefaults()
    for name in names:
        assert getattr(flags, name) == getattr(request, name) == getattr(server, name) == getattr(SAMPLING, name), name
    assert RequestConfig.from_args(flags) == request  # a run with no sampling flags asks for exactly the defaults
