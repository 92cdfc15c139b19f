"""`pt_main`: continued pre-training on raw text (a `text` column), loss on every token, packing on."""
import dataclasses
from typing import Any

from ..arguments import PtArguments
from .sft import sft_main


def pt_main(args: PtArguments | None = None, **kwargs: Any) -> dict:
    """Same trainer as sft; the generation template renders each text followed by EOS."""
    args = args or PtArguments(**kwargs)
    if not args.template:
        args = dataclasses.replace(args, template="default-generation")
    return sft_main(args)
