"""The infrastructure's read-only view of the use-case catalog that ships in the Lambda asset.

The stack reads the same JSON files that the function validates and prompts from (``lambda/genai_api/use_cases``),
through the function's own loader (``genai_core.catalog``, pure), so a task added there gets its API resource here
without another edit, and its input schema is the one the function checks (a task that takes files included).
"""

from __future__ import annotations

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
    takes_files: bool = False  # its requests may name uploads (catalog "files"): its function reads the uploads

    @property
    def path(self) -> str:
        return f"/{self.family}/{self.task}"

    @property
    def stream_path(self) -> str:
        return f"{self.path}/stream"


def load_routes(directory: Path = CATALOG_DIR) -> list[Route]:
    from genai_core.catalog import load_catalog  # pure: the function's folder is on the path (stacks/__init__.py)

    routes = [
        Route(
            use_case.family,
            use_case.task,
            use_case.summary,
            dict(use_case.input_schema),
            use_case.streaming,
            use_case.file_input is not None,
        )
        for use_case in load_catalog(directory)
    ]
    if not routes:
        raise FileNotFoundError(f"no use cases found under {directory}")
    return routes
