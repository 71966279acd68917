"""A real Postfix on loopback, relaying to a local SMTP sink that defers.

Used by tests/python/test_retry_mta.py (acceptance 2 of the retry-window
simulator): the sink answers RCPT TO with ``451 4.7.1`` for a recipient's
first K attempts (or always), Postfix retries on its own schedule with
scaled-down timings, and the test compares Postfix's logged attempts with
bouncekit's prediction.

Everything lives in one temporary directory (configuration, queue, log);
:meth:`PostfixInstance.stop` stops Postfix and removes it. Needs root (Postfix
runs its daemons as the ``postfix`` user) and Debian's ``postfix`` package,
which :func:`ensure_postfix` installs when missing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional


def _tool(name: str) -> str:
    """Postfix's programs live in /usr/sbin, which a CI PATH may lack."""
    return shutil.which(name) or f"/usr/sbin/{name}"


def ensure_postfix(timeout: float = 600) -> Optional[str]:
    """Installs Debian's postfix if missing; returns a reason string when impossible."""
    if shutil.which("postfix") or Path("/usr/sbin/postfix").exists():
        return None
    if os.geteuid() != 0:
        return "postfix is not installed and the test does not run as root"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["debconf-set-selections"], input=b"postfix postfix/main_mailer_type select No configuration\n",
                   check=False, env=env)
    for cmd in (["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"],
                ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "--no-install-recommends",
                 "postfix"]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0 and cmd[3] == "install":
            return f"apt-get install postfix failed: {r.stderr.strip()[-500:]}"
    if not Path("/usr/sbin/postfix").exists():
        return "postfix is still missing after apt-get install"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SinkEvent:
    time: float
    recipient: str
    reply: str


