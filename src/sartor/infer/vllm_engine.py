"""The vLLM inference engine (`--infer_backend vllm`; `pip install 'sartor[vllm]'`, a CUDA GPU).

`VllmEngine` offers what `PtEngine` offers to infer, chat, dataset generation, deploy and the chat UI:
`encode`, `infer`, `stream`, `submit`/`abort` (events to a sink, as the deploy server uses them),
`generate`/`agenerate`, `add_adapter`, `stats`, `close`, `max_model_len`, `template`, `tokenizer`.

Prompts are the token ids of our own template (`template.encode_prompt`), sent to vLLM as a
`TokensPrompt`, so serving sees exactly what training saw. vLLM's `AsyncLLM` runs on a private asyncio
loop in a background thread; `submit` never blocks. The engine starts on the first request (or
`start()`), so LoRA adapters added right after the engine is built (deploy's `--adapters name=path`)
are known when vLLM sizes its LoRA slots (`enable_lora`, `max_lora_rank`, `max_loras`).

vllm is imported only inside functions: this module loads without it."""
import asyncio
import atexit
import dataclasses
import itertools
import threading
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Optional

from ..arguments import InferArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from ..model.context import context_length
from .engine import Completion, PtEngine, RequestConfig
from .sampling import TokenChoice
from .scheduler import GenerationEvent, SchedulerStats

__all__ = ["VllmEngine", "build_vllm_engine", "lora_rank", "sampling_kwargs", "vllm_lora_rank"]

from .vllm_settings import (MAX_LORAS, VllmAdapters, import_vllm, lora_rank, make_sampling_params,  # noqa: F401
                            sampling_kwargs, vllm_lora_rank)


# -- the engine ------------------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class VllmRequest:
    """One generation in flight (what `submit` returns and `abort` takes)."""

    prompt_ids: list[int]
    max_new_tokens: int
    params: Any
    sink: Callable[[GenerationEvent], None]
    lora: Any = None
    adapter: Optional[str] = None
    request_id: str = ""
    aborted: bool = False
    finished: bool = False
    future: Optional[Future] = None


