"""English and Chinese labels of the training web UI (`--lang en|zh`)."""
from typing import Callable

LABELS: dict[str, tuple[str, str]] = {
    # page and tabs
    "title": ("Sartor training web UI", "Sartor 训练界面"),
    "subtitle": ("Runs live on disk: reload the page at any time.", "运行记录保存在磁盘上，可随时刷新页面。"),
    "tab_train": ("Train", "训练"),
    "tab_chat": ("Chat", "对话"),
    "tab_export": ("Export", "导出"),
    "tab_eval": ("Eval", "评测"),
    # train form
    "model": ("Model (registry id, hub id or local path)", "模型（注册表 id、hub id 或本地路径）"),
    "kind": ("Training", "训练方式"),
    "rlhf_type": ("Preference method", "偏好训练方法"),
    "train_type": ("Tuner", "微调方式"),
    "datasets": ("Datasets (registered name, path; name#N samples N rows)", "数据集（注册名或路径；name#N 采样 N 条）"),
    "upload": ("Upload a data file", "上传数据文件"),
    "learning_rate": ("Learning rate", "学习率"),
    "num_train_epochs": ("Epochs", "训练轮数"),
    "max_steps": ("Max steps (-1: by epochs)", "最大步数（-1：按轮数）"),
    "batch_size": ("Batch size per device", "每卡批大小"),
    "grad_accum": ("Gradient accumulation (0: auto)", "梯度累积（0：自动）"),
    "lora_rank": ("LoRA rank", "LoRA 秩"),
    "lora_alpha": ("LoRA alpha", "LoRA alpha"),
    "max_length": ("Max length (0: the model's)", "最大长度（0：模型默认）"),
    "model_name": ("Model name (self-cognition)", "模型名称（自我认知）"),
    "model_author": ("Model author (self-cognition)", "模型作者（自我认知）"),
    "output_dir": ("Output directory", "输出目录"),
    "extra": ("More flags (e.g. --warmup_ratio 0.05)", "其他参数（如 --warmup_ratio 0.05）"),
    "command": ("Command (run it in a shell for the same run)", "等价命令（在终端运行得到相同的训练）"),
    "launch": ("Launch", "开始训练"),
    "stop": ("Stop", "停止"),
    "refresh": ("Refresh", "刷新"),
    "run": ("Run", "运行"),
    "status": ("Status", "状态"),
    "log": ("Log (stderr tail)", "日志（stderr 末尾）"),
    "loss_curve": ("Loss curve", "损失曲线"),
    "runs": ("Runs in the output directory", "输出目录中的运行"),
    # chat
    "checkpoint": ("Checkpoint", "检查点"),
    "load": ("Load", "加载"),
    "message": ("Message", "消息"),
    "send": ("Send", "发送"),
    "clear": ("Clear", "清空"),
    "system": ("System prompt", "系统提示"),
    "temperature": ("Temperature (0: greedy)", "温度（0：贪心）"),
    "max_new_tokens": ("Max new tokens", "最大生成长度"),
    "settings": ("Settings", "设置"),
    "chat": ("Chat", "对话"),
    # export
    "merge_lora": ("Merge LoRA", "合并 LoRA"),
    "quant_method": ("Quantisation method", "量化方法"),
    "quant_bits": ("Bits", "位数"),
    "export_dir": ("Output directory (empty: beside the checkpoint)", "输出目录（空：检查点旁边）"),
    "export": ("Export", "导出"),
    "job": ("Job", "任务"),
    # eval
    "val_dataset": ("Validation data (path or name#N)", "验证数据（路径或 name#N）"),
    "val_sample": ("Rows (0: all)", "条数（0：全部）"),
    "evaluate": ("Run inference", "运行推理"),
    "results": ("Results", "结果"),
    "query": ("query", "问题"),
    "response": ("response", "回答"),
    "label": ("label", "标注"),
    # statuses and run-table columns
    "running": ("running", "运行中"),
    "finished": ("finished", "已完成"),
    "failed": ("failed", "失败"),
    "stopped": ("stopped", "已停止"),
    "incomplete": ("incomplete", "未完成"),
    "col_run": ("run", "运行"),
    "col_command": ("command", "命令"),
    "col_model": ("model", "模型"),
    "col_status": ("status", "状态"),
    "col_step": ("step", "步数"),
    "col_loss": ("loss", "损失"),
    # messages
    "no_run": ("No run selected.", "未选择运行。"),
    "no_log": ("Launched outside the web UI: no log captured.", "非本界面启动的运行：没有捕获日志。"),
    "not_loaded": ("Pick a checkpoint.", "请选择检查点。"),
    "loaded": ("Loaded", "已加载"),
    "launched": ("Launched job", "已启动任务"),
    "result_path": ("Result file", "结果文件"),
}

LANGS = ("en", "zh")


def translator(lang: str) -> Callable[[str], str]:
    """t(key) -> the label in `lang` (the key itself where no label exists)."""
    index = LANGS.index(lang)
    return lambda key: LABELS[key][index] if key in LABELS else key
