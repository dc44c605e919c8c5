"""A throwaway Dovecot IMAP server on a loopback port, for tests that fetch mail for real.

Debian's dovecot-imapd (installed by `make tools`) runs in the foreground with a config file of
its own: its own base_dir, state and maildirs under a fresh temporary folder, plaintext login on
127.0.0.1 without SSL on one free port, and IMAP over TLS with a self-signed certificate on
another. Any user name signs in with the one password, so one
server serves many tests, each with a user name, and an empty INBOX, of its own
(``new_mailbox``).
The packaged service and its /etc/dovecot are never touched.

Dovecot drops privileges when started as root and cannot when started as anyone else, so the
users it runs as differ (see ``_users``); everything else is the same either way.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "throwaway-test-password"
START_TIMEOUT_SECONDS = 15.0
MISSING = ("Dovecot is not installed (no `dovecot` on the PATH or in /usr/sbin), and the IMAP "
           "tests run against a real server: run `make tools`, which installs Debian's "
           "dovecot-imapd (or `apt-get install dovecot-imapd`).")


def dovecot_binary() -> Path | None:
    """Where Debian's dovecot is, or None when it is not installed."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class _Users:
    """Who Dovecot's processes run as, and who owns the mail."""

    login: str  # the untrusted login processes
    internal: str  # auth, anvil, stats...
    internal_group: str
    mail_uid: int
    mail_gid: int


def _users() -> _Users:
    """As root: Debian's own dovenull and dovecot users (created with the package), and mail
    owned by nobody, because Dovecot refuses to read mail as root (UID 0). As anyone else: that
    user for everything, since an unprivileged process cannot switch users."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return _Users("dovenull", "dovecot", "dovecot", nobody.pw_uid, nobody.pw_gid)
    me = pwd.getpwuid(os.geteuid())
    group = _group_name(os.getegid())
    return _Users(me.pw_name, me.pw_name, group, os.geteuid(), os.getegid())


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _config(root: Path, port: int, tls_port: int, users: _Users) -> str:
    return f"""\
# A throwaway Dovecot for foitrack's tests; nothing else reads this file.
instance_name = foitrack-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
# IMAP over TLS on tls_port with a certificate made for this server (trusted by nobody), and
# plain IMAP on port, where passwords go unencrypted: on the loopback interface only.
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered sooner than after the two seconds meant for attackers.
auth_failure_delay = 0
default_login_user = {users.login}
default_internal_user = {users.internal}
default_internal_group = {users.internal_group}
first_valid_uid = {users.mail_uid}
last_valid_uid = {users.mail_uid}
first_valid_gid = {users.mail_gid}
last_valid_gid = {users.mail_gid}
mail_privileged_group =
mail_location = maildir:~/Maildir
# Any user name signs in with the one password: each test takes a new name, and so an INBOX
# of its own, without the server being told.
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={users.mail_uid} gid={users.mail_gid} home={root}/home/%u
}}
# No chroot: it needs root, and a throwaway server gains nothing from it.
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