class VllmEngine:
    """Generation with vLLM and our template; safe to call from many threads at once."""

    # The conversation and iterator APIs only use encode/submit/abort/max_model_len, so they are PtEngine's own:
    # both backends answer, stream, batch and stop early in exactly the same way.
    encode = PtEngine.encode
    infer = PtEngine.infer
    stream = PtEngine.stream
    generate = PtEngine.generate
    agenerate = PtEngine.agenerate
    stops_for = PtEngine.stops_for
    _split_stops = PtEngine._split_stops
    _eos_ids = PtEngine._eos_ids

    def __init__(self, model_dir: str, tokenizer: Any, template: Any, engine_kwargs: Optional[dict] = None,
                 lora_checkpoint: Optional[str] = None, max_batch_size: int = 256,
                 max_model_len: Optional[int] = None, trust_remote_code: bool = False) -> None:
        self.model_dir = model_dir
        self.tokenizer = tokenizer
        self.template = template
        self.max_batch_size = max_batch_size  # how many requests dataset mode hands over at once
        self.engine_kwargs = dict(engine_kwargs or {})
        self.engine_kwargs.setdefault("model", model_dir)
        if max_model_len:
            self.engine_kwargs["max_model_len"] = max_model_len
        self.adapters = VllmAdapters(lora_checkpoint)
        self.model = _model_files(model_dir, trust_remote_code)  # .config and .generation_config, no weights
        self._max_model_len = max_model_len or context_length(self.model, tokenizer)
        self.eos_token_ids = self._eos_ids()
        self._special = set(tokenizer.all_special_tokens) | set(getattr(tokenizer, "added_tokens_encoder", {}) or {})
        template_stops = list(getattr(template, "stop_words", []) or [])
        self._template_stop_ids, self._template_stops = self._split_stops(template_stops)
        self._stats = SchedulerStats()
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready: Optional[Future] = None  # resolves to the AsyncLLM
        self._engine: Any = None
        self._lora_slots: Optional[tuple[int, int]] = None  # (max_lora_rank, max_loras) the engine started with
        self._live: set[VllmRequest] = set()
        self._ids = itertools.count()
        self._closed = False

    # -- engine life ---------------------------------------------------------------------------------------
    @property
    def stats(self) -> SchedulerStats:
        return self._stats

    @property
    def max_model_len(self) -> int:
        """The context length: vLLM's once the engine runs, before that the model config's (or --max_model_len)."""
        engine = self._engine
        value = getattr(getattr(engine, "model_config", None), "max_model_len", None)
        return value if isinstance(value, int) and value > 0 else self._max_model_len

    @property
    def started(self) -> bool:
        return self._ready is not None

    def engine_args(self) -> dict:
        """The keyword arguments of vLLM's AsyncEngineArgs (LoRA slots sized for the adapters known now)."""
        kwargs = dict(self.engine_kwargs)
        if self.adapters.any:
            kwargs.update(enable_lora=True, max_lora_rank=vllm_lora_rank(self.adapters.max_rank),
                          max_loras=max(1, min(len(self.adapters.ranks), MAX_LORAS)))
        return kwargs

    def start(self) -> None:
        """Begin loading the model into vLLM; returns at once (requests wait for it). Idempotent."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the inference engine is closed")
            if self._ready is not None:
                return
            kwargs = self.engine_args()
            self._lora_slots = (kwargs.get("max_lora_rank", 0), kwargs.get("max_loras", 0))
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="sartor-vllm-loop", daemon=True)
            self._thread.start()
            self._ready = asyncio.run_coroutine_threadsafe(self._create(kwargs), self._loop)
            atexit.register(self.close)  # stop vLLM's engine process before the interpreter goes

    def wait_ready(self, timeout: Optional[float] = None) -> None:
        """Start the engine if needed and wait until it is loaded (raises what loading raised)."""
        self.start()
        assert self._ready is not None
        self._ready.result(timeout)

    async def _create(self, kwargs: dict) -> Any:
        """Build the AsyncLLM on the loop thread (its output handler then runs on this loop)."""
        vllm = import_vllm()
        args_cls, engine_cls = _engine_classes(vllm)
        known = _field_names(args_cls)
        if known:
            dropped = sorted(k for k in kwargs if k not in known)
            if dropped:
                get_logger().warning(f"this vLLM version has no engine argument(s) {dropped}; ignoring them")
            kwargs = {k: v for k, v in kwargs.items() if k in known}
        log = get_logger()
        log.info(f"starting vLLM for {kwargs.get('model')} "
                 + ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()) if k != "model"))
        try:
            self._engine = engine_cls.from_engine_args(args_cls(**kwargs))
        except ValueError as e:
            if "main thread" in str(e):
                raise SartorError(f"this vLLM version must be started from the main thread ({e}); "
                                  "upgrade vllm (0.10.2 or newer)") from None
            raise
        return self._engine

    def close(self) -> None:
        """Stop vLLM (requests still running end with finish_reason 'error')."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        atexit.unregister(self.close)
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(60)
        except Exception as e:  # noqa: BLE001 - shutting down: report, never raise
            get_logger().warning(f"vLLM shutdown: {type(e).__name__}: {e}")
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        if not loop.is_running():
            loop.close()

    async def _shutdown(self) -> None:
        error = RuntimeError("the inference engine was closed")
        for req in list(self._live):
            if not req.finished and not req.aborted:
                req.finished = True
                self._send(req, GenerationEvent("", [], [], len(req.prompt_ids), 0, True, "error", error))
            req.aborted = True
            if req.future is not None:
                req.future.cancel()
        await asyncio.sleep(0)  # let the cancelled requests abort in vLLM
        engine = self._engine
        if engine is not None:
            result = (getattr(engine, "shutdown", None) or getattr(engine, "shutdown_background_loop", lambda: None))()
            if asyncio.iscoroutine(result):
                await result
        self._engine = None
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:  # vLLM's output handler and any request still unwinding
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=5)

    # -- adapters ------------------------------------------------------------------------------------------
    def add_adapter(self, name: str, path: str) -> None:
        """Serve the LoRA adapter at `path` as `name` (requests choose it with adapter=name). Adapters added
        after the engine started must fit the LoRA slots it started with."""
        with self._lock:
            if self._ready is not None:
                rank = lora_rank(path)
                max_rank, _ = self._lora_slots or (0, 0)
                if not max_rank or rank > max_rank:
                    raise SartorError(f"adapter {name!r} (rank {rank}) does not fit the running vLLM engine "
                                      f"(LoRA {'max rank ' + str(max_rank) if max_rank else 'off'}); "
                                      "add adapters before the first request")
            self.adapters.add(name, path)

    # -- the request API -----------------------------------------------------------------------------------
    def submit(self, prompt_ids: list[int], cfg: RequestConfig, sink: Any, adapter: Optional[str] = None,
               template_stops: bool = True) -> VllmRequest:
        """Queue one generation; `sink(event)` is called from the engine's thread for every new piece."""
        if not prompt_ids:
            raise SartorError("the prompt is empty")
        if cfg.num_beams > 1:
            raise SartorError("num_beams > 1 (beam search) is not available with --infer_backend vllm; use pt")
        lora = self.adapters.request_for(adapter)  # unknown adapter: SartorError
        room = self.max_model_len - len(prompt_ids)
        if room < 1:
            raise SartorError(f"the prompt has {len(prompt_ids)} tokens; the model's context is {self.max_model_len}")
        stop_ids, stops = self.stops_for(cfg, template_stops)
        max_new = min(cfg.max_new_tokens, room)
        params = make_sampling_params(cfg, max_new, stop_ids, stops)
        req = VllmRequest(list(prompt_ids), max_new, params, sink, lora, adapter, f"sartor-{next(self._ids)}")
        self.start()
        with self._lock:
            if self._closed or self._loop is None:
                raise RuntimeError("the inference engine is closed")
            req.future = asyncio.run_coroutine_threadsafe(self._run(req), self._loop)
        return req

    def abort(self, req: VllmRequest) -> None:
        """Stop generating for this request (its sink gets nothing more)."""
        req.aborted = True
        if req.future is not None and not req.future.done():
            req.future.cancel()  # cancels the task on the loop; leaving vLLM's generator aborts it there

    def _beam_search(self, prompt: list[int], cfg: RequestConfig, adapter: Optional[str]) -> Completion:
        raise SartorError("num_beams > 1 (beam search) is not available with --infer_backend vllm; use pt")

    async def _run(self, req: VllmRequest) -> None:
        stats = self._stats
        self._live.add(req)
        stats.waiting += 1
        gen = None
        try:
            try:
                # shield: an aborted request must not cancel the engine's start, which other requests await
                engine = await asyncio.shield(asyncio.wrap_future(self._ready))  # type: ignore[arg-type]
            finally:
                stats.waiting -= 1
            if req.aborted:
                return
            stats.running += 1
            try:
                gen = engine.generate(_tokens_prompt(req.prompt_ids), req.params, req.request_id,
                                      lora_request=req.lora)
                state = _OutputState(req)
                async for out in gen:
                    event = state.event(out)
                    stats.prompt_tokens += state.take_new_prompt_tokens()
                    stats.generated_tokens += len(event.token_ids)
                    if req.aborted:
                        break
                    if event.finished:
                        req.finished = True
                        stats.finished_requests += 1
                    if event.text or event.token_ids or event.finished:
                        self._send(req, event)
                    if event.finished:
                        break
            finally:
                stats.running -= 1
        except asyncio.CancelledError:
            req.aborted = True
        except Exception as e:  # noqa: BLE001 - a failed request fails alone, never the loop
            if not req.finished and not req.aborted:
                get_logger().error(f"vLLM generation failed: {type(e).__name__}: {e}")
                req.finished = True
                self._send(req, GenerationEvent("", [], [], len(req.prompt_ids), 0, True, "error", e))
        finally:
            self._live.discard(req)
            if gen is not None:
                await _aclose(gen)
            if not req.finished and self._engine is not None:
                await _abort(self._engine, req.request_id)

    def _send(self, req: VllmRequest, event: GenerationEvent) -> None:
        try:
            req.sink(event)
        except Exception:  # noqa: BLE001 - the receiver is gone (closed event loop, ...): stop this request
            req.aborted = True


