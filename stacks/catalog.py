"""The infrastructure's read-only view of the use-case catalog that ships in the Lambda asset.

The stack reads the same JSON files that the function validates and prompts from (``lambda/genai_api/use_cases``),
so a task added there gets its API resource here without another edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "lambda" / "genai_api"
CATALOG_DIR = FUNCTION_DIR / "use_cases"


@dataclass(frozen=True)
class Route:
    family: str
    task: str
    summary: str
    input_schema: dict[str, Any]
    streaming: bool = False  # also served as Server-Sent Events at <path>/stream, by the streaming function
    memory: bool = False  # may remember its conversation server-side (a request with conversationId)

    @property
    def path(self) -> str:
        return f"/{self.family}/{self.task}"

    @property
    def stream_path(self) -> str:
        return f"{self.path}/stream"


def load_routes(directory: Path = CATALOG_DIR) -> list[Route]:
    routes = []
    for path in sorted(directory.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        routes.append(
            Route(
                data["family"],
                data["task"],
                data["summary"],
                data["input"],
                bool(data.get("streaming", False)),
                bool(data.get("memory", False)),
            )
        )
    if not routes:
        raise FileNotFoundError(f"no use cases found under {directory}")
    return routes
