"""Remote-code families (Baichuan2, InternLM2, ChatGLM3, Qwen v1, XVERSE, InternLM) from a local repository whose config.json maps
its classes to the repository's own code: refused without --trust_remote_code, loaded and detected as the family
with it, and LoRA with the registry's default targets adapts exactly the family's published module names and
trains."""
import pytest
import torch
from datasets import Dataset
from remote_code_factory import FAMILIES
from transformers import TrainingArguments

from sartor.arguments import SftArguments
from sartor.dataset.collate import PaddedCollator
from sartor.model.loader import get_model_tokenizer
from sartor.model.registry import MODEL_MAPPING
from sartor.train.trainer import SartorTrainer
from sartor.tuners.prepare import prepare_model
from sartor.utils.errors import SartorError

PAD = 0


def _rows(n=4):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        ids = torch.randint(1, 4096, (10,), generator=g).tolist()
        out.append({"input_ids": ids, "labels": [-100] * 3 + ids[3:]})
    return out


def _loss(model, rows) -> float:
    batch = PaddedCollator(PAD)(rows)
    with torch.no_grad():
        return float(model(**batch).loss)


@pytest.fixture(scope="module", params=FAMILIES, ids=str)
def family_repo(request, tmp_path_factory):
    """One repository per family, shared by its tests (which only read it)."""
    family = request.param
    return family, family.write(tmp_path_factory.mktemp(family.name))


def test_without_trust_remote_code_the_load_is_refused_plainly(family_repo):
    _, repo = family_repo
    with pytest.raises(SartorError, match=r"needs code from its repository: pass --trust_remote_code true") as e:
        get_model_tokenizer(model=str(repo))
    assert e.value.__cause__ is None
    assert e.traceback[-1].path.name == "loader.py"  # raised by Sartor before any repository code ran
    assert "modeling_x" not in "".join(str(entry.path) for entry in e.traceback)
    with pytest.raises(SartorError, match=r"pass --trust_remote_code true"):  # the tokenizer alone too
        get_model_tokenizer(model=str(repo), load_model=False)


def test_with_trust_remote_code_it_loads_as_the_family(family_repo):
    family, repo = family_repo
    model, tok = get_model_tokenizer(model=str(repo), trust_remote_code=True)
    assert type(model).__name__ == family.arch
    info = model.model_info
    assert info.model_type == family.expected_registry_type
    meta = MODEL_MAPPING[info.model_type]
    assert meta.family == family.name and meta.requires_remote_code
    assert info.lora_target_modules == meta.lora_target_modules == list(family.lora_targets)
    assert len(tok) <= model.config.vocab_size


def test_lora_adapts_the_published_names_and_trains(family_repo, tmp_path):
    from peft.tuners.lora import LoraLayer

    family, repo = family_repo
    base, _ = get_model_tokenizer(model=str(repo), trust_remote_code=True)
    targets = list(MODEL_MAPPING[base.model_info.model_type].lora_target_modules)
    linears = {n for n, m in base.named_modules()  # the decoder's linear layers the targets name
               if isinstance(m, torch.nn.Linear) and ".layers." in n and n.rsplit(".", 1)[-1] in targets}
    model = prepare_model(base, SftArguments(model=str(repo), train_type="lora", target_modules=targets, lora_rank=4,
                                             lora_alpha=8, lora_dropout=0.0, gradient_checkpointing=False))
    adapted = {n for n, m in model.named_modules() if isinstance(m, LoraLayer)}
    assert targets == list(family.lora_targets)
    assert {n.rsplit(".", 1)[-1] for n in adapted} == set(family.lora_targets)
    assert {n.removeprefix("base_model.model.") for n in adapted} == linears
    assert "lm_head" not in {n.rsplit(".", 1)[-1] for n in adapted}

    rows = _rows()
    before = _loss(model, rows)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], max_steps=4,
                             per_device_train_batch_size=4, learning_rate=1e-2, lr_scheduler_type="constant",
                             warmup_steps=0, save_strategy="no", logging_strategy="no", disable_tqdm=True,
                             dataloader_num_workers=0, seed=0)
    SartorTrainer(model=model, args=args, data_collator=PaddedCollator(PAD),
                  train_dataset=Dataset.from_list(rows)).train()
    assert _loss(model, rows) < before
