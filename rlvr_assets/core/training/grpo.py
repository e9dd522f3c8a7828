"""GRPO training of one arm with TRL, compute-matched across arms.

Every arm gets the same optimizer steps, prompts per step and rollouts per prompt, whatever its corpus
size; small corpora are cycled. Which prompts a step takes is chosen by dynamic sampling (prompts whose
latest group all scored the same are re-drawn, `core.dynamic_sampling`). The checkpoint directory carries
its lineage (corpus hash, base model, config, precision) next to the weights, and every step's metrics
come back as a `StepLog` (persisted as the `training_log` table).

Precision: `bf16` is mixed precision. The weights and AdamW states stay fp32 (the model is loaded in fp32)
and TRL's `bf16=True` runs the forward and backward under bf16 autocast. Loading the weights in bf16
instead makes every update smaller than half a bf16 step round away (see docs/MEASUREMENTS.md). Training
also keeps cuDNN out of the SDPA backends. Its backward returns NaN gradients on left-padded bf16 batches
on Hopper GPUs (pytorch/pytorch#196678), which is how the first bf16 GPU run died. A non-finite gradient
stops training with `TrainingDiverged` before the optimizer writes it into the weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rlvr_assets.core.config import ModelConfig, TrainingConfig
from rlvr_assets.core.policy.agentic import EpisodeTraining
from rlvr_assets.core.policy.sampling import resolve_device, trl_generation_args
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import make_trl_reward
from rlvr_assets.core.training.checkpoint_files import save_policy
from rlvr_assets.core.training.dynamic_sampling import InformativeSampler, PassRateTracker

Precision = Literal["fp32", "bf16"]
STEPS_FILE = "rlvr_steps.json"  # a resumable checkpoint's StepLogs, so a resumed training's log starts at step 1


@dataclass(frozen=True)
class StepLog:
    """One optimizer step as TRL logged it, plus its wall time and how its prompts were drawn."""

    step: int
    reward: float | None
    reward_std: float | None
    frac_reward_zero_std: float | None
    loss: float | None
    kl: float | None
    entropy: float | None
    mean_completion_length: float | None
    grad_norm: float | None
    seconds: float
    prompts_redrawn: int
    prompts_forced: int
    prompt_ids: tuple[str, ...] = ()  # the tasks this step rolled out

    @property
    def zero_gradient(self) -> bool:
        """Every group of the step scored the same, so the policy-gradient term is zero."""
        return self.frac_reward_zero_std == 1.0


@dataclass(frozen=True)
class TrainingResult:
    checkpoint_dir: str
    steps: int
    rollouts: int
    seconds: float
    mean_reward: float
    final_loss: float | None
    lineage: dict[str, Any]
    log: tuple[StepLog, ...] = ()
    precision: Precision = "fp32"

    @property
    def zero_gradient_steps(self) -> int:
        return sum(1 for s in self.log if s.zero_gradient)


class TrainingDiverged(RuntimeError):
    """A gradient went non-finite; training stopped before the optimizer step that would write it."""

    def __init__(self, step: int, parameters: int, precision: Precision, backends: Sequence[str]) -> None:
        self.step = step
        self.parameters = parameters
        self.precision = precision
        self.backends = tuple(backends)
        super().__init__(
            f"GRPO step {step}: non-finite gradients in {parameters} parameter tensor(s) "
            f"(precision {precision}, SDPA backends {', '.join(backends)}); stopped before the optimizer step"
        )


def resolve_precision(cfg: TrainingConfig, device: str) -> Precision:
    """`auto` is bf16 mixed precision on CUDA and fp32 on CPU; bf16 on a GPU without bf16 is an error."""
    import torch

    precision: Precision = ("bf16" if device == "cuda" else "fp32") if cfg.precision == "auto" else cfg.precision
    if precision == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError("training.precision bf16 needs a GPU with bf16 support; set training.precision: fp32")
    return precision


def attention_backends(allow_cudnn: bool) -> list[Any]:
    """The SDPA backends training may use: cuDNN only when asked for (see the module docstring)."""
    from torch.nn.attention import SDPBackend

    backends = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    return [*backends, SDPBackend.CUDNN_ATTENTION] if allow_cudnn else backends


def _sdpa_context(backends: list[Any]) -> AbstractContextManager[None]:
    from torch.nn.attention import sdpa_kernel

    return sdpa_kernel(backends)


def grpo_dataset(tasks: Sequence[Task]):  # type: ignore[no-untyped-def]
    """Conversational prompts, the task JSON the reward function scores against, and the task id."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": t.messages, "task": t.to_json(), "task_id": t.id} for t in tasks])