class _OutputState:
    """Turns vLLM's cumulative RequestOutputs of one request into PtEngine's GenerationEvents."""

    def __init__(self, req: VllmRequest) -> None:
        self.req = req
        self.text_len = 0
        self.n_tokens = 0
        self.prompt_counted = False
        self.want_logprobs = getattr(req.params, "logprobs", None) is not None
        self.top_k = int(getattr(req.params, "logprobs", 0) or 0)

    def take_new_prompt_tokens(self) -> int:
        if self.prompt_counted:
            return 0
        self.prompt_counted = True
        return len(self.req.prompt_ids)

    def event(self, out: Any) -> GenerationEvent:
        comp = out.outputs[0]
        text = comp.text or ""
        piece = text[self.text_len:] if len(text) > self.text_len else ""
        self.text_len = max(self.text_len, len(text))
        ids = list(comp.token_ids)
        new_ids = ids[self.n_tokens:]
        logprobs = self._logprobs(comp, ids, self.n_tokens) if self.want_logprobs else []
        self.n_tokens = len(ids)
        reason = getattr(comp, "finish_reason", None)
        finished = reason is not None or bool(getattr(out, "finished", False))
        if finished and reason is None:
            reason = "stop"
        return GenerationEvent(piece, new_ids, logprobs, len(self.req.prompt_ids), self.n_tokens, finished,
                               reason if finished else None)

    def _logprobs(self, comp: Any, ids: list[int], start: int) -> list[TokenChoice]:
        entries = list(getattr(comp, "logprobs", None) or [])
        choices = []
        for i in range(start, len(ids)):
            entry = entries[i] if i < len(entries) else None
            if not entry:
                choices.append(TokenChoice(ids[i]))
                continue
            values = {int(t): _logprob_value(lp) for t, lp in entry.items()}
            top = sorted(values.items(), key=lambda kv: -kv[1])[:self.top_k] if self.top_k > 0 else None
            choices.append(TokenChoice(ids[i], values.get(ids[i]), top))
        return choices


