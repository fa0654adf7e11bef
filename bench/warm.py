"""Warm overhead per request: the real ``lambda_handler`` against ``bench/minimal_handler.py``, Bedrock stubbed.

Both handlers run in this process with the function's environment, driven by real-shaped API Gateway REST events
(``tests/support.api_event``) with the example requests of ``examples/``; Converse is replaced on each handler's own
client by a function that returns a canned answer, so that only our code is timed. The search task's Retrieve is
replaced the same way on each handler's agent-runtime client (the passages the sample corpus gives its example), and
the minimal handler, for that route, searches too: a search function's floor is a Retrieve and a Converse. Requests alternate between the
two handlers, stdout (log lines and EMF documents) goes to ``os.devnull`` for both, and the garbage collector runs
as it does in Lambda. Tracing is off, as in the tests (there is no X-Ray daemon here).

A remembered chat turn (``conversationId``) is timed too: the real handler then also reads the conversation and
writes the turn through its real DynamoDB client, answered at once by botocore's Stubber (a stored history of a few
exchanges, then the write's empty answer), so that the figure holds the store's own work (building and serializing
both requests, parsing the item, choosing the history) and none of DynamoDB's latency. The minimal handler, which
remembers nothing, is the same baseline.

Each request is timed twice: the CPU time of this thread (``time.thread_time_ns``), which the budgets apply to,
and the wall time (``time.perf_counter_ns``), reported too. On a shared machine the wall time's tail also holds
the moments when another process had the core; the thread's CPU time holds only the work of the request.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from bench.common import FUNCTION_DIR, LAMBDA_ENV, ROOT, Verdict, percentile
from tests.support import IAM_IDENTITY, FakeLambdaContext, api_event

BUDGET_P50_MS = 0.5
BUDGET_P99_MS = 2.0
WARMUP = 50

TEXT_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "- Revenue +12% to $4.1B.\n- Churn 2.1%."}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 412, "outputTokens": 96, "totalTokens": 508},
    "metrics": {"latencyMs": 900},
}
CLASSIFY_ANSWER = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {
                    "toolUse": {
                        "toolUseId": "tooluse_0001",
                        "name": "record_classification",
                        "input": {
                            "category": "Pix e transferências",
                            "confidence": 0.93,
                            "rationale": "O cliente relata uma transferência Pix que não chegou ao destinatário.",
                        },
                    }
                }
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {"inputTokens": 688, "outputTokens": 71, "totalTokens": 759},
    "metrics": {"latencyMs": 1100},
}
CHAT_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Vou verificar o pedido 48213 para você."}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 240, "outputTokens": 14, "totalTokens": 254},
    "metrics": {"latencyMs": 700},
}
REMEMBERED = "remembered turn (customer-experience/chat)"
REMEMBERED_TURN = {
    "conversationId": "bench-conversation-1",
    "messages": [{"role": "user", "content": "E quando chega o pedido 48213? O CEP é 01310-100."}],
}
STORED_EXCHANGES = 4  # the history the turn loads and sends before its new message
SEARCH_ANSWER = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {
                    "toolUse": {
                        "toolUseId": "tooluse_0002",
                        "name": "record_answer",
                        "input": {
                            "answer": "Em até três períodos: um de pelo menos 14 dias corridos e os outros de 5 dias.",
                            "citations": ["p1"],
                        },
                    }
                }
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {"inputTokens": 1650, "outputTokens": 64, "totalTokens": 1714},
    "metrics": {"latencyMs": 1300},
}
SEARCH_EXAMPLE = "examples/productivity/search.json"


def search_results() -> dict[str, Any]:
    """The canned Retrieve answer: what the sample corpus gives the search example (tools/fake_bedrock.py)."""
    from tools.fake_bedrock import fake_retrieve

    request = json.loads((ROOT / SEARCH_EXAMPLE).read_text())
    search = {"numberOfResults": request.get("maxResults", 5)}
    return fake_retrieve(
        retrievalQuery={"text": request["question"]}, retrievalConfiguration={"vectorSearchConfiguration": search}
    )


# (route, example request: a file of examples/ or the body itself, canned Converse answer, canned Retrieve answer for
# a task that searches)
TASKS: dict[str, tuple[str, str | dict[str, Any], dict[str, Any], Callable[[], dict[str, Any]] | None]] = {
    "text (productivity/summarize)": (
        "/productivity/summarize",
        "examples/productivity/summarize.json",
        TEXT_ANSWER,
        None,
    ),
    "structured (process-optimization/classify)": (
        "/process-optimization/classify",
        "examples/process-optimization/classify.json",
        CLASSIFY_ANSWER,
        None,
    ),
    "search (productivity/search)": ("/productivity/search", SEARCH_EXAMPLE, SEARCH_ANSWER, search_results),
    REMEMBERED: ("/customer-experience/chat", REMEMBERED_TURN, CHAT_ANSWER, None),
}


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class TaskResult:
    task: str
    requests: int
    ours: Latency  # CPU time
    minimal: Latency
    ours_wall: Latency
    minimal_wall: Latency

    @property
    def overhead_p50_ms(self) -> float:
        return self.ours.p50_ms - self.minimal.p50_ms

    @property
    def overhead_p99_ms(self) -> float:
        return self.ours.p99_ms - self.minimal.p99_ms

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        latencies = {key: Latency(**value) for key, value in data.items() if isinstance(value, dict)}
        return cls(task=data["task"], requests=data["requests"], **latencies)

    def verdicts(self) -> list[Verdict]:
        return [
            Verdict(f"warm overhead p50, {self.task}", self.overhead_p50_ms, BUDGET_P50_MS, "ms"),
            Verdict(f"warm overhead p99, {self.task}", self.overhead_p99_ms, BUDGET_P99_MS, "ms"),
        ]


def latency(samples_ns: list[int]) -> Latency:
    ms = [sample / 1e6 for sample in samples_ns]
    return Latency(percentile(ms, 0.50), percentile(ms, 0.99), max(ms))


def prepare_environment(function_dir: Path = FUNCTION_DIR) -> None:
    """The function's environment and import path, as in Lambda (values already set, as by the tests, are kept)."""
    for key, value in {**LAMBDA_ENV, "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        os.environ.setdefault(key, value)
    if function_dir.resolve() != FUNCTION_DIR.resolve():
        # Another commit's function (the baseline): this tree's function modules, which importing ``stacks`` (for
        # tests.support) put on the path and loaded, must not stand in for that commit's own.
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != FUNCTION_DIR.resolve()]
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None) or ""
            if origin and Path(origin).resolve().is_relative_to(FUNCTION_DIR.resolve()):
                del sys.modules[name]
    for path in (str(function_dir), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)


