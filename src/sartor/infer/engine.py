"""The transformers inference engine: batched generation with left padding, streaming, stop words."""
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import torch


@dataclass
class RequestConfig:
    """Sampling settings of one request. temperature 0 means greedy."""

    max_new_tokens: int = 512
    temperature: float = 0.3
    top_k: int = 20
    top_p: float = 0.7
    repetition_penalty: float = 1.0
    num_beams: int = 1
    stop: list[str] = field(default_factory=list)
    seed: Optional[int] = None

    @classmethod
    def from_args(cls, args: Any) -> "RequestConfig":
        return cls(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                   repetition_penalty=args.repetition_penalty, num_beams=args.num_beams, stop=list(args.stop_words))


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text up to the first stop word, and whether one was found."""
    cut = len(text)
    for s in stops:
        if s and (i := text.find(s)) != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)


class PtEngine:
    """Generation with transformers `generate` over a loaded model and a template."""

    def __init__(self, model: Any, tokenizer: Any, template: Any, max_batch_size: int = 16):
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.max_batch_size = max_batch_size

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _stops(self, cfg: RequestConfig) -> list[str]:
        return list(dict.fromkeys(list(self.template.stop_words) + list(cfg.stop)))

    def _generate_kwargs(self, cfg: RequestConfig) -> dict:
        gen = dict(max_new_tokens=cfg.max_new_tokens, num_beams=cfg.num_beams, repetition_penalty=cfg.repetition_penalty,
                   pad_token_id=self.tokenizer.pad_token_id)
        if cfg.temperature > 0:
            gen.update(do_sample=True, temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p)
        else:
            gen.update(do_sample=False, temperature=None, top_k=None, top_p=None)
        stops = [s for s in self._stops(cfg) if s not in self.tokenizer.all_special_tokens]
        if stops:
            gen.update(stop_strings=stops, tokenizer=self.tokenizer)
        return gen

    def _batch(self, prompts: list[list[int]]) -> dict[str, torch.Tensor]:
        longest = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        ids = [[pad] * (longest - len(p)) + p for p in prompts]
        mask = [[0] * (longest - len(p)) + [1] * len(p) for p in prompts]
        return {"input_ids": torch.tensor(ids, device=self.device), "attention_mask": torch.tensor(mask, device=self.device)}

    def _decode(self, new_ids: list[int], cfg: RequestConfig) -> tuple[str, bool]:
        text = self.tokenizer.decode(new_ids, skip_special_tokens=False)
        text, stopped = cut_at_stop(text, self._stops(cfg))
        for tok in self.tokenizer.all_special_tokens:
            text = text.replace(tok, "")
        return text, stopped

    @torch.no_grad()
    def infer(self, conversations: list[list[dict]], cfg: RequestConfig, tools: Optional[list] = None) -> list[Completion]:
        """Answer each conversation; batches of max_batch_size share forward passes."""
        out: list[Completion] = []
        for start in range(0, len(conversations), self.max_batch_size):
            chunk = conversations[start:start + self.max_batch_size]
            prompts = [self.template.encode_prompt(msgs, tools) for msgs in chunk]
            if cfg.seed is not None:
                torch.manual_seed(cfg.seed)
            batch = self._batch(prompts)
            generated = self.model.generate(**batch, **self._generate_kwargs(cfg))
            width = batch["input_ids"].shape[1]
            eos = set(_as_list(self.model.generation_config.eos_token_id)) | {self.tokenizer.eos_token_id}
            for prompt, row in zip(prompts, generated.tolist()):
                new = row[width:]
                while new and new[-1] == self.tokenizer.pad_token_id and self.tokenizer.pad_token_id not in eos:
                    new.pop()
                ended = bool(new) and (new[-1] in eos)
                text, stopped = self._decode(new, cfg)
                n = len(new)
                out.append(Completion(text, len(prompt), n, "stop" if ended or stopped or n < cfg.max_new_tokens else "length"))
        return out

    def stream(self, messages: list[dict], cfg: RequestConfig, tools: Optional[list] = None) -> Iterator[str]:
        """Yield the answer as text deltas while it is generated."""
        from transformers import TextIteratorStreamer

        prompt = self.template.encode_prompt(messages, tools)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=False)
        kwargs = {**self._batch([prompt]), **self._generate_kwargs(cfg), "streamer": streamer}
        if cfg.seed is not None:
            torch.manual_seed(cfg.seed)
        thread = threading.Thread(target=self._generate_no_grad, kwargs=kwargs, daemon=True)
        thread.start()
        stops = self._stops(cfg)
        text, sent = "", 0
        holdback = max((len(s) for s in stops), default=0)
        for piece in streamer:
            text += piece
            visible, stopped = cut_at_stop(text, stops)
            if stopped:
                if len(visible) > sent:
                    yield visible[sent:]
                sent = len(visible)
                break
            safe = max(len(visible) - holdback, sent)
            if safe > sent:
                yield visible[sent:safe]
                sent = safe
        else:
            visible, _ = cut_at_stop(text, stops)
            if len(visible) > sent:
                yield visible[sent:]
        for _ in streamer:  # drain so the generating thread can finish
            pass
        thread.join()

    @torch.no_grad()
    def _generate_no_grad(self, **kwargs: Any) -> None:
        self.model.generate(**kwargs)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
