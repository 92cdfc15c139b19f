"""accelerate: the environment switch that lets several processes train a model a device_map spread over GPUs,
and the Accelerator's float16 loss scaler."""
import inspect

import pytest
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType

from sartor.compat import relied_on
from sartor.compat.accelerate import BYPASS_DEVICE_MAP_ENV, bypass_device_map, loss_scaler


class MultiGpuAccelerator(Accelerator):
    """Says it runs several GPU processes, so prepare_model applies its device_map check (nothing is wrapped:
    evaluation_mode)."""

    @property
    def distributed_type(self):
        return DistributedType.MULTI_GPU


def spread_model() -> torch.nn.Module:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    model.hf_device_map = {"0": 0, "1": 1}  # what from_pretrained(device_map=...) leaves on a model on two GPUs
    return model


def test_the_switch_lets_a_device_mapped_model_through(monkeypatch):
    monkeypatch.delenv(BYPASS_DEVICE_MAP_ENV, raising=False)
    accelerator = MultiGpuAccelerator(cpu=True)
    with pytest.raises(ValueError, match="device_map"):
        accelerator.prepare_model(spread_model(), device_placement=False, evaluation_mode=True)
    bypass_device_map()
    try:
        accelerator.prepare_model(spread_model(), device_placement=False, evaluation_mode=True)
    except ValueError as e:  # pragma: no cover - the failure this test is for
        pytest.fail(relied_on("accelerate", f"{BYPASS_DEVICE_MAP_ENV}=true no longer lets prepare_model take a "
                                            f"device-mapped model in a distributed run: {e}"))


def test_the_switch_also_leaves_ddp_device_ids_to_the_model():
    """Each rank's model spans several GPUs: DDP must get no device_ids, which the switch also decides."""
    source = inspect.getsource(Accelerator.prepare_model)
    assert source.count(BYPASS_DEVICE_MAP_ENV) >= 2 and "device_ids, output_device = None, None" in source, \
        relied_on("accelerate", f"prepare_model no longer reads {BYPASS_DEVICE_MAP_ENV} where it wraps DDP")


def test_the_loss_scaler_is_the_accelerator_s_scaler():
    plain = Accelerator(cpu=True)
    assert hasattr(plain, "scaler") and loss_scaler(plain) is None, relied_on("accelerate",
                                                                              "Accelerator.scaler is gone")
    source = inspect.getsource(Accelerator.__init__)
    assert "self.scaler = get_grad_scaler(" in source or "self.scaler = torch" in source, relied_on(
        "accelerate", "Accelerator.__init__ no longer keeps its float16 GradScaler as self.scaler")


@pytest.mark.gpu
def test_float16_on_a_gpu_has_a_scaler():
    scaler = loss_scaler(Accelerator(mixed_precision="fp16"))
    assert scaler is not None and callable(scaler.get_scale), relied_on(
        "accelerate", "Accelerator(mixed_precision='fp16').scaler is no GradScaler")
