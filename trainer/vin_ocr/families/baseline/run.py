"""One baseline training run: the CRNN, its optimiser and data, stepped by the run harness."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Iterator, Optional

import torch

from ...config import SYNTHETIC
from ...models import BLANK, build_model
from ...training.checkpoints import BEST, LAST, load_checkpoint, save_atomically
from ...training.data import (
    Batch,
    CachedStream,
    EvalSet,
    InputMeter,
    auto_workers,
    build_eval_set,
    build_train_stream,
    cache_workers,
    fresh_share,
    metered,
    render_rate,
    uses_render_cache,
)
from ...training.device import choose_device, place, usable_cores
from ...training.evaluate import read_images, sample_items, score
from ...vin import ALPHABET
from ..protocol import CheckpointRef, Clock, Evaluation, Plan, RunContext, RunFacts, StepResult
from .initial_weights import initial_weights

GRADIENT_CLIP = 5.0
FINAL_LR_FRACTION = 0.02


def learning_rate(base: float, clock: Clock) -> float:
    """Linear warm-up, then cosine decay over whichever budget (steps or minutes) runs out first,
    so a run cut short by its time limit still ends with a small learning rate."""
    warmup = max(1, min(100, clock.max_steps // 20))
    decay = FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * clock.fraction))
    return base * min(1.0, (clock.step + 1) / warmup) * decay


def adamw(model: torch.nn.Module, lr: float) -> torch.optim.AdamW:
    """AdamW with the fused kernel where this torch has one for the device: one pass over the
    weights instead of a dozen (measured on 2 CPU cores: 2.3 → 0.7 ms per step, 4 % of a step)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the fused kernel
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)


def _rate_text(rate: Optional[float]) -> str:
    return "not bound by rendering" if rate is None else f"{rate:,.0f} images/s"


def _encode(vin: str) -> list[int]:
    return [ALPHABET.index(char) + 1 for char in vin]


