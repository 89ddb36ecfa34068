"""``python -m vin_ocr train --nproc-per-node N``: the ranks started through torchrun, and supervised.

The process the user (or the extension) started stays the run's one voice:

* it starts ``torch.distributed.run`` as a child (an argument list, never a shell) in a session of
  its own, so that every cancel reaches torchrun exactly once, from here: Ctrl+C and SIGTERM (to
  this process or to its process group) are passed on, torchrun passes them to the ranks, which
  finish their step and agree to stop, and rank 0 writes the last checkpoint;
* it relays rank 0's events (the ranks' stdout) to ``--events`` and ``<run>/events.jsonl``;
* once torchrun has ended it writes the run_finished: rank 0's own, or, when another rank ended the
  run (its error, a signal, the out-of-memory killer) or rank 0 could not write one, a failed one
  naming that rank and its error.

Each rank writes how it ended into a folder given to it (``distributed.REPORTS_VARIABLE``). The
child runs torchrun in-process (``python -m vin_ocr.training.torchrun``) to hand back how each
local rank ended (exit codes and signals, which a killed process cannot report itself), and to
stop torchrun, and so every rank, when this process is killed outright.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import IO, TYPE_CHECKING, Any, Iterator, Optional

from ..config import Config
from ..errors import INTERNAL_ERROR
from ..events import EventWriter, utc_now
from .distributed import RELAYED_VARIABLE, REPORTS_VARIABLE, processes_per_node
from .run_files import write_json
from .signals import CancelFlag, when_parent_exits

if TYPE_CHECKING:
    from .harness import RunOptions

OUTCOME_FILE = "torchrun.json"  # the child's account of torchrun's end, next to the ranks' reports
EXIT_CODES = {"completed": 0, "cancelled": 130}
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds vin_ocr/


@dataclass(frozen=True)
class Launch:
    """How many ranks to start here, and how this machine meets the others."""

    nproc_per_node: int
    nnodes: int = 1
    node_rank: Optional[int] = None
    rdzv_endpoint: Optional[str] = None
    rdzv_id: str = "vin-ocr"

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes

    def torchrun_arguments(self) -> list[str]:
        arguments = [f"--nproc-per-node={self.nproc_per_node}", f"--nnodes={self.nnodes}", "--max-restarts=0"]
        if self.nnodes == 1:
            arguments.append("--standalone")  # a free port on this machine
        elif self.node_rank is not None:  # fixed ranks: node 0 hosts the rendezvous and rank 0
            arguments += ["--rdzv-backend=static", f"--rdzv-endpoint={self.rdzv_endpoint}", f"--node-rank={self.node_rank}"]
        else:  # the c10d rendezvous numbers the nodes as they arrive
            arguments += ["--rdzv-backend=c10d", f"--rdzv-endpoint={self.rdzv_endpoint}", f"--rdzv-id={self.rdzv_id}"]
        return arguments


def plan_launch(config: Config[Any, Any]) -> Optional[Launch]:
    """The ranks to start for ``config.distributed``; None: train in this process (one rank, one node)."""
    settings = config.distributed
    nproc = processes_per_node(settings.nproc_per_node, config.training.device)
    if nproc == 1 and settings.nnodes == 1:
        return None
    return Launch(nproc, settings.nnodes, settings.node_rank, settings.rdzv_endpoint, settings.rdzv_id)


def launch_for(config_path: Optional[str], options: "RunOptions") -> Optional[Launch]:
    """The ranks a train command starts; None: train in this process (also when the config cannot be
    read: the harness then fails the run with every problem, as for any run)."""
    from .harness import read_run_config

    try:
        config, _, _ = read_run_config(config_path, options)
    except Exception:  # noqa: BLE001 - reported by the run itself
        return None
    return plan_launch(config)


def supervise(launch: Launch, rank_arguments: list[str], events: Optional[IO[str]], provisional_run_id: str) -> int:
    """Runs ``python -m vin_ocr <rank_arguments>`` as ``launch``'s ranks; returns the run's exit code."""
    with tempfile.TemporaryDirectory(prefix="vin-ocr-ranks-") as folder:
        reports = Path(folder)
        relay = Relay(EventWriter(provisional_run_id, events))
        child = _start_torchrun(launch, rank_arguments, reports)
        with _passing_signals_to(child) as cancel:
            assert child.stdout is not None
            for line in child.stdout:  # ends when every rank (and torchrun) has closed it
                relay.line(line)
            child.wait()
        outcome = _read_json(reports / OUTCOME_FILE) or {"error": f"torchrun ended with code {child.returncode}"}
        records = {record["rank"]: record for record in map(_read_json, reports.glob("rank-*.json")) if record}
    try:
        status = relay.finish(launch, outcome, records, cancel.requested)
    finally:
        relay.writer.close()
    return EXIT_CODES.get(status, 1)


def _start_torchrun(launch: Launch, rank_arguments: list[str], reports: Path) -> "subprocess.Popen[str]":
    env = dict(os.environ)
    env[REPORTS_VARIABLE] = str(reports)
    env[RELAYED_VARIABLE] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    # torchrun's own default, set here so that it does not print a banner about it; each rank then
    # takes its share of the machine's cores (Team.join).
    env.setdefault("OMP_NUM_THREADS", "1")
    command = [sys.executable, "-m", "vin_ocr.training.torchrun", str(reports / OUTCOME_FILE), *launch.torchrun_arguments()]
    command += ["-m", "vin_ocr", *rank_arguments, "--events", "-"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8", start_new_session=True)


@contextlib.contextmanager
def _passing_signals_to(child: "subprocess.Popen[str]") -> Iterator[SimpleNamespace]:
    """Ctrl+C and SIGTERM here go on to torchrun (in its own session, it hears them from here only)."""
    state = SimpleNamespace(requested=False)

    def forward(signum: int, _frame: Any) -> None:
        state.requested = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in CancelFlag.SIGNALS}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _read_json(path: Path) -> Optional[dict[str, Any]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class Relay:
    """Rank 0's events on their way to --events and events.jsonl; its run_finished waits for torchrun's end."""

    def __init__(self, writer: EventWriter) -> None:
        self.writer = writer
        self.run_dir: Optional[Path] = None
        self.started = time.monotonic()
        self.finished: Optional[dict[str, Any]] = None  # rank 0's run_finished
        self.step = 0
        self.checkpoints: dict[str, str] = {}  # kind -> path, from checkpoint events
        self.metrics: dict[str, Any] = {}

    def line(self, text: str) -> None:
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "event" not in record:
            sys.stderr.write(text)  # not an event: a rank printed something
            return
        kind = record["event"]
        self.writer.run_id = str(record.get("run_id") or self.writer.run_id)
        if kind == "run_started" and self.run_dir is None:
            self.run_dir = Path(record["run_dir"])
            self.writer.attach_file(self.run_dir / "events.jsonl")
        elif kind == "run_finished":
            self.finished = record
            return
        elif kind == "progress":
            self.step = int(record.get("step", self.step))
        elif kind == "checkpoint":
            self.checkpoints[str(record.get("kind"))] = str(record.get("path"))
            self.step, self.metrics = int(record.get("step", self.step)), record.get("metrics") or self.metrics
        self.writer.forward(record)

    def finish(self, launch: Launch, outcome: dict[str, Any], records: dict[int, dict[str, Any]], cancelled: bool) -> str:
        """Writes the run's run_finished (when this machine hosts rank 0); returns the run's status."""
        failures = {int(failure["rank"]): failure for failure in outcome.get("failures", [])}
        root = root_cause(records, failures)
        reported = self.finished
        if root is not None and not _reports_failure_of(reported, root[0]):
            final = self._ended("failed", root[1])  # another rank ended the run, or rank 0 could not say how
        elif reported is not None:
            final = reported  # rank 0's own word
        elif cancelled or any(record["status"] == "cancelled" for record in records.values()):
            final = self._ended("cancelled", None)  # before rank 0 had a word to say, or on another machine
        elif outcome.get("error"):
            final = self._ended("failed", self._torchrun_error(outcome))
        else:
            return "completed"  # ranks that ended well, and rank 0 on another machine: its launcher tells the story
        hosts_rank_zero = self.run_dir is not None or reported is not None or 0 in records or 0 in failures
        if hosts_rank_zero or launch.nnodes == 1 or launch.node_rank == 0:
            self.writer.forward(final)
            if final is not reported:
                self._mark_metrics(final)
                if final["error"]:
                    print(f"[{final['error']['code']}] {final['error']['message']}\nhint: {final['error']['hint']}", file=sys.stderr)
        return str(final["status"])

    @staticmethod
    def _torchrun_error(outcome: dict[str, Any]) -> dict[str, Any]:
        return {
            "code": INTERNAL_ERROR,
            "message": f"torchrun could not run the ranks: {outcome.get('error') or 'it ended without a word'}",
            "hint": "See torchrun's lines in the log above (a rendezvous endpoint that cannot be reached, a port in use …).",
        }

    def _ended(self, status: str, error: Optional[dict[str, Any]]) -> dict[str, Any]:
        """The run_finished this launcher writes: what rank 0 reported (or showed in its events), with ``status`` and ``error``."""
        base = self.finished or {
            "event": "run_finished",
            "run_id": self.writer.run_id,
            "step": self.step,
            "best_checkpoint": self._existing(self.checkpoints.get("best")),
            "last_checkpoint": self._existing(self.checkpoints.get("last")),
            "metrics": self.metrics,
            "elapsed_seconds": round(time.monotonic() - self.started, 2),
        }
        return {**base, "time": utc_now(), "status": status, "error": error}

    @staticmethod
    def _existing(path: Optional[str]) -> Optional[str]:
        return path if path and Path(path).exists() else None

    def _mark_metrics(self, final: dict[str, Any]) -> None:
        """metrics.json says how the run ended too (rank 0 may have had no chance to write it)."""
        metrics = self.run_dir / "metrics.json" if self.run_dir else None
        summary = _read_json(metrics) if metrics else None
        if metrics is not None and summary is not None:
            write_json(metrics, {**summary, "status": final["status"], "error": final["error"]})


def _reports_failure_of(finished: Optional[dict[str, Any]], rank: int) -> bool:
    """Whether rank 0's run_finished already reports ``rank``'s failure (rank 0's own, typically)."""
    return finished is not None and finished["status"] == "failed" and (finished.get("error") or {}).get("rank", 0) == rank


def root_cause(records: dict[int, dict[str, Any]], failures: dict[int, dict[str, Any]]) -> Optional[tuple[int, dict[str, Any]]]:
    """The rank whose failure ended the run and its error event; None when no rank failed.

    A rank that failed on its own comes first (the earliest); then one that ended without a
    report (killed by a signal, the out-of-memory killer, a crash); then the earliest of the
    ranks that only saw another rank vanish (on another machine, whose own log names the cause).
    """
    failed = sorted((record for record in records.values() if record["status"] == "failed"), key=lambda record: record["time"])
    own = [record for record in failed if not record.get("peer")]
    if own:
        return own[0]["rank"], own[0]["error"]
    silent = sorted((failure for rank, failure in failures.items() if rank not in records), key=lambda f: (f["timestamp"], f["rank"]))
    if silent:
        return silent[0]["rank"], _silent_error(silent[0])
    if failed:
        return failed[0]["rank"], failed[0]["error"]
    return None


def _silent_error(failure: dict[str, Any]) -> dict[str, Any]:
    rank, exitcode, name = failure["rank"], failure["exitcode"], failure.get("signal")
    if name == "SIGKILL":
        message = f"rank {rank} was killed (SIGKILL) without reporting an error"
        hint = (
            "SIGKILL usually comes from the system's out-of-memory killer (see dmesg): lower training.batch_size "
            "or distributed.nproc_per_node; else someone killed the process."
        )
    elif exitcode < 0:
        message = f"rank {rank} was stopped by {name or f'signal {-exitcode}'} without reporting an error"
        hint = "See that rank's lines in the log above; a crash in native code (SIGSEGV, SIGABRT) names its library there."
    else:
        message = f"rank {rank} exited with code {exitcode} before it could report an error"
        hint = "See that rank's lines in the log above."
    return {"code": INTERNAL_ERROR, "message": message, "hint": hint, "rank": rank}


# ---- the child: torchrun in this process ----------------------------------------------------------
def _run_torchrun(argv: list[str]) -> int:
    """``python -m vin_ocr.training.torchrun OUTCOME_FILE TORCHRUN_ARGUMENTS…``: torch.distributed.run, and
    how each local rank ended written to OUTCOME_FILE."""
    outcome_file, arguments = Path(argv[0]), argv[1:]
    # Killed outright, the launcher cannot pass a cancel on: stop torchrun, which stops the ranks.
    when_parent_exits(lambda: os.kill(os.getpid(), signal.SIGTERM))
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    outcome: dict[str, Any] = {"failures": []}
    try:
        run(parse_args(arguments))
    except ChildFailedError as error:
        outcome["failures"] = [_failure(rank, failure) for rank, failure in error.failures.items()]
    except SignalException as error:
        outcome["signal"] = signal.Signals(error.sigval).name
    except Exception as error:  # noqa: BLE001 - a rendezvous that fails, a port in use …: the launcher says so
        outcome["error"] = f"{type(error).__name__}: {error}"
    write_json(outcome_file, outcome)
    return 0 if outcome == {"failures": []} else 1


def _failure(rank: int, failure: Any) -> dict[str, Any]:
    message = failure.message.get("message", "") if isinstance(failure.message, dict) else str(failure.message)
    name = failure.signal_name() if failure.exitcode < 0 else None
    return {
        "rank": rank,
        "local_rank": failure.local_rank,
        "exitcode": failure.exitcode,
        "signal": name if name and name != "<N/A>" else None,
        "message": message,
        "timestamp": failure.timestamp,
    }


if __name__ == "__main__":
    sys.exit(_run_torchrun(sys.argv[1:]))
