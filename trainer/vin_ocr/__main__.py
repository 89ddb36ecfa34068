"""``python -m vin_ocr <command>``: the trainer's command line.

Commands: ``hardware`` (what this interpreter can train on), ``train``, ``evaluate``, ``predict``, ``export``.
Machine-readable output goes to stdout (``--json``, ``--events -``); people's text to stderr.
Exit codes: 0 done, 1 failed (the message carries a code and a hint), 2 usage (and ``export`` of a model
that has no ONNX export), 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


def _hardware(args: argparse.Namespace) -> int:
    from .hardware import probe

    facts = probe()
    if args.json:
        print(json.dumps(facts))
    else:
        for key, value in facts.items():
            print(f"{key:16} {value}")
    return 0


# The train flags that set config keys, and the flags that start several processes (docs/distributed.md).
CONFIG_FLAGS = {"device": ("training", "device")}
DISTRIBUTED_FLAGS = ("nproc_per_node", "nnodes", "node_rank", "rdzv_endpoint", "rdzv_id")
RANK_FLAGS = ("output_dir", "max_steps", "max_minutes", "resume", "device", *DISTRIBUTED_FLAGS)


def _train(args: argparse.Namespace) -> int:
    """Any model family: the config's model.type picks it (families/registry.py). With several
    processes (distributed.nproc_per_node, --nproc-per-node …) this process starts them through
    torchrun and speaks for them (training/torchrun.py); a process torchrun started is one rank."""
    from .events import open_event_stream
    from .training.distributed import started_by_launcher
    from .training.harness import RunOptions, provisional_run_id, train
    from .training.torchrun import launch_for, supervise

    try:
        stream, owned = open_event_stream(args.events)
    except OSError as error:
        print(f"[io_error] cannot open the events file {args.events}: {error}", file=sys.stderr)
        return 1
    try:
        overrides = {("distributed", name): (getattr(args, name), _flag(name)) for name in DISTRIBUTED_FLAGS}
        overrides.update({path: (getattr(args, name), _flag(name)) for name, path in CONFIG_FLAGS.items()})
        options = RunOptions(
            output_dir=args.output_dir,
            max_steps=args.max_steps,
            max_minutes=args.max_minutes,
            resume=args.resume,
            device=args.device,
            events=stream,
            overrides={path: setting for path, setting in overrides.items() if setting[0] is not None},
        )
        launch = None if started_by_launcher() else launch_for(args.config, options)
        if launch is not None:
            return supervise(launch, _rank_arguments(args), stream, provisional_run_id())
        return train(args.config, options)
    finally:
        if owned and stream is not None:
            stream.close()


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _rank_arguments(args: argparse.Namespace) -> list[str]:
    """The train command every rank runs: this one, but for the events, which this process relays."""
    arguments = ["train", args.config]
    for name in RANK_FLAGS:
        if getattr(args, name) is not None:
            arguments += [_flag(name), str(getattr(args, name))]
    return arguments


def _report_error(error: Exception, as_json: bool) -> int:
    from .errors import translate

    failure = translate(error)
    if as_json:
        print(json.dumps({"error": failure.to_event()}))
    print(str(failure), file=sys.stderr)
    return 1


def _check_digit_flag(args: argparse.Namespace) -> Optional[bool]:
    return {"on": True, "off": False}.get(args.check_digit)


def _evaluate(args: argparse.Namespace) -> int:
    from .reading import evaluate_labels, load_reader

    try:
        reader = load_reader(args.checkpoint, args.device)
        result = evaluate_labels(reader, args.labels, _check_digit_flag(args), args.on_bad_rows)
    except Exception as error:  # noqa: BLE001 - every failure becomes a coded message
        return _report_error(error, args.json)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    metrics = result["metrics"]
    print(f"{result['size']} images from {result['labels']} ({result['skipped']} skipped), checkpoint {result['checkpoint']}")
    for name in (
        "exact_match",
        "exact_match_greedy",
        "exact_match_check_digit",
        "cer",
        "ned",
        "char_f1",
        "precision",
        "recall",
        "check_digit_valid_rate",
    ):
        if name in metrics:
            print(f"{name:26} {metrics[name]:.4f}")
    positions = " ".join(f"{metrics[f'pos_{p:02d}_acc']:.2f}" for p in range(1, 18))
    print(f"{'per-position accuracy':26} {positions}")
    return 0


def _shipped_onnx(args: argparse.Namespace) -> Optional[str]:
    """The shipped reader's ONNX export, when ``predict`` reads with the shipped reader and ONNX Runtime is here
    (the same reads, checked when it was published, without torch's import: a read takes a fraction of a second)."""
    import importlib.util

    from .pretrained import ALIAS, SHIPPED_ONNX

    wanted = str(args.checkpoint) == ALIAS and not Path(args.checkpoint).exists()
    if not wanted or args.device not in ("auto", "cpu") or not (SHIPPED_ONNX / "model.onnx").is_file():
        return None
    return str(SHIPPED_ONNX) if importlib.util.find_spec("onnxruntime") is not None else None


def _predict(args: argparse.Namespace) -> int:
    from .export.manifest import is_export
    from .families.protocol import Reader
    from .reading import predict_files  # torch-free: the ONNX backend must never import torch

    reader: Reader
    try:
        onnx_target = _shipped_onnx(args) if args.backend == "auto" else None
        if onnx_target is not None:
            from .onnx_reader import load_onnx_reader

            reader = load_onnx_reader(onnx_target, args.device)
        elif args.backend == "onnx" or (args.backend == "auto" and is_export(args.checkpoint)):
            from .onnx_reader import load_onnx_reader

            reader = load_onnx_reader(args.checkpoint, args.device)
        else:
            from .reading import load_reader

            reader = load_reader(args.checkpoint, args.device)
        results = predict_files(reader, args.images, _check_digit_flag(args))
    except Exception as error:  # noqa: BLE001
        return _report_error(error, args.json)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            if "error" in result:
                print(f"{result['image']}\tERROR\t{result['error']}")
                continue
            chars = " ".join(f"{c['char']}:{c['confidence']:.2f}" for c in result["characters"])
            print(f"{result['image']}\t{result['vin']}\t{result['confidence']:.4f}\t{chars}")
    return 1 if any("error" in r for r in results) else 0


def _export(args: argparse.Namespace) -> int:
    """Exit 2 (not 1) when the checkpoint's family has no ONNX export: nothing failed, it is not possible."""
    from .export.onnx_export import ExportNotAvailable, export_onnx

    try:
        result = export_onnx(args.checkpoint, args.output, args.parity_size)
    except ExportNotAvailable as refusal:
        if args.json:
            print(json.dumps({"error": {"code": "export_not_available", "message": refusal.message, "hint": refusal.hint}}))
        print(str(refusal), file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001
        return _report_error(error, args.json)
    parity = result.parity
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(f"exported {result.model} (opset {result.opset}, dynamic batch) and {result.manifest}")
        print(f"from {result.checkpoint} (step {result.step})")
        print(parity.summary())
    if not parity.passed:
        print(parity.failure(result.model.parent), file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vin_ocr", description="VIN OCR trainer")
    commands = parser.add_subparsers(dest="command", required=True)

    hardware = commands.add_parser("hardware", help="print what this interpreter can use for training")
    hardware.add_argument("--json", action="store_true", help="print the facts contract's python part as JSON")
    hardware.set_defaults(run=_hardware)

    train = commands.add_parser("train", help="train a model from a training config (e.g. examples/baseline.yaml)")
    train.add_argument("config", help="training config YAML")
    train.add_argument("--output-dir", help="where run directories go (default: the config's output_dir)")
    train.add_argument("--max-steps", type=_positive_int, help="override training.max_steps")
    train.add_argument("--max-minutes", type=float, help="override training.max_minutes (0: no time limit)")
    train.add_argument(
        "--resume",
        metavar="RUN_OR_CHECKPOINT",
        help="continue a run (its directory, a .pt file or a fine-tuning checkpoint folder) with the config saved in it;"
        " CONFIG is then only a placeholder",
    )
    train.add_argument("--device", choices=DEVICE_CHOICES, help="override training.device")
    train.add_argument("--events", metavar="-|FILE", help="also write the JSON Lines events to stdout (-) or FILE")
    distributed = train.add_argument_group("data-parallel training through torchrun (override the config's distributed section)")
    distributed.add_argument(
        "--nproc-per-node", type=_processes, metavar="N|auto", help="processes on this machine (auto: one per CUDA GPU)"
    )
    distributed.add_argument("--nnodes", type=_positive_int, metavar="N", help="machines taking part")
    distributed.add_argument(
        "--node-rank", type=_non_negative_int, metavar="R", help="this machine's rank (0: the one with rank 0 and the events)"
    )
    distributed.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="where the machines meet (the node with rank 0)")
    distributed.add_argument("--rdzv-id", metavar="ID", help="names the run at the rendezvous (without --node-rank)")
    train.set_defaults(run=_train)

    for name, helptext in (("evaluate", "score a checkpoint on a labelled dataset"), ("predict", "read the VIN in images")):
        command = commands.add_parser(name, help=helptext)
        command.add_argument(
            "--checkpoint",
            default="pretrained",
            help="a run directory (its best checkpoint), a .pt checkpoint, a fine-tuning checkpoint or adapter folder,"
            " or pretrained (default: the reader shipped with the extension)",
        )
        command.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
        command.add_argument(
            "--check-digit", choices=("auto", "on", "off"), default="auto", help="check-digit-aware decoding (auto: as trained)"
        )
        command.add_argument("--json", action="store_true", help="print JSON on stdout")
    evaluate = commands.choices["evaluate"]
    evaluate.add_argument("--labels", required=True, help="labels.txt, or an image folder with metadata.jsonl/csv")
    evaluate.add_argument("--on-bad-rows", choices=("fail", "skip"), default="fail")
    evaluate.set_defaults(run=_evaluate)
    predict = commands.choices["predict"]
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument(
        "--backend",
        choices=("auto", "torch", "onnx"),
        default="auto",
        help="onnx: read with ONNX Runtime alone (no torch) from a folder written by `export`;"
        " auto (default): onnx when --checkpoint is such a folder, else torch",
    )
    predict.set_defaults(run=_predict)

    export = commands.add_parser("export", help="export a baseline checkpoint for deployment (ONNX), with a parity check")
    export.add_argument("--checkpoint", required=True, help="a run directory (its best checkpoint) or a .pt checkpoint")
    export.add_argument("--format", choices=("onnx",), default="onnx", help="onnx: model.onnx and vin-ocr-model.json")
    export.add_argument("--output", required=True, metavar="DIR", help="the folder to write (created if missing)")
    export.add_argument(
        "--parity-size", type=_positive_int, help="held-out synthetic images read by both PyTorch and ONNX Runtime (default 500)"
    )
    export.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    export.set_defaults(run=_export)

    from .tiny_models import add_subcommand as add_tiny_model

    add_tiny_model(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _processes(text: str) -> "int | str":
    return text if text == "auto" else _positive_int(text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