class _Handler(socketserver.StreamRequestHandler):
    server: "_SinkServer"

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self._send("220 bouncekit-sink ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._send("250 bouncekit-sink")
            elif verb == "MAIL":
                self._send("250 2.1.0 Ok")
            elif verb == "RCPT":
                m = re.search(r"<([^>]*)>", line)
                rcpt = (m.group(1) if m else line).lower()
                self._send(self.server.sink.rcpt(rcpt))
            elif verb == "DATA":
                self._send("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    d = self.rfile.readline()
                    if not d or d in (b".\r\n", b".\n"):
                        break
                self._send("250 2.0.0 Ok: queued")
            elif verb in ("RSET", "NOOP"):
                self._send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self._send("221 2.0.0 Bye")
                return
            else:
                self._send("502 5.5.2 Command not recognized")


class _SinkServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    sink: "SmtpSink"


class SmtpSink:
    """An SMTP server that defers each recipient's first K RCPT attempts.

    ``defer`` maps a recipient to K (-1: always defer); ``defer_for`` maps a recipient to a time
    (seconds since its first RCPT) before which it is deferred; others are accepted.
    Every RCPT is recorded with its time and reply.
    """

    def __init__(self, defer: Dict[str, int], defer_for: Optional[Dict[str, float]] = None) -> None:
        self.defer = {k.lower(): v for k, v in defer.items()}
        self.defer_for = {k.lower(): v for k, v in (defer_for or {}).items()}
        self._first: Dict[str, float] = {}
        self.events: List[SinkEvent] = []
        self._seen: Dict[str, int] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self._server = _SinkServer(("127.0.0.1", self.port), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def rcpt(self, rcpt: str) -> str:
        with self._lock:
            now = time.time()
            n = self._seen.get(rcpt, 0)
            self._seen[rcpt] = n + 1
            first = self._first.setdefault(rcpt, now)
            k = self.defer.get(rcpt, 0)
            defer = k < 0 or n < k or now - first < self.defer_for.get(rcpt, 0.0)
            reply = ("451 4.7.1 <%s>: Recipient address rejected: try again later" % rcpt
                     if defer else "250 2.1.5 Ok")
            self.events.append(SinkEvent(now, rcpt, reply))
            return reply

    def start(self) -> "SmtpSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class LogAttempt:
    queue_id: str
    recipient: str
    status: str          # deferred, sent, bounced
    delay: float         # Postfix's delay=: seconds since the message arrived
    line: str


@dataclass
class PostfixInstance:
    """Postfix with its own configuration directory, queue and log file."""

    relay_port: int
    queue_run_delay: int = 10
    minimal_backoff_time: int = 10
    maximal_backoff_time: int = 40
    maximal_queue_lifetime: int = 100
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bouncekit-postfix-")))
    smtpd_port: int = field(default_factory=free_port)
    started: bool = False

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    @property
    def log_path(self) -> Path:
        return self.root / "postfix.log"

    def _postconf(self, *args: str) -> None:
        subprocess.run([_tool("postconf"), "-c", str(self.config_dir), *args], check=True, capture_output=True, text=True)

    def configure(self) -> None:
        os.chmod(self.root, 0o755)
        self.config_dir.mkdir()
        (self.root / "spool").mkdir(mode=0o755)
        (self.root / "data").mkdir(mode=0o700)
        shutil.chown(self.root / "data", "postfix", "postfix")
        shutil.copy("/etc/postfix/master.cf", self.config_dir / "master.cf")
        d = self.root
        main = f"""
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
mail_owner = postfix
myhostname = bouncekit-test.localdomain
mydomain = localdomain
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.relay_port}
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_tls_security_level = none
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = {self.log_path}
maillog_file_prefixes = {d}
queue_run_delay = {self.queue_run_delay}s
minimal_backoff_time = {self.minimal_backoff_time}s
maximal_backoff_time = {self.maximal_backoff_time}s
maximal_queue_lifetime = {self.maximal_queue_lifetime}s
bounce_queue_lifetime = 0
delay_warning_time = 0
"""
        (self.config_dir / "main.cf").write_text(main)
        # No chroot (the queue lives in a temporary directory); SMTP in on our port.
        self._postconf("-F", "*/*/chroot = n")
        self._postconf("-MX", "smtp/inet")
        self._postconf("-M", f"127.0.0.1:{self.smtpd_port}/inet=127.0.0.1:{self.smtpd_port} inet n - n - - smtpd")

    def start(self) -> None:
        self.configure()
        r = subprocess.run([_tool("postfix"), "-c", str(self.config_dir), "start"], capture_output=True, text=True)
        if r.returncode != 0:
            # Postfix writes its fatal messages to stderr only on a terminal: rerun under script(1).
            why = subprocess.run(["script", "-qec", f"{_tool('postfix')} -c {self.config_dir} check", "/dev/null"],
                                 capture_output=True, text=True).stdout
            raise RuntimeError(f"postfix start failed: {r.stdout}\n{r.stderr}\n{why}\n{self.log_text()}")
        self.started = True
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.smtpd_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"postfix smtpd did not come up on port {self.smtpd_port}\n{self.log_text()}")

    def send(self, sender: str, recipient: str, subject: str) -> None:
        import smtplib
        with smtplib.SMTP("127.0.0.1", self.smtpd_port, timeout=30) as s:
            s.sendmail(sender, [recipient], f"From: {sender}\r\nTo: {recipient}\r\nSubject: {subject}\r\n\r\nretry test\r\n")

    def queue_ids(self) -> List[str]:
        r = subprocess.run([_tool("postqueue"), "-c", str(self.config_dir), "-j"], capture_output=True, text=True)
        return [m.group(1) for m in re.finditer(r'"queue_id": "([0-9A-F]+)"', r.stdout)]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def attempts(self) -> List[LogAttempt]:
        out = []
        pat = re.compile(r"postfix/smtp\[\d+\]: ([0-9A-F]+): to=<([^>]*)>.*? delay=([0-9.]+),.*? status=(\w+)")
        for line in self.log_text().splitlines():
            m = pat.search(line)
            if m:
                out.append(LogAttempt(m.group(1), m.group(2).lower(), m.group(4), float(m.group(3)), line))
        return out

    def expired(self) -> List[str]:
        return re.findall(r": ([0-9A-F]+): from=<[^>]*>, status=expired", self.log_text())

    def stop(self) -> None:
        if self.started:
            subprocess.run([_tool("postfix"), "-c", str(self.config_dir), "stop"], capture_output=True, text=True)
            # Wait for the master to go away before removing its queue.
            pid_file = self.root / "spool" / "pid" / "master.pid"
            deadline = time.time() + 20
            while pid_file.exists() and time.time() < deadline:
                time.sleep(0.2)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
