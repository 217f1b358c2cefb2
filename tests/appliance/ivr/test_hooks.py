"""ISV hooks against a real local HTTP service and a Python entry point."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance.ivr.config import HookConfig
from appliance.ivr.hooks import ThreadedHookRunner, call_hook


class BalanceService(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("account") == "slow":
            time.sleep(1.5)
        reply = json.dumps({"balance": "99.5", "seen": body["account"]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the slow case: the client gave up, as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BalanceService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/balance"
    server.shutdown()
    server.server_close()


def test_http_hook_posts_variables_and_returns_the_answer(service):
    answer = call_hook(HookConfig(http=service, timeout=2), {"account": "1234"})
    assert answer == {"balance": "99.5", "seen": "1234"}


def test_python_hook_and_its_failure():
    hook = HookConfig(python="tests.appliance.ivr.hooks:balance")
    assert call_hook(hook, {"account": "12345"}) == {"balance": "500"}
    with pytest.raises(LookupError):
        call_hook(hook, {"account": "0000"})


def test_runner_delivers_results_and_errors_on_the_loop(service):
    hooks = {"http": HookConfig(http=service, timeout=0.5), "py": HookConfig(python="tests.appliance.ivr.hooks:balance")}

    async def run_both():
        loop = asyncio.get_running_loop()
        runner = ThreadedHookRunner(hooks, loop)
        results = {}
        done = asyncio.Event()

        def collector(name):
            def on_result(answer, error):
                assert threading.current_thread() is threading.main_thread()
                results[name] = (answer, error)
                if len(results) == 3:
                    done.set()
            return on_result

        runner.run("http", {"account": "7"}, collector("ok"))
        runner.run("http", {"account": "slow"}, collector("slow"))
        runner.run("py", {"account": "0000"}, collector("closed"))
        await asyncio.wait_for(done.wait(), 5)
        return results

    results = asyncio.run(run_both())
    assert results["ok"] == ({"balance": "99.5", "seen": "7"}, None)
    assert results["slow"][0] is None and "timed out" in results["slow"][1]
    assert results["closed"] == (None, "LookupError: account closed")
