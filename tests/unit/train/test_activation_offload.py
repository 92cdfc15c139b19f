"""--activation_offloading: the tensors autograd saves for backward go to host memory and come back unchanged.

On CPU every tensor already lives in host memory, so the real hook moves nothing; the copying path is exercised
here with a subclass that treats CPU tensors like accelerator ones (same pack and unpack, same filters), and on
the GPU machine (gpu-marked) with the real hook, where it must also lower the peak memory."""
import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

from sartor.arguments import SftArguments
from sartor.dataset.collate import PaddedCollator
from sartor.train import offload
from sartor.train.offload import ActivationOffload
from sartor.train.trainer import SartorTrainer
from sartor.train.training_args import build_training_args


class CopyingOffload(ActivationOffload):
    """Moves CPU activations too (to fresh host tensors), and records what it moved."""
    moved_storages: list = []

    def __init__(self, params, min_bytes: int = 64, pin_memory=None):
        super().__init__(params, min_bytes, pin_memory)

    def keeps(self, t):
        return self.not_an_activation(t)

    def _pack(self, t):
        packed = super()._pack(t)
        if packed is not t:
            CopyingOffload.moved_storages.append(t.untyped_storage().data_ptr())
        return packed


def lora_model(hidden: int = 32, layers: int = 2, dtype=torch.float32):
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=101, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=False, pad_token_id=0)
    model = Qwen2ForCausalLM(config).to(dtype)
    return get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))


def grads_of(model, ids, hook=None):
    model.zero_grad()
    if hook is None:
        loss = model(input_ids=ids, labels=ids).loss
    else:
        with hook:
            loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_offloaded_activations_give_the_same_gradients():
    model = lora_model()
    ids = torch.randint(1, 101, (2, 24), generator=torch.Generator().manual_seed(0))
    want_loss, want = grads_of(model, ids)
    CopyingOffload.moved_storages = []
    hook = CopyingOffload(model.parameters(), min_bytes=64)
    got_loss, got = grads_of(model, ids, hook)
    assert hook.offloaded_bytes > 0 and CopyingOffload.moved_storages
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    assert not params & set(CopyingOffload.moved_storages), "a weight (or a view of one) was offloaded"
    assert torch.equal(got_loss, want_loss)
    for name, g in want.items():
        assert torch.equal(got[name], g), name


def test_the_filters_keep_weights_and_small_tensors():
    model = lora_model()
    hook = ActivationOffload(model.parameters(), min_bytes=1024)
    weight = model.base_model.model.model.layers[0].mlp.up_proj.base_layer.weight
    assert hook.not_an_activation(weight) and hook.not_an_activation(weight.t())  # frozen weight, and its view
    assert hook.not_an_activation(torch.zeros(16))  # 64 bytes
    assert not hook.not_an_activation(torch.zeros(4096))
    assert hook.keeps(torch.zeros(4096))  # the real hook: already in host memory, nothing to move


def test_the_trainer_offloads_when_asked_and_trains_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(offload, "ActivationOffload", CopyingOffload)
    base = lora_model()
    g = torch.Generator().manual_seed(1)
    data = [{"input_ids": (ids := torch.randint(1, 101, (n,), generator=g).tolist()), "labels": ids}
            for n in (9, 20, 14, 31)]
    losses = {}
    for flag in (False, True):
        args = SftArguments(model="in-process", per_device_train_batch_size=2, max_steps=2, learning_rate=1e-3,
                            train_dataloader_shuffle=False, save_strategy="no", logging_steps=1,
                            gradient_checkpointing=False, report_to=["none"], activation_offloading=flag)
        training_args = build_training_args(args, str(tmp_path / str(flag)), has_eval=False, torch_dtype="float32")
        CopyingOffload.moved_storages = []
        trainer = SartorTrainer(model=copy.deepcopy(base), args=training_args, train_dataset=data,
                                data_collator=PaddedCollator(0), activation_offloading=flag)
        trainer.train()
        assert bool(CopyingOffload.moved_storages) == flag
        losses[flag] = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    assert len(losses[True]) == 2 and losses[True] == pytest.approx(losses[False], rel=1e-6)


def test_the_flag_parses():
    from sartor.arguments.parser import parse_args

    args, _ = parse_args(SftArguments, ["--model", "tiny", "--activation_offloading", "true"])
    assert args.activation_offloading is True


@pytest.mark.gpu
def test_offloading_lowers_peak_gpu_memory_with_the_same_gradients():
    model = lora_model(hidden=1024, layers=8, dtype=torch.bfloat16).cuda()
    ids = torch.randint(1, 101, (4, 1024), device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    peaks, results = {}, {}
    for flag in (False, True):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        hook = ActivationOffload(model.parameters()) if flag else None
        results[flag] = grads_of(model, ids, hook)
        torch.cuda.synchronize()
        peaks[flag] = torch.cuda.max_memory_allocated()
    assert peaks[True] < 0.8 * peaks[False], peaks
    torch.testing.assert_close(results[True][0], results[False][0])  # bf16 tolerance: kernels may differ run to run
    for name, g in results[False][1].items():
        torch.testing.assert_close(results[True][1][name], g, msg=lambda m: f"{name}: {m}")
