"""One worker process of a sweep (cmday.workers starts it): answers calls read from stdin until stdin closes.

It imports no asyncio and nothing of the CLI: it is started while the sweep's first requests are in flight,
and its start is CPU the sweep's own process could use.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any

FRAME = struct.Struct(">Q")  # the length of the pickle that follows
READY = b"ready"


def serve(requests: Any, answers: Any) -> None:
    """The worker's side: answer each request until the input ends. Never writes anything but answers."""
    import importlib

    from cmday.i18n import active_language, set_language

    answers.write(READY)
    answers.flush()
    while True:
        header = requests.read(FRAME.size)
        if len(header) < FRAME.size:
            return
        body = requests.read(FRAME.unpack(header)[0])
        module_name, name, args, kwargs, language = pickle.loads(body)
        if language != active_language():
            set_language(language)  # the messages it raises are in the user's language, as in cmday's own process
        try:
            outcome = ("returned", getattr(importlib.import_module(module_name), name)(*args, **kwargs))
        except Exception as error:
            outcome = ("raised", error)
        try:
            answer = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        except Exception:  # what it made does not pickle: cmday makes the call itself
            answer = pickle.dumps(("unsent", None), pickle.HIGHEST_PROTOCOL)
        answers.write(FRAME.pack(len(answer)) + answer)
        answers.flush()


def main(preload: list[str]) -> None:
    import importlib

    # Answers go to a copy of stdout; the stdout a function might print on is stderr (nothing), so a stray
    # print can never be read as an answer.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for module_name in preload:
        if module_name.startswith("cmday."):
            importlib.import_module(module_name)
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