@contextlib.contextmanager
def stubbed(client: Any, answer: dict[str, Any], operation: str = "converse") -> Iterator[None]:
    def call(**_: Any) -> dict[str, Any]:
        return answer

    with mock.patch.object(client, operation, call):
        yield


def stored_item(owner: str) -> dict[str, Any]:
    """The DynamoDB item of a conversation of ``STORED_EXCHANGES`` exchanges, as the store writes it."""
    from genai_core import conversations

    messages: list[conversations.Message] = []
    for index in range(STORED_EXCHANGES):
        messages += [
            conversations.Message("user", f"Pergunta {index}: o meu pedido 48213 ainda não chegou, o que faço?"),
            conversations.Message("assistant", f"Resposta {index}: vou verificar o pedido e já retorno."),
        ]
    now = int(time.time())
    conversation = conversations.Conversation(
        str(REMEMBERED_TURN["conversationId"]), tuple(messages), 7, now * 1000, now * 1000
    )
    return conversations._item(conversations.owner_key(owner), conversation, now + 86_400)


@contextlib.contextmanager
def stubbed_store(handler: Any, minimal: Any, turns: int) -> Iterator[None]:
    """The handler's conversation store on a real DynamoDB client (the function's own settings), and the minimal
    handler's DynamoDB client, whose ``turns`` reads and writes botocore's Stubber answers at once (queued before the
    timing starts) with the same stored conversation."""
    from botocore.stub import Stubber

    from genai_core import conversations
    from genai_core.conversation_settings import STORE_CLIENT
    from tests.conversations_support import installed_stores

    owner = handler.owner(api_event("/", {}, identity=IAM_IDENTITY)["requestContext"], handler.auth_mode)
    item = stored_item(owner)
    client = conversations.make_client(STORE_CLIENT)
    with (
        Stubber(client) as stubber,
        Stubber(minimal.dynamodb_client()) as minimal_stubber,
        installed_stores([handler.service], client_factory=lambda: client),
    ):
        for _ in range(turns):
            for each in (stubber, minimal_stubber):
                each.add_response("get_item", {"Item": item})
                each.add_response("put_item", {})
        yield