# -- building it from arguments --------------------------------------------------------------------------
def engine_kwargs_from_args(args: InferArguments, model_dir: str, tokenizer_dir: Optional[str]) -> dict:
    """vLLM engine arguments from sartor's flags (--torch_dtype, --gpu_memory_utilization, ...)."""
    kwargs: dict[str, Any] = dict(
        model=model_dir,
        dtype=args.torch_dtype or "auto",
        gpu_memory_utilization=float(args.gpu_memory_utilization),
        tensor_parallel_size=int(args.tensor_parallel_size),
        enforce_eager=bool(args.enforce_eager),
        trust_remote_code=bool(args.trust_remote_code),
        disable_log_stats=True,
    )
    if tokenizer_dir and tokenizer_dir != model_dir:
        kwargs["tokenizer"] = tokenizer_dir
    if args.max_model_len:
        kwargs["max_model_len"] = int(args.max_model_len)
    if args.quant_method == "bnb":
        kwargs["quantization"] = "bitsandbytes"
    if args.was_given("max_batch_size"):
        kwargs["max_num_seqs"] = int(args.max_batch_size)
    return kwargs


def build_vllm_engine(args: InferArguments, ckpt: Optional[str]) -> VllmEngine:
    """The engine for resolved arguments: a full (or merged) checkpoint is served as it is; a LoRA
    checkpoint is served as its base model plus the adapter. Nothing is loaded onto the GPU here."""
    import_vllm()  # fail first, with the install hint
    from ..model.loader import load_tokenizer, resolve_model_info
    from ..template import get_template
    from ..core.resolve import choose_template, read_system
    from .load import is_adapter

    adapter = ckpt if ckpt and is_adapter(ckpt) else None
    source = ckpt if ckpt and not adapter else args.model
    if not source:
        raise SartorError("give --model or --ckpt_dir")
    info = resolve_model_info(source, model_type=args.model_type, torch_dtype=args.torch_dtype, use_hf=args.use_hf,
                              revision=args.model_revision)
    if adapter and (Path(adapter) / "tokenizer_config.json").is_file():
        tokenizer_dir = adapter  # the checkpoint's own tokenizer, as the pt backend uses
    else:
        from ..model.loader import tokenizer_dir as resolve_tokenizer

        tokenizer_dir = resolve_tokenizer(args.tokenizer, args.use_hf, args.hub_token) if args.tokenizer else info.model_dir
    tokenizer = load_tokenizer(info.model_dir, tokenizer_dir, args.trust_remote_code)
    name = choose_template(args.template, info.template, tokenizer)
    template = get_template(name, tokenizer, default_system=read_system(args.system),
                            tools_prompt=args.tools_prompt)
    kwargs = engine_kwargs_from_args(args, info.model_dir, tokenizer_dir)
    batch = int(args.max_batch_size) if args.was_given("max_batch_size") else 256
    return VllmEngine(info.model_dir, tokenizer, template, kwargs, lora_checkpoint=adapter, max_batch_size=batch,
                      max_model_len=args.max_model_len, trust_remote_code=args.trust_remote_code)


