"""One fine-tuning run of a vision-language model, stepped by the run harness.

Set-up follows the hardware policy: attention and dtype for this machine (with the reasons, for
``run_started``), the model loaded down its family's attention chain, LoRA (the published
recipes) or every weight, and the family's collator.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import torch

from ...errors import CHECKPOINT_INVALID, INVALID_CONFIG, TrainerError
from ...training.distributed import rank_slice
from ..protocol import CheckpointRef, Clock, Evaluation, Plan, RunContext, RunFacts, StepResult
from .config import SYNTHETIC_TRAIN_SIZE

if TYPE_CHECKING:
    from .family import VlmTraits

GRADIENT_CLIP = 1.0
SAMPLE_ITEMS = 8


class VlmRun:
    def __init__(self, traits: "VlmTraits", context: RunContext) -> None:
        import transformers

        from ...hardware import probe
        from ...models.hf.data import load_examples
        from ...models.hf.loading import download_notice, ensure_downloadable, load_vlm
        from ...models.hf.lora import apply_lora, count_parameters
        from ...models.hf.policy import choose_attention, machine_from_probe

        config = self.config = context.config
        model_config, training, data = config.model, config.training, config.data
        self.traits = traits
        self.context = context
        self.checkpoints = context.run_dir / "checkpoints"
        self.device = torch.device(context.device)
        self.team = team = context.team
        machine = machine_from_probe(context.device, probe())
        try:
            attention = choose_attention(traits.name, machine, model_config.attn_implementation)
            dtype = traits.choose_dtype(machine, training.precision)
        except ValueError as error:
            raise TrainerError(INVALID_CONFIG, str(error), "Use one of the values listed.") from error
        if training.precision != "auto" and dtype.value != training.precision:
            context.notice(
                "warning", code=f"{training.precision}_on_{context.device}", message=dtype.reason, fix="Set training.precision to auto."
            )

        synthetic = data.synthetic.val_size
        seed = training.seed
        self.train_examples = load_examples(
            data.train, Path("."), data.on_bad_rows, training.max_train_samples, SYNTHETIC_TRAIN_SIZE, seed=seed
        )
        # Only rank 0 evaluates (the harness's rule), so only it loads the held-out sets.
        self.val_examples = (
            load_examples(data.val, Path("."), data.on_bad_rows, training.max_eval_samples or synthetic, synthetic, seed=seed + 1_000_003)
            if data.val and team.is_main
            else []
        )
        self.test_examples = (
            load_examples(data.test, Path("."), data.on_bad_rows, training.max_eval_samples, synthetic, seed=seed + 2_000_003)
            if data.test and team.is_main
            else []
        )

        model_id = model_config.model_id
        context.log.info(f"loading {model_id} ({attention.value}, {dtype.value}) …")
        notice = download_notice(model_id, model_config.revision)
        if notice:
            ensure_downloadable(model_id, model_config.revision)
            context.notice("log", level="info", message=notice)
            context.log.info(notice)
        self.processor = traits.load_processor(model_id, model_config.trust_remote_code, model_config.revision)
        loaded = load_vlm(model_id, traits.name, attention.value, dtype.value, model_config.trust_remote_code, model_config.revision)
        for line in loaded.fallbacks:
            context.notice("warning", code="attention_fallback", message=f"Could not load with {line}", fix=None)
        attention_reason = (
            attention.reason
            if loaded.attention == attention.value
            else f"{attention.value} failed to load ({'; '.join(loaded.fallbacks)}); fell back to {loaded.attention}"
        )
        model = loaded.model.to(self.device)
        device_facts = traits.on_device(model, self.device, model_config.finetune) if traits.on_device else {}
        for key, text in device_facts.items():
            context.log.info(f"{key.replace('_', ' ')}: {text}")
        if training.gradient_checkpointing:
            # Non-reentrant: the reentrant kind loses the gradients of inputs that do not require grad.
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.config.use_cache = False
        if model_config.finetune == "lora":
            if training.gradient_checkpointing and traits.input_require_grads:
                model.enable_input_require_grads()
            model = apply_lora(model, traits.lora, model_config.lora_rank)
            if training.gradient_checkpointing and not traits.input_require_grads:
                _drop_input_require_grads(model)  # peft turns it on for any model that checkpoints
        self.model = model
        self.trained = team.wrap(model)  # DistributedDataParallel over the trainable weights in a team of several ranks
        self.collator = traits.make_collator(self.processor, model_config)
        self.optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=training.learning_rate, weight_decay=0.0)
        trainable, parameters = count_parameters(model)

        global_batch = training.batch_size * training.gradient_accumulation_steps * team.size
        updates_per_epoch = max(1, math.ceil(len(self.train_examples) / global_batch))
        max_steps = training.max_steps or max(1, math.ceil(updates_per_epoch * training.num_epochs))
        eval_every = training.eval_every or max(1, min(updates_per_epoch, max_steps))
        self.plan = Plan(max_steps, eval_every, len(self.train_examples))
        self.facts = RunFacts(
            context.device,
            _device_name(self.device),
            dtype.value,
            loaded.attention,
            parameters,
            extra={
                "attention_reason": attention_reason,
                "dtype_reason": dtype.reason,
                "trainable_parameters": trainable,
                "model_id": model_id,
                "finetune": model_config.finetune,
                "transformers_version": transformers.__version__,
                **device_facts,
            },
        )

    # ---- training ----------------------------------------------------------------------
    def batches(self, start_step: int) -> Iterator[list[dict[str, Any]]]:
        """Micro-batches per step, shuffled per epoch from training.seed, so a resumed run sees the same order.

        In a team each step's global batch is cut into one slice per rank (distributed.rank_slice).
        """
        training = self.config.training
        per_step = training.batch_size * training.gradient_accumulation_steps
        global_step = per_step * self.team.size
        order: list[int] = []
        epoch = -1
        position = start_step * global_step
        while True:
            start, end = rank_slice(position, per_step, self.team.rank)
            while len(order) < position + global_step:
                epoch += 1
                indices = list(range(len(self.train_examples)))
                random.Random(training.seed * 1_000_003 + epoch).shuffle(indices)
                order.extend(indices)
            chosen = [self.train_examples[i] for i in order[start:end]]
            position += global_step
            yield [
                self.collator.training_batch([(e.image(), e.vin) for e in chosen[j : j + training.batch_size]])
                for j in range(0, len(chosen), training.batch_size)
            ]

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def train_step(self, batch: list[dict[str, Any]], clock: Clock) -> StepResult:
        from ...models.hf.generation import move_batch

        self.trained.train()
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        dtype = next(self.model.parameters()).dtype
        for index, micro_batch in enumerate(batch):
            # Gradients are averaged across ranks once per step, with the last micro-batch.
            last = index == len(batch) - 1
            with contextlib.nullcontext() if last else self.team.no_sync(self.trained):
                loss = self.trained(**move_batch(micro_batch, self.device, dtype)).loss / len(batch)
                loss.backward()
            total += float(loss.detach())
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], GRADIENT_CLIP)
        self.optimizer.step()
        training = self.config.training
        return StepResult(total, training.batch_size * training.gradient_accumulation_steps)

    # ---- evaluation --------------------------------------------------------------------
    def evaluate(self, split: str) -> Optional[Evaluation]:
        from ...models.hf.generation import generate_reads_in_batches
        from ...training.evaluate import score

        examples = self.val_examples if split == "val" else self.test_examples
        if not examples:
            return None
        model_config = self.config.model
        self.model.eval()
        reads = generate_reads_in_batches(
            self.model,
            self.collator,
            [e.image() for e in examples],
            self.device,
            self.config.training.eval_batch_size,
            model_config.max_new_tokens,
            model_config.constrain_alphabet,
        )
        truths = [e.vin for e in examples]
        metrics, chosen = score(reads, truths, self.config.decoding.check_digit)
        # Wrong reads first: they teach the most.
        order = sorted(range(len(chosen)), key=lambda i: (chosen[i].text == truths[i], i))[:SAMPLE_ITEMS]
        samples = [
            {
                "image": _thumbnail(examples[i].image()),
                "truth": truths[i],
                "prediction": chosen[i].text,
                "confidence": float(min(max(chosen[i].confidence, 0.0), 1.0)),
                "correct": chosen[i].text == truths[i],
            }
            for i in order
        ]
        return Evaluation(metrics, len(truths), samples)

    def remember_best(self) -> None:
        pass  # the best checkpoint on disk is the copy (an adapter, or the whole model)

    def use_best(self) -> None:
        best = self.checkpoint_path("best")
        if best.is_dir():
            self._load_weights(best)

    # ---- checkpoints -------------------------------------------------------------------
    def checkpoint_path(self, kind: str) -> Path:
        return self.checkpoints / kind

    def save(self, kind: str, state: dict[str, Any]) -> Path:
        from ...models.hf.checkpoint import save_checkpoint

        model_config = self.config.model
        own = {
            "optimizer": self.optimizer.state_dict(),
            "model_id": model_config.model_id,
            "finetune": model_config.finetune,
            "family": self.traits.name,
        }
        summary = {"family": self.traits.name, "step": state["step"], "config": state["config"]}
        return save_checkpoint(self.model, {**state, **own}, self.checkpoint_path(kind), summary)

    def restore(self, checkpoint: CheckpointRef, state: dict[str, Any]) -> None:
        self._load_weights(checkpoint.path)
        self.optimizer.load_state_dict(state["optimizer"])
        for group in self.optimizer.param_groups:  # this run's rate (scaled for its world size), not the saved one
            group["lr"] = self.config.training.learning_rate

    def _load_weights(self, folder: Path) -> None:
        if self.config.model.finetune == "lora":
            from ...models.hf.checkpoint import load_adapter_weights

            load_adapter_weights(self.model, folder)
            return
        from safetensors.torch import load_file

        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise TrainerError(
                CHECKPOINT_INVALID, f"{folder} has no model.safetensors.", "Resume a full fine-tuning run with --full-finetune."
            )
        result = self.model.load_state_dict(load_file(str(weights)), strict=False)
        # save_pretrained leaves out weights tied to others (lm_head = embeddings); anything else is a mismatch.
        untied = [key for key in result.missing_keys if key not in _tied_keys(self.model)]
        if result.unexpected_keys or untied:
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"The weights in {folder} do not fit this model ({len(result.unexpected_keys)} unexpected, {len(untied)} missing).",
                "Resume with the same model_id the run was started with.",
            )

    # ---- after training ----------------------------------------------------------------
    def finish(self) -> None:
        """Merged weights (the best adapter folded in) and, when asked and possible, ONNX."""
        from ...models.hf.export import export_merged, export_onnx

        model_config = self.config.model
        if not (model_config.export_merged or model_config.export_onnx):
            return
        run_dir = self.context.run_dir
        merged = export_merged(self.model, self.processor, run_dir / "export" / "merged")
        self.context.log.info(f"merged weights written to {merged}")
        if model_config.export_onnx:
            result = export_onnx(
                merged, Path(model_config.onnx_output) if model_config.onnx_output else run_dir / "export" / "onnx", model_config.onnx_task
            )
            if result.ok:
                self.context.log.info(f"ONNX written to {result.path}")
            else:
                self.context.notice("warning", code="onnx_export_unsupported", message=result.message, fix=result.fix)

    def close(self) -> None:
        pass


def _drop_input_require_grads(model: Any) -> None:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(base, "_require_grads_hook", None) is not None:
        base.disable_input_require_grads()


def _tied_keys(model: Any) -> set[str]:
    tied = getattr(model, "_tied_weights_keys", None) or {}
    return set(tied.keys() if isinstance(tied, dict) else tied)


def _thumbnail(image: Any) -> str:
    copy = image.convert("L")
    copy.thumbnail((192, 48))
    buffer = io.BytesIO()
    copy.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _device_name(device: Any) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({os.cpu_count() or 1} cores)"