class BaselineRun:
    def __init__(self, context: RunContext) -> None:
        config = context.config
        training = config.training
        self.config = config
        self.checkpoints = context.run_dir / "checkpoints"
        world = context.team.world
        device = choose_device(context.device)
        self.context = context
        synthetic = config.data.train == SYNTHETIC
        self.cache_wanted, self.input_reason = (
            uses_render_cache(config.data.synthetic.cache.mode, device) if synthetic else (False, "labelled data")
        )
        if training.num_workers != "auto":
            workers = int(training.num_workers)
        elif self.cache_wanted:
            workers = cache_workers(device, world.local_size)
        else:
            workers = auto_workers(device, world.local_size)
        # One core per render worker, the rest for the main process (the model on a CPU; feeding the
        # device on a GPU): more threads than cores made OpenMP spin against the renderer and cut
        # throughput several-fold on 2 cores. Ranks on one machine each take their share of its cores.
        torch.set_num_threads(max(1, usable_cores() // world.local_size - workers))
        self.placement = placement = place(device, training.precision)  # after the threads: its name counts them
        # Only rank 0 evaluates (the harness's rule), so only it renders or loads the held-out sets.
        self.val = build_eval_set(config.data.val, config, "val") if world.is_main else None
        self.test = build_eval_set(config.data.test, config, "test") if world.is_main else None
        for split in (self.val, self.test):
            if split is not None and split.skipped:
                context.notice(
                    "warning", code="rows_skipped", message=f"{split.skipped} bad row(s) skipped in the {split.name} set", fix=None
                )
        start_weights, self.init_from = initial_weights(config.model)  # a resumed run's own weights replace these
        # Weights that already read VINs are validated before the first step, so the best checkpoint of a
        # fine-tune is never worse on the validation set than what it started from.
        self.starts_trained = start_weights is not None
        self.stream, train_size, skipped, data_warnings = build_train_stream(
            config, workers, training.batch_size, placement.device, world, self.starts_trained, self._cache_warning, workers
        )
        self.meter = InputMeter(self._input_bound, warmup_steps=self._steps_before_steady())
        if self.stream.augment_labelled:
            context.log.info(f"labelled training images are augmented each time they come round (data.augment: {config.data.augment})")
        for warning in data_warnings[:100]:
            context.notice("warning", code="dataset_warning", message=warning, fix=None)
        if train_size is not None:  # a labelled set: its size and the count skipped, always
            summary = f"training set {config.data.train}: {train_size} rows used, {skipped} skipped"
            context.notice("log", level="info", message=summary)
            context.log.info(summary)
        if skipped:
            context.notice("warning", code="rows_skipped", message=f"{skipped} bad row(s) skipped in the training set", fix=None)
        self.model = build_model(config.model)
        if start_weights is not None:
            self.model.load_state_dict(start_weights)
        context.log.info(f"starting from {self.init_from}")
        self.model.to(placement.torch_device)
        if placement.device == "cpu":
            # Channels-last weights (with the model's channels-last activations) keep oneDNN's
            # convolutions free of layout reorders: measured about 1.5x the images/s on 2 cores.
            # Parameters keep their values and shapes; checkpoints load into either layout.
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # supported; missing from torch's stubs
        self.trained = context.team.wrap(self.model)  # DistributedDataParallel in a team of several ranks
        self.optimizer = adamw(self.model, training.learning_rate)
        self.scaler = torch.amp.GradScaler("cuda") if placement.needs_grad_scaler else None
        self.ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
        self.best_state: Optional[dict[str, torch.Tensor]] = None
        input_facts = self._input_facts(workers, synthetic)
        if synthetic:
            context.log.info(
                f"training on synthetic VINs {self.stream.describe(workers)}, {torch.get_num_threads()} torch thread(s) "
                f"({self.input_reason}; expected input rate {_rate_text(input_facts['input_images_per_sec'])})"
            )
        parameters = sum(p.numel() for p in self.model.parameters())
        self.facts = RunFacts(
            placement.device,
            placement.name,
            placement.dtype,
            placement.attention,
            parameters,
            {"init_from": self.init_from, **input_facts},
        )
        self.plan = Plan(training.max_steps, training.eval_every, train_size)

    # ---- the input path ----------------------------------------------------------------
    def _input_facts(self, workers: int, synthetic: bool) -> dict[str, Any]:
        """run_started's input_path (what feeds the model), input_reason and input_images_per_sec: the
        rate renders can sustain, from a short measurement of the renderer on this machine (None: not
        bound by rendering, or labelled data)."""
        if not synthetic:
            return {"input_path": "labelled", "input_images_per_sec": None}
        settings = self.config.data.synthetic
        per_core = render_rate(self.config)
        renderers = max(1, workers)
        if isinstance(self.stream, CachedStream):
            refresh = self.stream.cache.schedule.refresh
            rate = per_core * renderers / refresh if refresh > 0 else None
            return {"input_path": "cache", "input_reason": self.input_reason, "input_images_per_sec": rate}
        share = fresh_share(settings.fresh_ratio, self.placement.device) if settings.pool_size else 1.0
        if self.cache_wanted:  # but it could not be opened (the warning says why)
            self.input_reason = "the render cache could not be used"
        return {"input_path": "live", "input_reason": self.input_reason, "input_images_per_sec": per_core * renderers / share}

    def _steps_before_steady(self) -> int:
        """Steps the input meter leaves out: worker start-up, and a new cache's first pass (which renders
        it at the renderers' speed: expected, and said in the log, not a misconfiguration)."""
        if isinstance(self.stream, CachedStream):
            schedule = self.stream.cache.schedule
            return 50 + len(schedule.mine) * schedule.per_block
        return 50

    def _cache_warning(self, message: str) -> None:
        self.context.log.info(f"warning: {message}")
        self.context.notice("warning", code="render_cache", message=message, fix=None)

    def _input_bound(self, idle: float, trained_rate: float, model_rate: float) -> None:
        """The warning when the model waits for its data (InputMeter measured it over a window)."""
        where = "GPU" if self.placement.device == "cuda" else "Apple GPU" if self.placement.device == "mps" else "model"
        path = self.facts.extra.get("input_path")
        message = (
            f"the {where} is idle {idle:.0%} of the time waiting for data: training at {trained_rate:,.0f} images/s, "
            f"the model alone would take {model_rate:,.0f} ({path} input)"
        )
        if path == "cache":
            fix = "Lower data.synthetic.cache.refresh (fewer renders per pass) or give the run more CPU cores."
        elif path == "live":
            fix = "Set data.synthetic.cache.mode: on (renders made once, re-used with augmentation on the device), or lower fresh_ratio."
        else:
            fix = "Raise training.num_workers, or keep the dataset on a faster disk."
        self.context.log.info(f"warning: {message}. {fix}")
        self.context.notice("warning", code="input_bound", message=message, fix=fix)

    # ---- training ----------------------------------------------------------------------
    def batches(self, start_step: int) -> Iterator[Batch]:
        return metered(self.stream.batches(start_step), self.meter)

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def train_step(self, batch: Batch, clock: Clock) -> StepResult:
        device = self.placement.torch_device
        images = batch.images.to(device, non_blocking=True)
        targets = torch.tensor([_encode(vin) for vin in batch.vins], dtype=torch.long)
        target_lengths = torch.full((len(batch.vins),), targets.shape[1], dtype=torch.long)
        lr = learning_rate(self.config.training.learning_rate, clock)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.trained.train()
        with torch.autocast(self.placement.device, dtype=self.placement.autocast_dtype, enabled=self.placement.autocast_dtype is not None):
            log_probs = self.trained(images)
        # CTC in fp32 always: its log-sum-exp is what loses precision first in half precision.
        log_probs = log_probs.float().transpose(0, 1)  # [frames, batch, classes]
        input_lengths = torch.full((len(batch.vins),), log_probs.shape[0], dtype=torch.long)
        loss = self.ctc(log_probs, targets.to(device), input_lengths, target_lengths)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRADIENT_CLIP)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRADIENT_CLIP)
            self.optimizer.step()
        return StepResult(float(loss.detach()), len(batch.vins))

    # ---- evaluation --------------------------------------------------------------------
    def evaluate(self, split: str) -> Optional[Evaluation]:
        eval_set: Optional[EvalSet] = self.val if split == "val" else self.test
        if eval_set is None:
            return None
        reads = read_images(self.model, eval_set.images, self.placement)
        metrics, chosen = score(reads, eval_set.vins, self.config.decoding.check_digit)
        return Evaluation(metrics, len(eval_set.vins), sample_items(eval_set.images, eval_set.vins, chosen))

    def remember_best(self) -> None:
        self.best_state = copy.deepcopy(self.model.state_dict())

    def use_best(self) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    # ---- checkpoints -------------------------------------------------------------------
    def checkpoint_path(self, kind: str) -> Path:
        return self.checkpoints / (BEST if kind == "best" else LAST)

    def save(self, kind: str, state: dict[str, Any]) -> Path:
        path = self.checkpoint_path(kind)
        own = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
        }
        save_atomically({**state, **own}, path)
        return path

    def restore(self, checkpoint: CheckpointRef, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        best_file = self.checkpoint_path("best")
        if best_file.is_file():
            best, _ = load_checkpoint(best_file)
            self.best_state = best["model"]

    def finish(self) -> None:
        pass  # the checkpoint is the product; ONNX export is a separate step

    def close(self) -> None:
        pass
