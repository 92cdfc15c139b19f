"""A fork server that runs `sartor ...` commands with kill points in their checkpoint saves (for
test_checkpoint_kill.py; test code only, nothing here ships).

It imports torch, transformers and sartor once, then reads one JSON request per line on stdin,
{"argv": [...], "cwd": dir, "env": {...}, "log": path}, forks a process that runs `sartor <argv>` with that environment (its
stdout and stderr going to `log`) and answers with a JSON line {"status": exit code, or -9 when SIGKILLed}. Each
command is a real process, killed as any training process is, for a fraction of an interpreter start.

A file event is a file opened for writing, a tensor file saved, a rename or a directory tree removed while the trainer
saves a checkpoint (the removal of leftovers that opens each save is not counted, so the n-th event of a save is the
same step of it in every process). Per command, in its env:
- OUTPUT=dir   the training's output directory;
- KILL_AT=S:J  SIGKILL the process just before the J-th event of its S-th save, after appending `S:J <event>` to
  KILL_LOG;
- AUDIT=path   before every event check that each checkpoint-N under OUTPUT has every file of a checkpoint; at exit,
  and at once when a check fails, write {"events": [[each save's events], ...], "violations": [...]} to path."""
import builtins
import json
import os
import re
import shutil
import signal
import sys
import traceback

import peft.peft_model
import torch

import sartor.train.sft  # noqa: F401  (imported once, before the forks)
from sartor.train import callbacks
from sartor.train import checkpoint as ckpt_module

REQUIRED = ("adapter_model.safetensors", "adapter_config.json", "tokenizer_config.json", "optimizer.pt", "scheduler.pt",
            "rng_state.pth", "trainer_state.json", "args.json")
real_open = builtins.open
state = {"kill": (0, 0), "saves": [], "violations": [], "counting": False}


def check_checkpoints() -> None:
    output = os.environ["OUTPUT"]
    for name in sorted(os.listdir(output)) if os.path.isdir(output) else ():
        if re.fullmatch(r"checkpoint-\d+", name):
            missing = [f for f in REQUIRED if not os.path.isfile(os.path.join(output, name, f))]
            if missing:
                state["violations"].append(f"{name} lacks {missing} before {state['saves'][-1][-1]}")
                write_audit()  # now: the process may be killed before it ends


def event(what: str) -> None:
    if not state["counting"]:
        return
    saves = state["saves"]
    saves[-1].append(what)
    if os.environ.get("AUDIT"):
        check_checkpoints()
    if (len(saves), len(saves[-1])) == state["kill"]:
        with real_open(os.environ["KILL_LOG"], "a") as f:
            f.write(f"{len(saves)}:{len(saves[-1])} {what}\n")
        os.kill(os.getpid(), signal.SIGKILL)


def wrap(owner, name: str, describe) -> None:
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        what = describe(*args, **kwargs)
        if what:
            event(what)
        return real(*args, **kwargs)

    setattr(owner, name, wrapped)


def _where(file) -> str:
    return f"{os.path.basename(os.path.dirname(file))}/{os.path.basename(file)}"


def _opened(file, mode="r", *args, **kwargs):
    return f"write {_where(file)}" if isinstance(file, (str, os.PathLike)) and set(mode) & set("wax+") else None


def _saved(obj, file, *args, **kwargs):  # torch.save and safetensors write from C++, not through open()
    return f"save {_where(file)}" if isinstance(file, (str, os.PathLike)) else None


wrap(builtins, "open", _opened)
wrap(torch, "save", _saved)
wrap(peft.peft_model, "safe_save_file", _saved)
wrap(os, "rename", lambda src, dst, *a, **k: f"rename {os.path.basename(src)} -> {os.path.basename(dst)}")
wrap(os, "replace", lambda src, dst, *a, **k: f"replace {os.path.basename(src)} -> {os.path.basename(dst)}")
wrap(shutil, "rmtree", lambda path, *a, **k: f"rmtree {os.path.basename(path)}")
real_save, real_clear = ckpt_module.AtomicCheckpoints._save_checkpoint, ckpt_module.clear_staging


def save_checkpoint(self, model, trial):
    state["saves"].append([])
    state["counting"] = True
    try:
        return real_save(self, model, trial)
    finally:
        state["counting"] = False


def clear_staging(run_dir):
    state["counting"] = False
    try:
        return real_clear(run_dir)
    finally:
        state["counting"] = True


ckpt_module.AtomicCheckpoints._save_checkpoint = save_checkpoint
ckpt_module.clear_staging = clear_staging
callbacks.plot_run = lambda run_dir: None  # no matplotlib: the curves are not under test


def child(request: dict) -> int:
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    state["kill"] = tuple(int(x) for x in os.environ.get("KILL_AT", "0:0").split(":"))
    torch.set_num_threads(1)
    from sartor.cli.main import main

    code = 0
    try:
        main(request["argv"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    write_audit()
    return code


def write_audit() -> None:
    if os.environ.get("AUDIT"):
        with real_open(os.environ["AUDIT"], "w") as f:
            json.dump({"events": state["saves"], "violations": state["violations"]}, f, indent=1)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = child(request)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"status": code}), flush=True)


if __name__ == "__main__":
    serve()