class DovecotServer:
    """One running Dovecot; ``new_mailbox`` gives each test a user, and an INBOX, of its own."""

    def __init__(self, binary: Path, root: Path) -> None:
        self.binary, self.root = binary, root
        self.host = "127.0.0.1"
        self.port = self.tls_port = 0
        self.certificate = root / "tls" / "cert.pem"
        self._users = _users()
        self._names = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = ""

    def start(self) -> None:
        """Start the server and wait until it greets a client; a port taken between choosing
        it and binding it is chosen again."""
        homes = self.root / "home"
        homes.mkdir()
        # Dovecot makes each user's home and maildir here, as the mail user.
        os.chown(homes, self._users.mail_uid, self._users.mail_gid)
        self._make_certificate()
        for _attempt in range(3):
            self.port, self.tls_port = _free_port(), _free_port()
            config = self.root / "dovecot.conf"
            config.write_text(_config(self.root, self.port, self.tls_port, self._users))
            self._process = subprocess.Popen(
                [str(self.binary), "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_for_greeting():
                return
            self.stop()
        raise RuntimeError(f"Dovecot did not start:\n{self.log()}")

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1, valid for a day."""
        self.certificate.parent.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.certificate.parent / "key.pem"), "-out", str(self.certificate)],
            check=True, capture_output=True)

    def _wait_for_greeting(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            self._stderr += process.stderr.read().decode("utf-8", "replace")
            process.stderr.close()

    def log(self) -> str:
        """Dovecot's log and whatever it wrote to stderr, to explain a failure."""
        path = self.root / "dovecot.log"
        return (path.read_text(errors="replace") if path.exists() else "") + self._stderr

    def new_mailbox(self) -> Mailbox:
        """A user not used before, so an empty INBOX (Dovecot makes it at the first sign-in)."""
        return Mailbox(self.host, self.port, self.tls_port, self.certificate,
                       f"user{next(self._names)}", PASSWORD)


@dataclass(frozen=True)
class Mailbox:
    """One user's INBOX on the server: what a test puts in it, and what it finds there."""

    host: str
    port: int  # plain IMAP
    tls_port: int  # IMAP over TLS, with ``certificate`` (self-signed)
    certificate: Path
    username: str
    password: str = field(repr=False)

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A signed-in IMAP connection with INBOX selected."""
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        try:
            client.login(self.username, self.password)
            status, data = client.select("INBOX")
            assert status == "OK", data
            yield client
        finally:
            with suppress(OSError, imaplib.IMAP4.error):
                client.logout()

    def deliver(self, *messages: bytes, seen: bool = False) -> list[int]:
        """Put raw messages into INBOX in turn (IMAP APPEND, unread unless ``seen``); their
        UIDs."""
        uids = []
        with self.client() as client:
            for raw in messages:
                status, data = client.append("INBOX", "(\\Seen)" if seen else "", None, raw)
                assert status == "OK", data
                # Dovecot has UIDPLUS (RFC 4315): "[APPENDUID <uidvalidity> <uid>] ..."
                answer = data[0].decode() if isinstance(data[0], bytes) else str(data[0])
                appended = re.search(r"APPENDUID \d+ (\d+)", answer)
                assert appended, answer
                uids.append(int(appended.group(1)))
        return uids

    def uids(self, criterion: str = "ALL") -> set[int]:
        """The UIDs of the messages in INBOX that an IMAP SEARCH criterion matches."""
        with self.client() as client:
            status, data = client.uid("SEARCH", criterion)
            assert status == "OK", data
            return {int(uid) for uid in (data[0] or b"").split()}

    def seen(self) -> set[int]:
        return self.uids("SEEN")

    def unseen(self) -> set[int]:
        return self.uids("UNSEEN")

    def mark_unseen(self, *uids: int) -> None:
        """Mark messages unread again, as a person may in their mail client."""
        with self.client() as client:
            client.uid("STORE", ",".join(map(str, uids)), "-FLAGS", "(\\Seen)")

    def expunge(self, *uids: int) -> None:
        """Delete messages for good, as another mail client may at any time."""
        with self.client() as client:
            client.uid("STORE", ",".join(map(str, uids)), "+FLAGS", "(\\Deleted)")
            client.expunge()

    def env(self) -> dict[str, str]:
        """The FOITRACK_IMAP_* settings that point foitrack at this mailbox."""
        return {"FOITRACK_IMAP_HOST": self.host, "FOITRACK_IMAP_PORT": str(self.port),
                "FOITRACK_IMAP_SSL": "0", "FOITRACK_IMAP_USERNAME": self.username,
                "FOITRACK_IMAP_PASSWORD": self.password, "FOITRACK_IMAP_FOLDER": "INBOX"}


@contextmanager
def running_dovecot() -> Iterator[DovecotServer]:
    """A started Dovecot, stopped and removed afterwards.

    :raises FileNotFoundError: when Dovecot is not installed (MISSING says what to do).
    """
    binary = dovecot_binary()
    if binary is None:
        raise FileNotFoundError(MISSING)
    # Not under pytest's tmp_path: that sits in a folder only its owner may enter, and as root
    # the mail is read and written as nobody.
    root = Path(tempfile.mkdtemp(prefix="foitrack-dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(binary, root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
