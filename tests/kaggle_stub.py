"""A loopback stand-in for Kaggle's API, for tests that run the real `kaggle` CLI.

The CLI is pointed at it with `KAGGLE_API_ENVIRONMENT=LOCALHOST` (requests go to
`POST http://localhost/api/v1/<Service>/<Method>`) and `http_proxy=http://127.0.0.1:PORT`, so every
request, upload PUTs and output downloads included, arrives here in absolute form. The server binds
127.0.0.1 only. Each request is recorded in `stub.calls`; replies come from `stub.replies[Method]`
(a dict, a `(status, dict)` pair, or a callable taking the `Call` and returning one of those; `stub.hang` is
one that never answers while the stub runs). Kernel status follows the version asked for: a request naming a
version (`kernels status owner/slug/N` sends `versionLabel: "vN"`) is answered from `version_statuses["vN"]`
when that is set, otherwise from `statuses`; `slug_statuses[slug]`, when set, answers for one kernel (folds in
different states). `failures[Method]` lists errors answered before any reply (a transient 500, a 429 with a
`Retry-After`), `log` is the kernel log `kernels logs`/`kernels output` get, `quota` the accelerator quota,
`submissions` the competition submissions listing (`ListSubmissions`), and model uploads (`CreateModel`,
`CreateModelInstance`, `CreateModelInstanceVersion`) are recorded in `models`.
"""

import itertools
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["Call", "KaggleStub", "stub_env", "set_env"]


