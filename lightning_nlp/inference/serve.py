"""`lightning-nlp serve MODEL`: an HTTP endpoint for a model folder (or checkpoint), on LitServe.

Concurrent requests are batched (up to `max_batch_size`, waiting at most `batch_timeout`
seconds for a batch to fill). A classifier answers `POST /predict {"text": "..."}` with
`{"label": ..., "probs": {...}}`; a language model answers `{"prompt": "...", "max_tokens": 20}`
with `{"text": ...}`. Bad requests get a 4xx and a message: a body that is not a JSON object,
no text, a text that is not a string, a text over `max_chars` characters, a body over
`max_payload_bytes`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import litserve as ls
    from fastapi import HTTPException
except ImportError as missing:  # an optional extra
    raise ImportError(
        "lightning-nlp serve needs LitServe: pip install 'lightning_nlp[serve]'"
    ) from missing
from jsonargparse import ArgumentParser
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lightning_nlp.inference.predictor import Backend, Predictor, load

MAX_TOKENS = 200  # most tokens a generation request may ask for


class RejectBadBodies(BaseHTTPMiddleware):
    """413 for a body over `max_bytes`, 400 for a JSON body that does not parse (LitServe
    would answer 500 to both)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        if request.method != "POST":
            return await call_next(request)
        size = request.headers.get("content-length", "")
        if not size.isdigit() or int(size) > self.max_bytes:
            detail = f"the body must state its length, at most {self.max_bytes} bytes"
            return JSONResponse({"detail": detail}, 413 if size.isdigit() else 411)
        if "json" in request.headers.get("content-type", ""):
            try:
                json.loads(await request.body())
            except ValueError as error:
                return JSONResponse({"detail": f"the body is not valid JSON ({error})"}, 400)
        return await call_next(request)


class ModelAPI(ls.LitAPI):
    """The LitServe API of one model: a classifier or a language model."""

    def __init__(
        self,
        model: str,
        backend: Backend,
        max_chars: int,
        max_batch_size: int,
        batch_timeout: float,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout)
        self.model, self.backend, self.max_chars = model, backend, max_chars
        self.predictor: Predictor | None = None

    def setup(self, device: str) -> None:
        self.predictor = load(self.model, self.backend)

    def _text(self, request: Any, key: str) -> str:
        if not isinstance(request, dict):
            raise HTTPException(400, f'expected a JSON object such as {{"{key}": "..."}}')
        text = request.get(key)
        if text is None:
            raise HTTPException(400, f'no "{key}" in the request')
        if not isinstance(text, str):
            raise HTTPException(400, f'"{key}" must be a string, not {type(text).__name__}')
        if len(text) > self.max_chars:
            raise HTTPException(
                413, f'"{key}" has {len(text)} characters; at most {self.max_chars}'
            )
        return text

    def decode_request(self, request):  # noqa: ANN001, ANN201 (LitServe reads the JSON body
        # into an unannotated `request`; an annotation would make FastAPI look elsewhere)
        if self.predictor.labels is not None:
            return self._text(request, "text")
        prompt = self._text(request, "prompt")
        max_tokens = request.get("max_tokens", 20)
        if type(max_tokens) is not int or not 0 < max_tokens <= MAX_TOKENS:
            raise HTTPException(400, f'"max_tokens" must be an integer from 1 to {MAX_TOKENS}')
        return prompt, max_tokens

    def batch(self, inputs: list[Any]) -> list[Any]:
        return list(inputs)

    def predict(self, inputs: list[Any]) -> list[dict[str, Any]]:
        if self.predictor.labels is not None:
            return self.predictor.predict(inputs)
        return [{"text": self.predictor.generate(prompt, max_tokens=n)[0]} for prompt, n in inputs]

    def unbatch(self, output: list[Any]) -> list[Any]:
        return list(output)

    def encode_response(self, output: dict[str, Any]) -> dict[str, Any]:
        return output


def serve(
    model: str,
    port: int = 8000,
    host: str = "127.0.0.1",
    backend: Backend = "fp32",
    max_batch_size: int = 32,
    batch_timeout: float = 0.01,
    max_chars: int = 100_000,
    max_payload_bytes: int = 1_000_000,
) -> None:
    """Serves `model` over HTTP until interrupted.

    Args:
        model: a model folder (`lightning-nlp export`, or a run's `pretrained`), a checkpoint or
            a run folder.
        port, host: where to listen (host 0.0.0.0 to accept other machines).
        backend: "fp32" (the default: the probabilities of `lightning-nlp predict`), "bf16",
            "int8", "torchscript", "onnx" (the graphs `export` writes), or "auto": the fastest
            of those measured on this machine whose probabilities are within
            `lightning_nlp.inference.predictor.AUTO_TOLERANCE` of fp32's (measured once here, cached; the
            workers run the backend chosen).
        max_batch_size: most requests answered by one forward pass.
        batch_timeout: seconds to wait for a batch to fill.
        max_chars: longest text accepted (413 beyond).
        max_payload_bytes: largest request body accepted (413 beyond).
    """
    # fail here, with a clear message, not inside a worker; `auto` is resolved once, here
    backend = load(model, backend).backend  # type: ignore[assignment]
    api = ModelAPI(model, backend, max_chars, max_batch_size, batch_timeout)
    server = ls.LitServer(
        api,
        accelerator="cpu",
        timeout=60,
        middlewares=[(RejectBadBodies, {"max_bytes": max_payload_bytes})],
    )
    server.run(host=host, port=port, generate_client_file=False)


@contextlib.contextmanager
def background_server(
    model: str, port: int, log: Path, *options: str, start_timeout: float = 120
) -> Iterator[str]:
    """Runs `lightning-nlp serve model --port port *options` in a process of its own (output to
    `log`), yields its URL once `/health` answers, and stops it with Ctrl-C (then kills any
    worker left). For tests, benchmarks and notebooks."""
    executable = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))
    command = [executable or "lightning-nlp", "serve", model, "--port", str(port), *options]
    with open(log, "wb") as sink:  # a new session: its worker processes stop with it
        server = subprocess.Popen(command, stdout=sink, stderr=sink, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: LitServe shuts down
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def serve_cli(args: list[str]) -> None:
    parser = ArgumentParser(description="Serve a model folder over HTTP (LitServe).")
    parser.add_argument("model", type=str, help="model folder, checkpoint or run folder")
    parser.add_function_arguments(serve, None, as_group=False, skip={"model"})
    config = parser.parse_args(args).as_dict()
    serve(**{k: v for k, v in config.items() if not k.startswith("__")})
