"""Reading pages in worker processes, fed through pipes by the crawl's event loop.

Scrapy runs on one core; reading a page (decoding, extraction, the result row) costs
about as much CPU again as fetching it. A worker process does the reading on another
core, and what the crawl's process pays for it is a pickle and a pipe write of the
page, and a pipe read and an unpickle of its row.

The pipes are read and written by the event loop itself: no thread in the crawl's
process. (``concurrent.futures.ProcessPoolExecutor`` hands work over through a
management thread and a queue feeder thread; measured with ``bench/crawl_speed.py``,
their fight with the reactor for the GIL cost more CPU than the reading they moved.)

Each message is a 4-byte big-endian length and a pickle. A worker answers its pages in
the order it was given them, each with ``("ok", outcome)`` or ``("error", traceback)``.
A worker that exits fails its pages with :class:`WorkerGone`; the caller reads those
itself (see ``crawler.analysis.PageAnalyser``).

Run as ``python -m crawler.page_worker SPEC`` by :class:`PageWorkers` only.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import struct
import sys
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any

_HEADER = struct.Struct(">I")
_PIPE_SIZE = 1 << 20  # a whole page per write where the system allows (Linux: F_SETPIPE_SZ)
_F_SETPIPE_SZ = 1031


class WorkerGone(Exception):
    """The worker process exited before it answered."""


class WorkerError(Exception):
    """Reading a page raised in the worker; the message is its traceback."""


def _widen(pipe: Any) -> None:
    """Let a pipe hold a whole page, so one write hands it over (best effort)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, OSError, AttributeError, ValueError):
        pass


class _Worker:
    """One worker process and the futures of the pages it has not answered yet."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.gone = False
        assert process.stdin is not None and process.stdout is not None
        _widen(process.stdin.transport.get_extra_info("pipe"))
        self.reading = asyncio.ensure_future(self._read_answers(process.stdout))

    async def submit(self, job: Any) -> Any:
        """Send ``job`` to the worker and wait for its answer."""
        if self.gone:
            raise WorkerGone(f"worker {self.process.pid} has exited")
        assert self.process.stdin is not None
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        try:
            self.process.stdin.write(_HEADER.pack(len(payload)))
            self.process.stdin.write(payload)
            await self.process.stdin.drain()
        except (ConnectionError, RuntimeError) as error:  # the pipe closed under us
            future.cancel()  # this caller is told here
            self._fail_waiting()
            raise WorkerGone(f"worker {self.process.pid} has exited: {error}") from error
        return await future

    async def _read_answers(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
                kind, value = pickle.loads(await stdout.readexactly(size))
                future = self.waiting.popleft()
                if future.done():  # its caller was cancelled
                    continue
                if kind == "ok":
                    future.set_result(value)
                else:
                    future.set_exception(WorkerError(value))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._fail_waiting()

    def _fail_waiting(self) -> None:
        self.gone = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(WorkerGone(f"worker {self.process.pid} has exited"))

    async def stop(self) -> None:
        """Close its input, so it ends, and wait for it."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self.reading


class PageWorkers:
    """``count`` worker processes, each running ``handler(spec)`` (a module-level
    factory, so the worker can import it) over the jobs sent to it. Started with the
    first job; a job goes to the worker with the fewest waiting."""

    def __init__(self, count: int, handler: Callable[[Any], Callable[[Any], Any]],
                 spec: Any) -> None:
        self.count = count
        self.target = f"{handler.__module__}:{handler.__qualname__}"
        self.spec = spec
        self._workers: list[_Worker] = []
        self._starting: asyncio.Future[None] | None = None

    async def submit(self, job: Any) -> Any:
        """The answer of a worker to ``job``; :class:`WorkerGone` if none is left."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await self._starting
        running = [worker for worker in self._workers if not worker.gone]
        if not running:
            raise WorkerGone("no page worker is running")
        return await min(running, key=lambda worker: len(worker.waiting)).submit(job)

    async def _start(self) -> None:
        argument = json.dumps({"target": self.target, "spec": self.spec})
        # the crawl's own import path, so a worker imports what it does (an egg, a checkout)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        for _ in range(self.count):
            try:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "crawler.page_worker", argument,
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
            except OSError as error:
                raise WorkerGone(f"a page worker could not be started: {error}") from error
            self._workers.append(_Worker(process))

    async def stop(self) -> None:
        """Stop every worker (their waiting jobs fail with :class:`WorkerGone`)."""
        if self._starting is not None:
            self._starting.cancel()
        await asyncio.gather(*(worker.stop() for worker in self._workers), return_exceptions=True)
        self._workers.clear()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(handler: Callable[[Any], Any], requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer every job read from ``requests`` until its end."""
    while (header := _read_exactly(requests, _HEADER.size)) is not None:
        payload = _read_exactly(requests, _HEADER.unpack(header)[0])
        if payload is None:
            return
        try:
            answer: tuple[str, Any] = ("ok", handler(pickle.loads(payload)))
        except Exception:  # noqa: BLE001 (the crawl's process reports it, as it would inline)
            answer = ("error", traceback.format_exc())
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_HEADER.pack(len(data)))
        answers.write(data)
        answers.flush()


def main(argv: Sequence[str] | None = None) -> None:
    """The worker process: build the handler named on the command line, then serve.
    Its answers go to the original standard output; anything else written there (a
    stray print) goes to standard error instead, so it cannot break a message."""
    import importlib

    setup = json.loads((argv or sys.argv[1:])[0])
    module, _, name = setup["target"].partition(":")
    handler = getattr(importlib.import_module(module), name)(setup["spec"])
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Ctrl-C is the crawl's to handle: it closes our input when it is done with us
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(handler, sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