@dataclass
class Call:
    "One request the stub received."

    verb: str
    url: str
    path: str
    headers: dict
    body: bytes = b""
    method: str = ""  # the API method (`SaveKernel`) for `/api/v1/...` posts, else ""
    service: str = ""

    @property
    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class KaggleStub:
    "Threaded HTTP server on 127.0.0.1 answering Kaggle API calls with canned replies."

    replies: dict = field(default_factory=dict)
    statuses: list = field(default_factory=lambda: ["COMPLETE"])  # successive GetKernelSessionStatus answers
    files: dict = field(default_factory=dict)  # name -> bytes served as kernel output
    calls: list = field(default_factory=list)
    uploads: dict = field(default_factory=dict)  # upload token -> bytes PUT to its createUrl
    version_statuses: dict = field(default_factory=dict)  # "vN" -> successive statuses of that kernel version
    slug_statuses: dict = field(default_factory=dict)  # kernel slug -> successive statuses of that kernel
    failures: dict = field(default_factory=dict)  # method -> [(status, body[, headers])] answered first, in order
    log: str = '[{"stream_name": "stdout", "data": "ok\\n"}]'  # ListKernelSessionOutput's log
    quota: dict = field(
        default_factory=lambda: {
            "quotaRefreshTime": "2026-12-05T00:00:00Z",
            "gpuQuota": {"timeUsed": "36000s", "totalTimeAllowed": "108000s"},
        }
    )
    models: list = field(default_factory=list)  # JSON bodies of the model-creating calls
    submissions: list = field(default_factory=list)  # ListSubmissions' `ApiSubmission` dicts (fileName, publicScore..)

    def __post_init__(self):
        self._n = itertools.count(1)
        self._versions = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def hang(self, c):
        "A reply that never comes while the stub runs (a server that accepted the request and went silent)."
        self._closing.wait(600)
        return 503, {"code": 503, "message": "stub closing"}

    # ---- default replies -------------------------------------------------------------------
    def _default(self, c):
        m, b = c.method, c.json
        if m == "SaveKernel":
            slug = b.get("slug", "")
            with self._lock:
                v = self._versions[slug] = self._versions.get(slug, 0) + 1
            return {"ref": f"/code/{slug}", "url": f"http://localhost/code/{slug}", "versionNumber": v, "error": ""}
        if m == "GetKernelSessionStatus":
            seq = self.version_statuses.get(b.get("versionLabel")) or self.slug_statuses.get(b.get("kernelSlug"))
            seq = seq or self.statuses
            st = seq.pop(0) if len(seq) > 1 else seq[0]
            return {"status": st, "failureMessage": "boom" if st == "ERROR" else None}
        if m == "ListKernelSessionOutput":
            return {
                "files": [{"fileName": n, "url": f"http://localhost/files/{n}"} for n in self.files],
                "log": self.log,
            }
        if m == "ListSubmissions":
            return {"submissions": self.submissions[: b.get("pageSize") or 20]}
        if m == "GetAcceleratorQuotaStatistics":
            return self.quota
        if m in ("CreateModel", "CreateModelInstance", "CreateModelInstanceVersion"):
            self.models.append({"method": m, **b})
            keys = ("ownerSlug", "modelSlug", "framework", "instanceSlug")
            ref = "/".join(str(b[k]) for k in keys if b.get(k))
            return {"ref": ref, "url": f"http://localhost/models/{ref}", "error": "", "id": next(self._n)}
        if m in ("GetModel", "GetModelInstance"):  # found once created here
            made = {"GetModel": "CreateModel", "GetModelInstance": "CreateModelInstance"}[m]
            slug = b.get("modelSlug")
            if any(x["method"] == made and slug in (x.get("slug"), x.get("modelSlug")) for x in self.models):
                return {"ref": f"{b.get('ownerSlug')}/{slug}", "title": "Model", "id": 1, "slug": slug}
            return 404, {"code": 404, "message": "Model not found"}
        if m == "IntrospectToken":  # access tokens (KAGGLE_API_TOKEN) are checked before use
            return {"active": b.get("token", "").startswith("KGAT_"), "username": "stubuser"}
        if m == "GetDatasetStatus":
            return 404, {"code": 404, "message": "Dataset not found"}
        if m in ("StartBlobUpload", "StartSubmissionUpload"):
            tok = f"tok{next(self._n)}"
            return {"token": tok, "createUrl": f"http://localhost/upload/{tok}"}
        if m in ("CreateDataset", "CreateDatasetVersion"):
            ref = b.get("ownerSlug", "") + "/" + b.get("slug", b.get("datasetSlug", ""))
            return {"ref": ref, "url": f"http://localhost/datasets/{ref}", "status": "ok", "error": ""}
        if m in ("CreateSubmission", "CreateCodeSubmission"):
            return {"message": "Successfully submitted to stub competition", "ref": 1000 + next(self._n)}
        return 404, {"code": 404, "message": f"stub has no reply for {m}"}

    def reply(self, c):
        "The `(status, body[, headers])` for API call `c`."
        with self._lock:
            queued = self.failures.get(c.method)
            if queued:
                return queued.pop(0)
        r = self.replies.get(c.method)
        if callable(r):
            r = r(c)
        if r is None:
            r = self._default(c)
        return r if isinstance(r, tuple) else (200, r)

    def api(self, method):
        "Calls of API method `method` (e.g. `SaveKernel`) received so far."
        return [c for c in self.calls if c.method == method]

    # ---- server ----------------------------------------------------------------------------
    def __enter__(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if n == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(n)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status, body, headers=None, ctype="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                path = urlsplit(self.path).path
                c = Call(self.command, self.path, path, dict(self.headers), self._body())
                parts = path.strip("/").split("/")
                if self.command == "POST" and parts[:2] == ["api", "v1"] and len(parts) == 4:
                    c.service, c.method = parts[2], parts[3]
                with stub._lock:
                    stub.calls.append(c)
                if c.method:
                    return self._send(*stub.reply(c))
                if self.command == "PUT" and parts[0] == "upload":
                    stub.uploads[parts[1]] = c.body
                    return self._send(200, {})
                if self.command == "GET" and parts[0] == "files" and parts[1] in stub.files:
                    return self._send(200, stub.files[parts[1]], ctype="application/octet-stream")
                self._send(404, {"code": 404, "message": "not found"})

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.proxy = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


def stub_env(tmp_path, proxy, username="stubuser", key="0123456789abcdef0123456789abcdef"):
    """Environment for a CLI run against the stub at `proxy`: fake credentials, isolated HOME/config/TMPDIR and
    kagglenlp cache (where pushed versions are recorded)."""
    home, cfg, tmp = tmp_path / "home", tmp_path / "kcfg", tmp_path / "tmp"
    for d in (home, cfg, tmp):
        d.mkdir(exist_ok=True)
    env = dict(
        HOME=str(home),
        KAGGLE_CONFIG_DIR=str(cfg),
        TMPDIR=str(tmp),
        KAGGLE_API_ENVIRONMENT="LOCALHOST",
        http_proxy=proxy,
        HTTP_PROXY=proxy,
        no_proxy="",
        NO_PROXY="",
        XDG_CONFIG_HOME=str(home / ".config"),
        KAGGLENLP_CACHE=str(home / ".cache" / "kagglenlp"),
    )
    if username:
        env["KAGGLE_USERNAME"] = username
    if key:
        env["KAGGLE_KEY"] = key
    return env


def set_env(monkeypatch, tmp_path, proxy, **kw):
    "Point this process (and the CLI runs it starts) at the stub at `proxy`: no other Kaggle setting or proxy."
    for k in list(os.environ):
        if k.startswith("KAGGLE") or k.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
            monkeypatch.delenv(k)
    for k, v in stub_env(tmp_path, proxy, **kw).items():
        monkeypatch.setenv(k, v)
