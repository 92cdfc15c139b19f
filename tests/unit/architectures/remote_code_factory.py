"""Tiny local "model repositories" for the remote-code families (Baichuan2, InternLM2, ChatGLM, Qwen v1, XVERSE,
InternLM): a config.json whose auto_map points at a configuration/modeling file written beside it, random safetensors
weights and the tiny model's tokenizer. The modules carry each family's published names, so the registry's LoRA
targets find them."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

VOCAB = 4096

_CONFIGURATION = '''
from transformers import PretrainedConfig


class {cls}Config(PretrainedConfig):
    model_type = "{model_type}"

    def __init__(self, vocab_size={vocab}, hidden_size=32, ffn_size=64, num_layers=2, num_heads=4, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.ffn_size = ffn_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(**kwargs)
'''

_MODELING = '''
import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from .configuration_x import {cls}Config


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.num_heads
{qkv_init}
        self.{out} = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(self, x, mask):
        b, t, h = x.shape
        q, k, v = {qkv_call}.view(b, t, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.{out}(y.transpose(1, 2).reshape(b, t, h))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        h, f = config.hidden_size, config.ffn_size
{mlp_init}

    def forward(self, x):
{mlp_forward}


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.hidden_size)
        self.{attn} = Attention(config)
        self.norm2 = nn.LayerNorm(config.hidden_size)
        self.{mlp} = MLP(config)

    def forward(self, x, mask):
        x = x + self.{attn}(self.norm1(x), mask)
        return x + self.{mlp}(self.norm2(x))


class {cls}PreTrainedModel(PreTrainedModel):
    config_class = {cls}Config
    base_model_prefix = "model"

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)


class {cls}Model({cls}PreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.num_layers)])
        self.norm = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed

    def set_input_embeddings(self, value):
        self.embed = value

    def forward(self, input_ids=None, attention_mask=None, inputs_embeds=None, **kwargs):
        x = self.embed(input_ids) if inputs_embeds is None else inputs_embeds
        t = x.shape[1]
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()[None, None]
        if attention_mask is not None:
            mask = mask & attention_mask.bool()[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        return BaseModelOutputWithPast(last_hidden_state=self.norm(x))


class {arch}({cls}PreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.model = {cls}Model(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed

    def set_input_embeddings(self, value):
        self.model.embed = value

    def get_output_embeddings(self):
        return self.lm_head

    def prepare_inputs_for_generation(self, input_ids, **kwargs):
        return {{"input_ids": input_ids}}

    def forward(self, input_ids=None, attention_mask=None, labels=None, inputs_embeds=None, **kwargs):
        hidden = self.model(input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds).last_hidden_state
        logits = self.lm_head(hidden).float()
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),
                                   ignore_index=-100)
        return CausalLMOutputWithPast(loss=loss, logits=logits)
'''

_GATED = ("        self.{0} = nn.Linear(h, f, bias=False)\n        self.{1} = nn.Linear(h, f, bias=False)\n"
          "        self.{2} = nn.Linear(f, h, bias=False)",
          "        return self.{2}(F.silu(self.{0}(x)) * self.{1}(x))")
_FUSED = ("        self.{0} = nn.Linear(h, 2 * f, bias=False)\n        self.{1} = nn.Linear(f, h, bias=False)",
          "        gate, up = self.{0}(x).chunk(2, dim=-1)\n        return self.{1}(F.silu(gate) * up)")


@dataclass(frozen=True)
class RemoteFamily:
    name: str  # the registry's family
    repo_name: str  # the directory's name (its name is the model's name, as with a hub download)
    model_type: str  # config.json's model_type
    arch: str  # config.json's architectures[0]
    attn: str
    qkv: str  # the fused layer, or the separate ones joined by commas
    out: str
    mlp: str
    mlp_names: tuple[str, ...]  # (gate, up, down) or, fused, (h_to_2f, f_to_h)
    expected_registry_type: str  # the registry entry detection should pick
    lora_targets: tuple[str, ...]  # the family's published LoRA targets (the registry's default)

    def __str__(self) -> str:
        return self.name

    def _qkv(self) -> dict[str, str]:
        """One fused query/key/value layer, or (names joined by commas) one layer each, concatenated."""
        names = self.qkv.split(",")
        if len(names) == 1:
            return {"qkv_init": f"        self.{self.qkv} = nn.Linear(config.hidden_size, 3 * config.hidden_size)",
                    "qkv_call": f"self.{self.qkv}(x)"}
        return {"qkv_init": "\n".join(f"        self.{n} = nn.Linear(config.hidden_size, config.hidden_size, bias=False)"
                                      for n in names),
                "qkv_call": "torch.cat([" + ", ".join(f"self.{n}(x)" for n in names) + "], dim=-1)"}

    def write(self, root: Path) -> Path:
        """The repository under root/<repo_name>, random weights fixed by seed 0."""
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        from sartor.model.tiny import ensure_tiny_model

        target = root / self.repo_name
        target.mkdir(parents=True)
        cls = self.arch.split("For")[0]
        init, fwd = _GATED if len(self.mlp_names) == 3 else _FUSED
        (target / "configuration_x.py").write_text(_CONFIGURATION.format(cls=cls, model_type=self.model_type,
                                                                         vocab=VOCAB))
        (target / "modeling_x.py").write_text(_MODELING.format(
            cls=cls, arch=self.arch, attn=self.attn, out=self.out, mlp=self.mlp, **self._qkv(),
            mlp_init=init.format(*self.mlp_names), mlp_forward=fwd.format(*self.mlp_names)))
        auto_map = {"AutoConfig": f"configuration_x.{cls}Config", "AutoModelForCausalLM": f"modeling_x.{self.arch}"}
        config = {"model_type": self.model_type, "architectures": [self.arch], "auto_map": auto_map,
                  "vocab_size": VOCAB, "torch_dtype": "float32"}
        (target / "config.json").write_text(json.dumps(config))
        cfg = AutoConfig.from_pretrained(target, trust_remote_code=True)
        state = torch.random.get_rng_state()
        try:
            torch.manual_seed(0)
            model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=True)
        finally:
            torch.random.set_rng_state(state)
        model.save_pretrained(target, safe_serialization=True)
        saved = json.loads((target / "config.json").read_text())
        saved.update(config)  # the published shape: family model_type, architectures and auto_map
        (target / "config.json").write_text(json.dumps(saved))
        tiny = Path(ensure_tiny_model())
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
            if (tiny / name).is_file():
                shutil.copy(tiny / name, target / name)
        return target


FAMILIES = [
    RemoteFamily("baichuan2", "Baichuan2-7B-Chat", "baichuan", "BaichuanForCausalLM", "self_attn", "W_pack",
                 "o_proj", "mlp", ("gate_proj", "up_proj", "down_proj"), "baichuan2-7b-chat",
                 ("W_pack", "o_proj", "gate_proj", "up_proj", "down_proj")),
    RemoteFamily("internlm2", "internlm2-chat-7b", "internlm2", "InternLM2ForCausalLM", "attention", "wqkv", "wo",
                 "feed_forward", ("w1", "w3", "w2"), "internlm2-7b-chat", ("wqkv", "wo", "w1", "w2", "w3")),
    RemoteFamily("chatglm3", "chatglm3-6b", "chatglm", "ChatGLMForConditionalGeneration", "self_attention",
                 "query_key_value", "dense", "mlp", ("dense_h_to_4h", "dense_4h_to_h"), "chatglm3-6b",
                 ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h")),
    RemoteFamily("qwen", "Qwen-7B-Chat", "qwen", "QWenLMHeadModel", "attn", "c_attn", "c_proj", "mlp",
                 ("w1", "w2", "c_proj"), "qwen-7b-chat", ("c_attn", "c_proj", "w1", "w2")),
    RemoteFamily("xverse", "XVERSE-7B-Chat", "xverse", "XverseForCausalLM", "self_attn", "q_proj,k_proj,v_proj",
                 "o_proj", "mlp", ("gate_proj", "up_proj", "down_proj"), "xverse-7b-chat",
                 ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
    RemoteFamily("internlm", "internlm-chat-7b", "internlm", "InternLMForCausalLM", "self_attn",
                 "q_proj,k_proj,v_proj", "o_proj", "mlp", ("gate_proj", "up_proj", "down_proj"), "internlm-7b-chat",
                 ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
]
