"""Hub names in kernels: the model check asks the hub huggingface_hub uses (`HF_ENDPOINT`), a fake one here."""

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
PROBE = "from kagglenlp.patents.models.backbone import _hub_reachable; print(_hub_reachable(timeout=5))"


def probe(endpoint, code=PROBE, home=None):
    "Run `code` in a fresh interpreter whose hub is `endpoint` (no proxy, hub cache in `home`); its output."
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("HF_")}
    env.update(HF_ENDPOINT=endpoint, PYTHONPATH=SRC, **({"HF_HOME": str(home)} if home else {}))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def free_port():
    "A 127.0.0.1 port nothing listens on."
    srv = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = srv.server_address[1]
    srv.server_close()
    return port


def test_an_unreachable_hub_is_named_in_the_error(tmp_path):
    mirror = f"http://127.0.0.1:{free_port()}"
    code = (
        "from kagglenlp.errors import UserError\nfrom kagglenlp.patents.model import _source\n"
        "try:\n    _source('someone/some-model')\nexcept UserError as e:\n    print(e)\n"
    )
    err = probe(mirror, code, home=tmp_path / "hf")
    assert f"the hub {mirror} (HF_ENDPOINT) cannot be reached" in err and "huggingface.co" not in err


def test_hub_check_asks_the_endpoint_huggingface_hub_uses():
    seen = []

    class Hub(BaseHTTPRequestHandler):
        def do_HEAD(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        assert probe(f"http://127.0.0.1:{srv.server_address[1]}") == "True"
        assert seen == ["/"]  # one request, to the mirror, not to huggingface.co
    finally:
        srv.shutdown()
        srv.server_close()
    free = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    port = free.server_address[1]
    free.server_close()  # nothing listens there now
    assert probe(f"http://127.0.0.1:{port}") == "False"