def observing_reward(
    base: Callable[..., list[float]],
    task_ids_of: Callable[[dict[str, Any]], Sequence[str]],
    tracker: PassRateTracker,
    calls: list[tuple[str, ...]] | None = None,
) -> Callable[..., list[float]]:
    """`base` (the verifier reward) that also records each prompt's group of rewards for dynamic sampling and,
    in `calls`, the task ids each call scored (one call per optimizer step). `task_ids_of` reads the task id
    of every completion from TRL's keyword arguments."""

    def verifier_reward(**kwargs: Any) -> list[float]:  # the name every arm logs its reward under
        scores = base(**kwargs)
        groups: dict[str, list[float]] = {}
        for tid, score in zip(task_ids_of(kwargs), scores, strict=True):
            groups.setdefault(tid, []).append(score)
        for tid, rewards in groups.items():
            tracker.record(tid, rewards)
        if calls is not None:
            calls.append(tuple(groups))
        return scores

    return verifier_reward


def nonfinite_gradients(model: Any) -> int:
    """How many parameter tensors hold a NaN or infinite gradient."""
    import torch

    return sum(1 for p in model.parameters() if p.grad is not None and not bool(torch.isfinite(p.grad).all()))


def _metric(logs: Mapping[str, Any], key: str) -> float | None:
    value = logs.get(key)
    return float(value) if isinstance(value, int | float) else None


def tensorboard_callbacks(report_to: Sequence[str], log_dir: Path | None) -> list[Any]:
    """TensorBoard through transformers' own callback, writing into `log_dir` (one folder per arm and seed, so
    `tensorboard --logdir` names each run after them) instead of transformers' date-and-host default."""
    if "tensorboard" not in report_to:
        return []
    if log_dir is None:
        raise ValueError("tracking.report_to has tensorboard but no event folder was given")
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    log_dir.mkdir(parents=True, exist_ok=True)
    return [TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(log_dir)))]