def run_task(task: str, requests: int, handler: Any, minimal: Any, warmup: int = WARMUP) -> TaskResult:
    path, example, answer, results = TASKS[task]
    body = example if isinstance(example, dict) else json.loads((ROOT / example).read_text())
    event = api_event(path, body, identity=IAM_IDENTITY)
    context = FakeLambdaContext()
    timed: dict[str, list[int]] = {"ours": [], "minimal": []}
    walls: dict[str, list[int]] = {"ours": [], "minimal": []}
    runs: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
        "ours": handler.lambda_handler,
        "minimal": minimal.remembered_handler if task == REMEMBERED else minimal.lambda_handler,
    }
    cpu_clock, wall_clock = time.thread_time_ns, time.perf_counter_ns
    searches = contextlib.ExitStack()
    if results is not None:  # made before the timing, as the first search of a container makes it
        retrieved = results()
        searches.enter_context(stubbed(handler.service.knowledge_base.client, retrieved, "retrieve"))
        searches.enter_context(stubbed(minimal.agent_client, retrieved, "retrieve"))
    store = stubbed_store(handler, minimal, warmup + requests) if task == REMEMBERED else contextlib.nullcontext()
    # A remembered turn keeps its write's worst case in reserve: on the default timeouts its model call goes through
    # the single-attempt client (made here, before the timing, as the first such request would make it).
    # A baseline commit's function may predate it (its model calls all go through the one client).
    make_single = getattr(handler.service, "single_attempt_client", None)
    single = stubbed(make_single(), answer) if make_single is not None else contextlib.nullcontext()
    with (
        searches,
        stubbed(handler.bedrock_client, answer),
        single,
        stubbed(minimal.bedrock_client, answer),
        quiet(handler),
        store,
    ):
        for index in range(warmup + requests):
            order = ("ours", "minimal") if index % 2 == 0 else ("minimal", "ours")
            for name in order:
                started_wall, started = wall_clock(), cpu_clock()
                response = runs[name](event, context)
                elapsed, elapsed_wall = cpu_clock() - started, wall_clock() - started_wall
                if response["statusCode"] != 200:
                    raise RuntimeError(f"{name} answered {response['statusCode']}: {response['body']}")
                if name == "ours" and task == REMEMBERED and json.loads(response["body"]).get("remembered") is not True:
                    raise RuntimeError(f"the turn was not remembered: {response['body']}")
                if index >= warmup:
                    timed[name].append(elapsed)
                    walls[name].append(elapsed_wall)
    return TaskResult(
        task,
        requests,
        latency(timed["ours"]),
        latency(timed["minimal"]),
        latency(walls["ours"]),
        latency(walls["minimal"]),
    )


@contextlib.contextmanager
def quiet(handler: Any) -> Iterator[None]:
    """stdout (EMF documents) and the handler's log stream (which the logger took at import) to os.devnull."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        previous = handler.logger.registered_handler.setStream(sink)
        try:
            yield
        finally:
            handler.logger.registered_handler.setStream(previous)


def load_handlers(function_dir: Path = FUNCTION_DIR) -> tuple[Any, Any]:
    """The real handler and the minimal one (a cold start logs nothing: nothing to redirect yet)."""
    prepare_environment(function_dir)
    return importlib.import_module("handler"), importlib.import_module("bench.minimal_handler")


def measure(requests: int = 2000, warmup: int = WARMUP, function_dir: Path = FUNCTION_DIR) -> list[TaskResult]:
    handler, minimal = load_handlers(function_dir)
    # An older commit's function (the baseline) may not serve every task measured now (search and remembered
    # conversations came later).
    remembers = importlib.util.find_spec("genai_core.conversations") is not None
    served = [
        task for task, (path, *_) in TASKS.items() if path in handler.ROUTES and (task != REMEMBERED or remembers)
    ]
    return [run_task(task, requests, handler, minimal, warmup) for task in served]


def measure_in_child(requests: int = 2000, function_dir: Path = FUNCTION_DIR) -> list[TaskResult]:
    """``measure`` in a new interpreter: the handler module of ``function_dir``, nothing shared with this process."""
    command = [
        os.path.abspath(sys.executable),
        "-m",
        "bench.warm",
        "--requests",
        str(requests),
        "--function-dir",
        str(function_dir),
        "--json",
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the warm benchmark failed ({completed.returncode}): {completed.stderr[-3000:]}")
    return [TaskResult.from_dict(item) for item in json.loads(completed.stdout.splitlines()[-1])]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.warm", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--function-dir", type=Path, default=FUNCTION_DIR)
    parser.add_argument("--json", action="store_true", help="print the results as one line of JSON")
    args = parser.parse_args(argv)
    results = measure(args.requests, function_dir=args.function_dir)
    if args.json:
        print(json.dumps([dataclasses.asdict(result) for result in results]))
        return
    for result in results:
        print(result)
        for verdict in result.verdicts():
            print(verdict.line())


if __name__ == "__main__":
    main()
