"""The private Trainer methods Sartor's subclasses override or call, the steps of `_save_checkpoint` that
AtomicCheckpoints reproduces, and the stateful callbacks' states written into trainer_state.json."""
import ast
import inspect
import json
import os
import textwrap
from types import SimpleNamespace

import pytest
from transformers import EarlyStoppingCallback, Trainer, TrainingArguments
from transformers.trainer_callback import ExportableState, TrainerState

from sartor.compat import UpstreamChanged, relied_on
from sartor.compat import transformers as C
from sartor.train.checkpoint import AtomicCheckpoints
from sartor.train.preference.trainer import PreferenceTrainer
from sartor.train.trainer import SartorTrainer

# Trainer methods Sartor's subclasses override that transformers documents (Trainer's API reference)
DOCUMENTED_OVERRIDES = {"__init__", "training_step", "compute_loss", "log", "evaluation_loop", "evaluate",
                        "prediction_step"}


def test_the_private_methods_relied_on_are_there_with_their_parameters():
    problems = C.trainer_api_problems()
    assert problems == [], relied_on("transformers", "; ".join(problems))


def test_our_overrides_take_what_the_trainer_passes():
    for name, want in C.TRAINER_OVERRIDES.items():
        ours = getattr(SartorTrainer, name)
        assert ours is not getattr(Trainer, name), f"SartorTrainer no longer overrides {name}: drop it from " \
                                                   "TRAINER_OVERRIDES"
        assert [p for p in inspect.signature(ours).parameters if p != "self"][:len(want)] == list(want)


def test_save_checkpoint_steps_are_the_ones_atomic_checkpoints_reproduces():
    steps = C.trainer_save_checkpoint_steps()
    assert steps == C.SAVE_CHECKPOINT_STEPS, relied_on(
        "transformers", f"Trainer._save_checkpoint now does {steps}; AtomicCheckpoints._save_checkpoint "
        f"(train/checkpoint.py) reproduces {C.SAVE_CHECKPOINT_STEPS}: bring it up to date")


def test_atomic_checkpoints_calls_every_step():
    tree = ast.parse(textwrap.dedent(inspect.getsource(AtomicCheckpoints._save_checkpoint)))
    ours = {C._dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    ours = {name.removeprefix("self.") for name in ours if name}
    replaced = {"rotate_checkpoints": "rotate"}  # the rotation done our way (never a half-deleted checkpoint)
    missing = [s for s in C.SAVE_CHECKPOINT_STEPS if replaced.get(s, s) not in ours]
    assert missing == []


def test_require_trainer_api_names_what_changed(monkeypatch):
    class Changed(Trainer):
        def _save_rng_state(self, folder):  # a renamed parameter
            pass

    monkeypatch.setattr(C, "_trainer_cls", lambda cls=None: Changed)
    C.require_trainer_api.cache_clear()
    try:
        with pytest.raises(UpstreamChanged, match=r"transformers [\d.]+: Trainer._save_rng_state\('folder',\) no "
                                                  r"longer takes \('output_dir',\)"):
            C.require_trainer_api()
    finally:
        C.require_trainer_api.cache_clear()


def test_our_subclasses_do_not_reuse_the_trainer_s_names():
    """An attribute or helper method of ours with a name the Trainer uses itself would silently replace it."""
    trainer_attrs = C.trainer_attributes()
    for cls in (AtomicCheckpoints, SartorTrainer, PreferenceTrainer):
        own = C._self_assignments(cls) - {"loss_is_scaled_for_ga"}  # documented: subclasses set it
        clash = sorted(own & trainer_attrs)
        assert not clash, f"{cls.__name__} sets the Trainer's own attributes {clash}"
        for name, member in vars(cls).items():
            if not (inspect.isfunction(member) or isinstance(member, (staticmethod, classmethod))):
                continue
            if name.startswith("__") and name != "__init__":
                continue
            if hasattr(Trainer, name):
                assert name in C.TRAINER_OVERRIDES or name in DOCUMENTED_OVERRIDES, (
                    f"{cls.__name__}.{name} overrides an undocumented Trainer method: declare it in "
                    "sartor.compat.transformers.TRAINER_OVERRIDES (or rename it)")


def test_loss_is_scaled_for_ga_decides_the_accumulation_scaling():
    """SFT's loss is normalised over the optimizer step (True), the preference losses are batch means (False)."""
    assert "loss_is_scaled_for_ga" in vars(Trainer) and Trainer.loss_is_scaled_for_ga is None
    source = inspect.getsource(Trainer.training_step)
    assert "self.loss_is_scaled_for_ga" in source and "current_gradient_accumulation_steps" in source, relied_on(
        "transformers", "Trainer.training_step no longer reads loss_is_scaled_for_ga")


def _tiny_trainer(tmp_path, callbacks=()):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1)
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, save_only_model=True,
                             eval_strategy="steps", metric_for_best_model="loss", load_best_model_at_end=True)
    return Trainer(model=Qwen2ForCausalLM(config), args=args, callbacks=list(callbacks),
                   eval_dataset=[{"input_ids": [1, 2]}])


def test_callback_states_are_exported_as_the_trainer_exports_them(tmp_path, monkeypatch):
    """What resuming reads back from trainer_state.json (early stopping's patience, TrainerControl)."""
    early = EarlyStoppingCallback(early_stopping_patience=3)
    trainer = _tiny_trainer(tmp_path, [early])

    def fresh_state() -> TrainerState:  # as Trainer.train sets it up
        return TrainerState(stateful_callbacks=[cb for cb in trainer.callback_handler.callbacks + [trainer.control]
                                                if isinstance(cb, ExportableState)])

    early.early_stopping_patience_counter = 2
    trainer.control.should_training_stop = True

    trainer.state = fresh_state()
    monkeypatch.setattr(trainer, "save_model", lambda output_dir, **k: os.makedirs(output_dir, exist_ok=True))
    Trainer._save_checkpoint(trainer, trainer.model, trial=None)  # transformers' own, weights left out
    theirs = json.loads((tmp_path / "checkpoint-0" / "trainer_state.json").read_text())["stateful_callbacks"]

    ours_state = fresh_state()
    C.export_callback_states(SimpleNamespace(state=ours_state, callback_handler=trainer.callback_handler,
                                             control=trainer.control))
    assert json.loads(json.dumps(ours_state.stateful_callbacks)) == theirs
    assert theirs["EarlyStoppingCallback"]["attributes"]["early_stopping_patience_counter"] == 2
    assert theirs["TrainerControl"]["args"]["should_training_stop"] is True


def test_the_trainer_calls_get_batch_samples_with_what_we_count():
    """SartorTrainer.get_batch_samples returns (micro-batches, trained tokens); the Trainer's loop must still take
    that pair and pass the count to training_step as num_items_in_batch."""
    source = inspect.getsource(Trainer)
    assert "batch_samples, num_items_in_batch = self.get_batch_samples(" in source, relied_on(
        "transformers", "the training loop no longer unpacks get_batch_samples(...) into (batches, num_items_in_batch)")
    assert "self.training_step(model, inputs, num_items_in_batch)" in source, relied_on(
        "transformers", "the training loop no longer passes num_items_in_batch to training_step")
