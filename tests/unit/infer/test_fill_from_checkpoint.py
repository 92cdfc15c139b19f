"""A checkpoint's args.json fills what the user left unset: flags and YAML > args.json > defaults."""
import json

from sartor.arguments import InferArguments, parse_args
from sartor.infer.load import fill_from_checkpoint


def test_precedence(tmp_path):
    ckpt = tmp_path / "run" / "checkpoint-8"
    ckpt.mkdir(parents=True)
    (tmp_path / "run" / "args.json").write_text(json.dumps({
        "model": "tiny", "template": "chatml", "system": "You are Sartor.", "max_length": 512,
        "torch_dtype": "float32", "learning_rate": 0.5}))
    (tmp_path / "serve.yaml").write_text("max_length: 128\n")
    args, explicit = parse_args(InferArguments, [str(tmp_path / "serve.yaml"), "--ckpt_dir", str(ckpt),
                                                 "--system", "Be terse."])
    filled = fill_from_checkpoint(args, str(ckpt))
    assert filled.system == "Be terse."            # a flag wins
    assert filled.max_length == 128                # so does the YAML config
    assert filled.template == "chatml" and filled.model == "tiny" and filled.torch_dtype == "float32"  # args.json
    assert not hasattr(filled, "learning_rate")    # training-only keys stay behind
    assert fill_from_checkpoint(args, str(tmp_path / "elsewhere")) is args  # no args.json: unchanged, with a warning