def train_grpo(
    tasks: Sequence[Task],
    base_model_path: str,
    out_dir: Path,
    cfg: TrainingConfig,
    model_cfg: ModelConfig,
    seed: int,
    lineage: dict[str, Any],
    on_log: Callable[[dict[str, float]], None] | None = None,
    pass_rates: Mapping[str, tuple[float, int]] | None = None,
    *,
    checkpoint_every: int | None = None,  # resumable checkpoint (weights, optimizer, RNG) every k steps
    resume_from: str | None = None,  # continue from such a checkpoint through the trainer's own resume
    report_to: Sequence[str] = (),  # experiment trackers (TRL's report_to); "tensorboard" needs tensorboard_dir
    run_name: str | None = None,  # the trackers' run name, e.g. "aug-0.50-seed0"
    tensorboard_dir: Path | None = None,  # this training's TensorBoard event folder
) -> TrainingResult:
    """Train one arm and save its checkpoint. `pass_rates` (task id -> (pass rate, rollouts)) is what the
    gate already measured; dynamic sampling starts from it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    if not tasks:
        raise ValueError("cannot train on an empty corpus")
    if model_cfg.torch_threads:
        torch.set_num_threads(model_cfg.torch_threads)
    device = resolve_device(model_cfg)
    precision = resolve_precision(cfg, device)
    backends = attention_backends(cfg.cudnn_attention)
    backend_names = [b.name for b in backends]
    batch = cfg.prompts_per_step * cfg.num_generations
    max_steps = cfg.steps_for(len(tasks))
    args = GRPOConfig(
        output_dir=str(out_dir / "trainer"),
        max_steps=max_steps,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_new_tokens,
        learning_rate=cfg.learning_rate,
        temperature=cfg.temperature,
        beta=cfg.beta,
        seed=seed,
        data_seed=seed,
        logging_steps=1,
        save_strategy="steps" if checkpoint_every else "no",
        save_steps=checkpoint_every or 500,
        save_total_limit=2,  # the newest may be torn by a kill; the one before it is complete
        report_to=[t for t in report_to if t != "tensorboard"] or "none",  # tensorboard: its own callback below
        run_name=run_name,
        use_cpu=device == "cpu",
        bf16=precision == "bf16",
        **trl_generation_args(cfg, device, bf16=precision == "bf16"),  # the rollout engine's backend
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # fp32 master weights whatever the precision: bf16 only ever enters through autocast
    model = AutoModelForCausalLM.from_pretrained(base_model_path, dtype=torch.float32)
    peft_config = None
    if cfg.use_lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_rank, lora_alpha=2 * cfg.lora_rank, target_modules="all-linear", task_type="CAUSAL_LM"
        )

    tracker = PassRateTracker.from_pass_rates(pass_rates or {})
    sampler = InformativeSampler(
        [t.id for t in tasks],
        tracker,
        prompts_per_step=cfg.prompts_per_step,
        num_generations=cfg.num_generations,
        steps_per_epoch=-(-len(tasks) // cfg.prompts_per_step),
        seed=seed,
        recheck=cfg.dynamic_sampling_recheck,
        enabled=cfg.dynamic_sampling,
    )
    steps: list[StepLog] = []
    scored: list[tuple[str, ...]] = []  # task ids of each step's reward call
    if resume_from and (Path(resume_from) / STEPS_FILE).exists():  # the log so far travels with the checkpoint
        rows = json.loads((Path(resume_from) / STEPS_FILE).read_text())
        steps += [StepLog(**{**row, "prompt_ids": tuple(row["prompt_ids"])}) for row in rows]
        scored += [s.prompt_ids for s in steps]

    class _Record(TrainerCallback):
        started = 0.0
        seconds = 0.0

        def on_step_begin(self, _args, _state, _control, **_kw):  # type: ignore[no-untyped-def]
            self.started = time.monotonic()

        def on_pre_optimizer_step(self, _args, state, _control, model=None, **_kw):  # type: ignore[no-untyped-def]
            bad = nonfinite_gradients(model)
            if bad:
                raise TrainingDiverged(state.global_step + 1, bad, precision, backend_names)

        def on_step_end(self, _args, _state, _control, **_kw):  # type: ignore[no-untyped-def]
            self.seconds = time.monotonic() - self.started

        def on_save(self, args, state, _control, **_kw):  # type: ignore[no-untyped-def]
            saved = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if saved.is_dir():
                (saved / STEPS_FILE).write_text(json.dumps([asdict(s) for s in steps]))

        def on_log(self, _args, state, _control, logs=None, **_kw):  # type: ignore[no-untyped-def]
            if not logs or "reward" not in logs:
                return
            step = int(state.global_step)
            draw = sampler.draws[step - 1] if step - 1 < len(sampler.draws) else None
            steps.append(
                StepLog(
                    step=step,
                    reward=_metric(logs, "reward"),
                    reward_std=_metric(logs, "reward_std"),
                    frac_reward_zero_std=_metric(logs, "frac_reward_zero_std"),
                    loss=_metric(logs, "loss"),
                    kl=_metric(logs, "kl"),
                    entropy=_metric(logs, "entropy"),
                    mean_completion_length=_metric(logs, "completions/mean_length"),
                    grad_norm=_metric(logs, "grad_norm"),
                    seconds=self.seconds,
                    prompts_redrawn=draw.redrawn if draw else 0,
                    prompts_forced=draw.forced if draw else 0,
                    prompt_ids=scored[step - 1] if step - 1 < len(scored) else (),
                )
            )
            if on_log:
                metrics = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
                on_log({**metrics, "step": float(step)})

    class _Trainer(GRPOTrainer):
        """GRPO with the dynamic sampler in place of TRL's shuffled repeat sampler (same batch layout)."""

        def _get_train_sampler(self, dataset=None):  # type: ignore[no-untyped-def]
            return sampler

    live = EpisodeTraining.for_corpus(tasks)  # tool-use tasks: live episodes through TRL's rollout_func
    if live:
        reward = observing_reward(
            live.reward_func, lambda kw: [live.task_of(p).id for p in kw["prompts"]], tracker, scored
        )
    else:
        reward = observing_reward(make_trl_reward(), lambda kw: list(kw["task_id"]), tracker, scored)
    trainer = _Trainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=live.dataset() if live else grpo_dataset(tasks),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_Record(), *tensorboard_callbacks(report_to, tensorboard_dir)],
        rollout_func=live.rollout_func if live else None,
    )
    trainer.remove_callback(PrinterCallback)  # its raw dicts; metrics reach the caller through on_log
    start = time.monotonic()
    with _sdpa_context(backends):
        trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.monotonic() - start
    history = [s.reward for s in steps if s.reward is not None]
    mean_reward = sum(history) / len(history) if history else 0.0
    final_loss = next((s.loss for s in reversed(steps) if s.loss is not None), None)
    ckpt = out_dir / "model"
    trained = trainer.model.merge_and_unload() if cfg.use_lora else trainer.model
    save_policy(trained, tokenizer, ckpt)
    log = tuple(steps)
    # every process of a multi-process arm draws its own prompts and rollouts: the batch is per device
    rollouts = trainer.state.global_step * batch * args.world_size
    full_lineage = {
        **lineage,
        "seed": seed,
        "training": cfg.model_dump(),
        "precision": precision,
        "sdpa_backends": backend_names,
        "steps": trainer.state.global_step,
        "rollouts": rollouts,
        "zero_gradient_steps": sum(1 for s in log if s.zero_gradient),
        "prompts_redrawn": sum(s.prompts_redrawn for s in log),
        "seconds": round(seconds, 2),
    }
    (ckpt / "rlvr_lineage.json").write_text(json.dumps(full_lineage, indent=2, default=str))
    (ckpt / "training_log.json").write_text(json.dumps([asdict(s) for s in log], indent=2))
    return TrainingResult(
        str(ckpt),
        trainer.state.global_step,
        rollouts,
        seconds,
        mean_reward,
        final_loss,
        full_lineage,
        log,
        precision,
    )
