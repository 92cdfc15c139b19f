"""Option combinations preference training does not take."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...utils.errors import SartorError
from ...utils.logging import get_logger

if TYPE_CHECKING:
    from ...arguments import RLHFArguments


def check_rlhf_args(args: RLHFArguments) -> None:
    """Option combinations preference training does not take."""
    if args.packing or args.padding_free:
        raise SartorError("--packing / --padding_free are not available for rlhf (chosen and rejected must stay whole rows)")
    if args.rlhf_type == "kto" and args.per_device_train_batch_size < 2:
        get_logger().warning("kto estimates its KL reference point from the other rows of a micro-batch: with "
                             "--per_device_train_batch_size 1 it is 0 (use 2 or more)")
    if args.loss_type == "robust" and not 0.0 <= args.label_smoothing < 0.5:
        raise SartorError(f"--loss_type robust needs --label_smoothing in [0, 0.5), got {args.label_smoothing}")
    if args.lazy_tokenize:
        get_logger().info("rlhf encodes its pairs before training: --lazy_tokenize is not used")
    if args.loss_scale != "default":
        get_logger().info(f"rlhf judges the last assistant answer only: --loss_scale {args.loss_scale} is not used")
    if args.rpo_alpha and args.rlhf_type != "dpo":
        get_logger().warning(f"--rpo_alpha applies to dpo only; --rlhf_type {args.rlhf_type} ignores it")