# -- helpers ---------------------------------------------------------------------------------------------
def _model_files(model_dir: str, trust_remote_code: bool) -> SimpleNamespace:
    """The model's config and generation config (what PtEngine reads from a loaded model), without weights."""
    from transformers import AutoConfig, GenerationConfig

    try:
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise SartorError(f"cannot read the config of {model_dir}: {e}") from None
    try:
        generation = GenerationConfig.from_pretrained(model_dir)
    except (OSError, ValueError):
        generation = None
    return SimpleNamespace(config=config, generation_config=generation)


def _engine_classes(vllm: Any) -> tuple[Any, Any]:
    """(AsyncEngineArgs, the async engine class): vLLM's V1 AsyncLLM, else AsyncLLMEngine."""
    args_cls = getattr(vllm, "AsyncEngineArgs", None)
    if args_cls is None:
        from vllm.engine.arg_utils import AsyncEngineArgs as args_cls  # type: ignore[no-redef]
    try:
        from vllm.v1.engine.async_llm import AsyncLLM as engine_cls
    except ImportError:
        engine_cls = getattr(vllm, "AsyncLLMEngine", None)
        if engine_cls is None:
            raise SartorError("this vllm has neither vllm.v1.engine.async_llm.AsyncLLM nor vllm.AsyncLLMEngine; "
                              "install a current vllm") from None
    return args_cls, engine_cls


def _field_names(cls: Any) -> set[str]:
    try:
        return {f.name for f in dataclasses.fields(cls)}
    except TypeError:
        return set()


def _tokens_prompt(ids: list[int]) -> Any:
    try:
        from vllm.inputs import TokensPrompt
    except ImportError:
        return {"prompt_token_ids": list(ids)}
    return TokensPrompt(prompt_token_ids=list(ids))


def _logprob_value(lp: Any) -> float:
    return float(getattr(lp, "logprob", lp))


async def _aclose(gen: Any) -> None:
    close = getattr(gen, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception:  # noqa: BLE001 - the request is over either way
        pass


async def _abort(engine: Any, request_id: str) -> None:
    try:
        result = engine.abort(request_id)
        if asyncio.iscoroutine(result):
            await result
    except Exception:  # noqa: BLE001 - already finished or gone
        pass
