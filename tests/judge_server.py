#!/usr/bin/env python3
"""A scripted OpenAI-compatible judge on 127.0.0.1, for the runner's tests and benchmarks.

POST /chat/completions answers as a judge with planted biases, decided by planted_p_first() below:
  - with probability P_POS it picks the first slot, whatever the answers;
  - otherwise, if the prompt carries a bandwagon cue ("...N%... Output (x)"), it follows it with P_FOLLOW;
  - otherwise, if one answer is its own (its text says "written by MODEL", MODEL the request's model),
    it picks its own with P_SELF;
  - otherwise it picks the answer whose text says "quality=good".
Models whose name starts with "gold" are unbiased (P_POS = P_FOLLOW = P_SELF = 0). The verdict is drawn
from that probability with a uniform number hashed from the request body, so the same request always
gets the same answer. With "logprobs" it returns the first token's top_logprobs: "A" with ln p and " B"
(a token variant) with ln(1 - p). Pointwise prompts get 8 for a good answer, 4 for a bad one, plus 1
for its own. A prompt that is neither (respond's) gets an answer "quality=good|bad written by MODEL".

Faults, planted in the question text: "FAULT:429" (Retry-After: 1), "FAULT:500", "FAULT:503",
"FAULT:slow" (sleeps 6 s), "FAULT:badjson", "FAULT:empty" (no choices), "FAULT:reset" (the connection
is reset) fail the first attempt of that body and then answer; "FAULT:400", "FAULT:401", "FAULT:403",
"FAULT:404" fail every attempt, "FAULT:utf8" answers every attempt with a byte that is not UTF-8, "FAULT:quota" answers every attempt 429 with
Retry-After: 86400 (the 401 echoes the Authorization header's token in its message, as some
servers do, so that the test can check the runner never repeats it).

GET /calls returns {"calls": N}, the POSTs received. Options: --port-file F (the port chosen is written
there), --delay S (every answer waits S seconds).
"""
import argparse
import hashlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

P_POS, P_FOLLOW, P_SELF = 0.2, 0.5, 0.3

PAIRWISE = re.compile(r"\[Output \(a\)\]\n(.*?)\n\[End of Output \(a\)\]\n\n\[Output \(b\)\]\n(.*?)\n"
                      r"\[End of Output \(b\)\]\n\n(.*)Which output is better\?", re.S)
LETTER = re.compile(r"Output \(a\):\n(.*?)\n\nOutput \(b\):\n(.*?)\n\n(.*)Which output is better, \(a\) or \(b\)\?",
                    re.S)
POINTWISE = re.compile(r"\[Answer\]\n(.*?)\n\[End of Answer\]", re.S)


def biases(model):
    return (0.0, 0.0, 0.0) if model.startswith("gold") else (P_POS, P_FOLLOW, P_SELF)


def planted_p_first(model, a, b, cue):
    """P(the judge picks the first slot) for answers a and b and the prompt's cue text."""
    pos, follow, self_ = biases(model)
    good_first = 1.0 if "quality=good" in a else 0.0
    own = [f"written by {model}" in a, f"written by {model}" in b]
    rest = good_first
    if own[0] != own[1]:
        rest = self_ * (1.0 if own[0] else 0.0) + (1 - self_) * good_first
    m = re.search(r"Output \(([ab])\)", cue) if "%" in cue else None
    if m:
        rest = follow * (1.0 if m.group(1) == "a" else 0.0) + (1 - follow) * rest
    return pos + (1 - pos) * rest


def uniform(body):
    return struct.unpack(">Q", hashlib.sha256(body).digest()[:8])[0] / 2.0**64


class State:
    lock = threading.Lock()
    calls = 0
    attempts = {}
    delay = 0.0


def completion(model, content, logprob_tokens=None):
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if logprob_tokens is not None:
        first = logprob_tokens[0]
        choice["logprobs"] = {"content": [{"token": first["token"], "logprob": first["logprob"],
                                           "top_logprobs": logprob_tokens}]}
    return {"id": "cmpl-test", "object": "chat.completion", "model": model, "choices": [choice],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the client's
        # delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status, payload, headers=()):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.endswith("/calls"):
            with State.lock:
                self.send(200, {"calls": State.calls})
        else:
            self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with State.lock:
            State.calls += 1
            attempt = State.attempts.get(body, 0)
            State.attempts[body] = attempt + 1
        if not self.path.endswith("/chat/completions"):
            return self.send(404, {"error": {"message": f"no route {self.path}"}})
        req = json.loads(body)
        model = req["model"]
        user = req["messages"][-1]["content"]
        fault = re.search(r"FAULT:(\w+)", user)
        if fault:
            kind = fault.group(1)
            if kind in ("400", "403", "404"):
                return self.send(int(kind), {"error": {"message": f"planted {kind}"}})
            if kind == "utf8":  # every attempt: a byte that is not UTF-8 inside the content
                return self.send(200, b'{"choices": [{"message": {"role": "assistant", "content": "caf\xe9 [[B]]"}}]}')
            if kind == "quota":  # every attempt: come back tomorrow
                return self.send(429, {"error": {"message": "daily quota spent"}}, [("Retry-After", "86400")])
            if kind == "401":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                return self.send(401, {"error": {"message": f"Incorrect API key provided: {token}"}})
            if attempt == 0:
                if kind == "429":
                    return self.send(429, {"error": {"message": "slow down"}}, [("Retry-After", "1")])
                if kind in ("500", "503"):
                    return self.send(int(kind), {"error": {"message": f"planted {kind}"}})
                if kind == "slow":
                    time.sleep(6)
                if kind == "badjson":
                    return self.send(200, b'{"choices": [')
                if kind == "empty":
                    return self.send(200, {"choices": []})
                if kind == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
        if State.delay:
            time.sleep(State.delay)
        u = uniform(body)
        m = PAIRWISE.search(user) or LETTER.search(user)
        if m:
            a, b, cue = m.group(1), m.group(2), m.group(3)
            p = planted_p_first(model, a, b, cue)
            letter = "A" if u < p else "B"
            content = (letter if LETTER.search(user) else
                       f"Output ({letter.lower()}) is better (seed {req.get('seed')}). [[{letter}]]")
            tokens = None
            if req.get("logprobs"):
                tokens = []
                if p > 0:
                    tokens.append({"token": "A", "logprob": math.log(p)})
                if p < 1:
                    tokens.append({"token": " B", "logprob": math.log(1 - p)})
                tokens.append({"token": "The", "logprob": -20.0})
                tokens.sort(key=lambda t: 0 if t["token"].strip() == letter else 1)  # the generated token first
            return self.send(200, completion(model, content, tokens))
        m = POINTWISE.search(user)
        if m:
            answer = m.group(1)
            score = (8 if "quality=good" in answer else 4) + (1 if f"written by {model}" in answer else 0)
            return self.send(200, completion(model, f"A fair answer.\nRating: [[{score}]]"))
        quality = "good" if uniform(model.encode() + user.encode()) < 0.5 else "bad"
        return self.send(200, completion(model, f"An answer of quality={quality} written by {model}."))


class Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hangs up (a killed run, a timeout) is part of the tests, not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args()
    State.delay = args.delay
    # A listen queue longer than the default 5, so that 64 clients connecting at once are not made to
    # wait for a SYN retransmission (1 s).
    Quiet.request_queue_size = 1024
    server = Quiet(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
