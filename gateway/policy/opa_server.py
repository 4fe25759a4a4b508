"""The OPA server engine: the gateway deciding on an OPA server (``KETENPOORT_OPA_URL``)
that loads the same signed bundle itself, instead of on embedded regorus.

The one remote engine, so the one with a client and a server to distrust: it queries OPA
over HTTP (``opa-python-client``, strict builtin errors, the caller's trace context) on a
thread pool, so that its time limit is a deadline on the wall clock; it asks OPA for a
decision only while what OPA serves (its modules' texts and compiled covenants, read back
through OPA's REST API) is known to be the gateway's bundle, and refuses an answer from
another bundle revision; and it reports OPA's health and that check to the readiness
probe. The fail-closed ``decide`` and the check of every answer against the loaded bundle
(``to_decision``) it shares with the embedded engines (gateway/policy/engine.py); it lives
apart from them because none of the rest applies to an engine in process.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlparse

from gateway.policy.bundle import Bundle
from gateway.policy.compiler import DATA_ROOT, canonical_json
from gateway.policy.engine import DEFAULT_TIMEOUT_SECONDS, UntrustedPolicy, _Engine
from gateway.policy.schemas import Decision, PolicyInput

log = logging.getLogger("gateway.policy")

_PACKAGE_PATH = "ketenpoort/authz"

OpaQuery = Callable[[dict[str, Any]], Any]
#: Whether the OPA server answers its health check.
OpaHealth = Callable[[], bool]
#: What the OPA server serves: the text of every policy module it holds (``GET
#: /v1/policies``, each one's ``raw``), its ``data.ketenpoort.covenants`` and the revision
#: label of its bundle (``data.ketenpoort.revision``).
OpaContent = Callable[[], tuple[list[str], Any, Any]]

#: Once what the OPA server serves is known to be the gateway's bundle, it is read again at
#: most once per this many seconds (its modules, ~0.5 MB of data and the revision label);
#: the time limit of each socket wait of the three reads (not of a read as a whole, nor a
#: decision's).
OPA_CONTENT_CHECK_SECONDS = 60.0
OPA_CONTENT_TIMEOUT_SECONDS = 5.0
#: A read that found the bundle vouches for it this long after ``OPA_CONTENT_CHECK_SECONDS``,
#: counted from when that read began: the time the next read has to finish. After that the
#: verdict has expired, even while a read hangs, and every decision waits for a read (at
#: most its time limit) as before the first. So a policy OPA swapped to after a read began
#: decides at most check + grace seconds (65 s) after it was last found serving the bundle.
OPA_CONTENT_GRACE_SECONDS = OPA_CONTENT_TIMEOUT_SECONDS
#: The readiness probe waits at most this long for a read (Kubernetes gives the probe 3 s,
#: compose 2 to 3 s), then reports what is known: a probe never holds a worker for a read.
OPA_PROBE_WAIT_SECONDS = 1.0
#: While it is not known (not read yet since the bundle was loaded, the last read failed or
#: found another policy) every decision is refused, and a decision or readiness probe reads
#: it again at most once per this many seconds: soon enough that a replica decides again
#: within a second of OPA serving the bundle, rarely enough not to hammer an OPA that fails.
OPA_CONTENT_RETRY_SECONDS = 1.0

#: At most one health check of the OPA server per this many seconds (readiness probes come
#: every few seconds, from every replica); in between the readiness check reports the last.
OPA_HEALTH_CHECK_SECONDS = 5.0
#: OPA's health API: 200 once the server is up and its bundles are activated, as the
#: compose healthcheck and the Kubernetes readinessProbe of the sidecar ask it.
OPA_HEALTH_QUERY = {"bundles": "true"}

#: Decisions that may wait on the OPA server at once; more wait in line, within their limit.
OPA_CLIENT_THREADS = 32


def _propagate_trace_context(client: Any) -> None:
    """Every query to OPA carries the request's ``traceparent`` (gateway/core/tracing.py),
    so OPA's decision log and spans join the caller's trace. requests calls a session's
    ``auth`` on each outgoing request, in the thread that sends it."""
    from gateway.core.tracing import inject_trace_context

    def add_trace_context(request: Any) -> Any:
        inject_trace_context(request.headers)
        return request

    client._session.auth = add_trace_context


#: Sent with every query to the OPA server (OPA's REST API, data API query parameter
#: ``strict-builtin-errors``): a builtin that errors (a type error, say) fails the query with
#: HTTP 500 (``engine-error``: the gateway answers 503, nothing disclosed) instead of making
#: the expression undefined, where a `not` around it would hold. Without it the server would
#: decide differently from OPA's Go evaluator in the tests, which evaluates strictly
#: (``OpaGoEngine``; review9b F2).
STRICT_BUILTIN_ERRORS = {"strict-builtin-errors": "true"}


class StaleBundle(UntrustedPolicy):
    """The OPA server answered from another bundle revision than the gateway expects."""


class UnverifiedPolicy(UntrustedPolicy):
    """What the OPA server serves is not known to be the gateway's bundle: not read since
    the bundle was loaded, the last read failed, or it found another bundle revision."""


class ForeignPolicy(UnverifiedPolicy):
    """The OPA server's modules or data are not those of the gateway's bundle, under that
    bundle's revision label."""


class OpaQueryFailed(Exception):
    """A decision query the OPA server refused the connection to or answered with an HTTP
    error (``requests``' errors, translated where the client makes them): OPA may be
    restarting, perhaps on another policy, so what it serves is read again before it
    decides."""


#: Why decisions are refused before the first read of what OPA serves since a bundle was
#: loaded (and why the replica is not ready before a bundle is loaded at all).
_NOT_CHECKED = "what the OPA server serves is not checked yet"


def _content_digest(modules: list[str], covenants: Any) -> str:
    """A digest of a policy's module texts (in any order, without their names: OPA names a
    bundle's modules after its own paths) and its compiled covenants."""
    digest = hashlib.sha256()
    for text in sorted(modules):
        digest.update(hashlib.sha256(text.encode()).digest())
    digest.update(canonical_json(covenants))
    return digest.hexdigest()


class OpaServerEngine(_Engine):
    """An OPA server (``KETENPOORT_OPA_URL``) that loads the same signed bundle itself.

    ``query``, ``health`` and ``content`` are injectable for tests; by default they are
    ``opa_client``'s ``query_rule``, with strict builtin errors (``STRICT_BUILTIN_ERRORS``),
    ``check_health`` (``OPA_HEALTH_QUERY``) and three reads of OPA's REST API. The server's
    bundle revision is reported by the policy itself (``revision``).

    Fail closed on what OPA serves: a decision is asked of OPA only while OPA is known to
    serve the gateway's bundle itself (its modules' texts and compiled covenants, read
    back: ``_check_content``), not only a bundle under its revision label. Until the
    first read after a bundle is loaded has found it, after a read that failed and after
    one that found another policy, every decision is refused (``UnverifiedPolicy``,
    ``ForeignPolicy``: ``engine-error``, 503, nothing disclosed); the decision itself starts
    the read that is due and waits for it, at most its time limit (``_await_content``).
    A read that found the bundle vouches for it for ``content_check_seconds +
    content_grace_seconds`` from when it began (65 s), not until the next read ends: a read
    that hangs does not keep it, and a decision query or health check that fails (OPA
    restarting, perhaps on another policy) drops it at once. Between two reads OPA could
    swap its policy, and decides by the new one until the next read or the expiry: the
    check bounds that window, it cannot close it. With only an injected ``query`` nothing
    is read, and nothing refused for it.

    The time limit (``KETENPOORT_POLICY_TIMEOUT_SECONDS``, ``timeout_seconds``) is a
    deadline on the whole call: the query runs on a small thread pool and the deciding
    thread waits at most the limit for it (a server that accepts and never answers, or
    trickles its answer, denies with ``engine-timeout`` when the limit is reached). The
    client itself has the same limit as its connect and read timeout, and no retries (a
    retry cannot fit in the limit), so a pool thread is freed soon after.
    """

    name = "opa"
    measures_cpu = False  # waiting on the server is the cost: wall clock

    def __init__(
        self,
        url: str,
        query: OpaQuery | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        health: OpaHealth | None = None,
        content: OpaContent | None = None,
    ) -> None:
        super().__init__(timeout_seconds)
        #: Why OPA's last answer was refused (another bundle revision), until one is taken.
        self.stale: str | None = None
        self._stale_document: dict[str, Any] | None = None
        if query is None:
            query, client_health, client_content = self._client(url, timeout_seconds)
            health = health if health is not None else client_health
            content = content if content is not None else client_content
        self._query = query
        self._health: OpaHealth = health if health is not None else (lambda: True)
        #: None: what OPA serves is not checked (a test's injected query alone).
        self._content: OpaContent | None = content
        #: Seconds between two reads of what OPA serves: once it is known to be the bundle
        #: (``OPA_CONTENT_CHECK_SECONDS``), and while it is not (``OPA_CONTENT_RETRY_SECONDS``).
        self.content_check_seconds = OPA_CONTENT_CHECK_SECONDS
        self.content_retry_seconds = OPA_CONTENT_RETRY_SECONDS
        #: How long after ``content_check_seconds`` a verdict that OPA serves the bundle
        #: still stands (``OPA_CONTENT_GRACE_SECONDS``); how long a readiness probe waits
        #: for a read (``OPA_PROBE_WAIT_SECONDS``).
        self.content_grace_seconds = OPA_CONTENT_GRACE_SECONDS
        self.probe_wait_seconds = OPA_PROBE_WAIT_SECONDS
        #: When the last read began, then ended (``time.monotonic``); the read in flight.
        self._content_checked_at = -float("inf")
        self._content_check: Future[None] | None = None
        #: When the last read that found the bundle began: its verdict expires
        #: ``content_check_seconds + content_grace_seconds`` later.
        self._verified_at = -float("inf")
        #: Counts what makes a read's verdict moot: a bundle with other content loaded, a
        #: query or health check that failed. A read that began before is dropped.
        self._content_epoch = 0
        #: The loaded bundle's content digest (``_content_digest``) and its revision.
        self._expected_content: tuple[str, str] | None = None
        #: Why what OPA serves is not known to be the gateway's bundle (None: it is): while
        #: set, every decision is refused before OPA is asked.
        self._content_unknown: str | None = _NOT_CHECKED
        #: Set (to the same reason) while OPA serves other modules or data than the bundle's
        #: under the bundle's revision label (``ForeignPolicy``).
        self.foreign: str | None = None
        #: Guards the fields above; held only to read or swap them, never during a read.
        self._content_lock = threading.Lock()
        #: Seconds between two health checks (``OPA_HEALTH_CHECK_SECONDS``).
        self.health_check_seconds = OPA_HEALTH_CHECK_SECONDS
        self._health_checked_at = -float("inf")
        self._unhealthy: str | None = None
        self._health_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(OPA_CLIENT_THREADS, thread_name_prefix="opa-client")

    @staticmethod
    def _client(url: str, timeout_seconds: float) -> tuple[OpaQuery, OpaHealth, OpaContent]:
        import requests
        from opa_client import OpaClient

        parsed = urlparse(url)
        client = OpaClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or 8181,
            ssl=parsed.scheme == "https",
            timeout=timeout_seconds,
            retries=0,
        )
        _propagate_trace_context(client)

        def query(document: dict[str, Any]) -> Any:
            try:
                return client.query_rule(
                    input_data=document,
                    package_path=_PACKAGE_PATH,
                    rule_name="decision",
                    query_params=STRICT_BUILTIN_ERRORS,
                )
            except (requests.ConnectionError, requests.HTTPError) as exc:
                raise OpaQueryFailed(type(exc).__name__) from exc

        def health() -> bool:
            return bool(client.check_health(query=OPA_HEALTH_QUERY))

        def content() -> tuple[list[str], Any, Any]:
            # OPA's REST API: GET /v1/policies (every module, with its text as `raw`), GET
            # /v1/data/ketenpoort/covenants and .../revision (base documents: nothing is
            # evaluated).
            base = client.root_url
            session, limit = client._session, OPA_CONTENT_TIMEOUT_SECONDS

            def read(path: str) -> Any:
                response = session.get(f"{base}/{path}", timeout=limit)
                response.raise_for_status()
                return response.json()["result"]

            modules = [str(module["raw"]) for module in read("policies")]
            covenants = read(f"data/{DATA_ROOT}/covenants")
            return modules, covenants, read(f"data/{DATA_ROOT}/revision")

        return query, health, content

    def load(self, bundle: Bundle) -> None:
        # The server fetches and verifies the bundle itself; we expect its revision, check
        # each answer against the covenants of the bundle the gateway built, and what the
        # server serves against the bundle. The content first: a decision that already
        # expects the new revision never passes on the last bundle's verdict.
        digest = _content_digest(list(bundle.modules.values()), bundle.data[DATA_ROOT]["covenants"])
        with self._content_lock:
            loaded = self._expected_content
            self._expected_content = (digest, bundle.revision)
            if loaded is None or loaded[0] != digest:
                self._forget_content(_NOT_CHECKED)
                self.foreign = None
        self._expect(bundle)
        # Read now, not waited for: the first request (or probe) finds the read under way or
        # done, rather than starting it and waiting out its whole time.
        if self._content is not None:
            self._due_content_check()

    def readiness_problem(self) -> str | None:
        """For the readiness check. An OPA server that does not answer its health check: every
        decision would deny (engine-error, 503), so the replica is not ready; asked at most
        once per ``health_check_seconds``, the last answer reported in between, and never
        by two threads at once. Then whether what OPA serves is known to be the gateway's
        bundle (``_content_problem``: every decision is refused while it is not). Then,
        while OPA's last answer came from another bundle revision than the gateway's, ask
        it again (the request it was refused for, decided anew and discarded); None once
        OPA serves the gateway's revision. A replica taken out of service receives no
        requests, so without these checks it would never learn that OPA came back or
        caught up. At most the policy time limit for each question to OPA and
        ``probe_wait_seconds`` for the read: within a probe's timeout."""
        unhealthy = self._health_problem()
        if unhealthy is not None:
            return unhealthy
        unchecked = self._content_problem()
        if unchecked is not None:
            return unchecked
        document = self._stale_document
        if self.stale is None or document is None:
            return None
        with contextlib.suppress(Exception):  # still stale, or OPA unreachable: still not ready
            self._evaluate(document)
        return self.stale

    def _health_problem(self) -> str | None:
        now = time.monotonic()
        if now - self._health_checked_at >= self.health_check_seconds and (
            self._health_lock.acquire(blocking=False)
        ):
            try:
                self._health_checked_at = now
                healthy = False
                with contextlib.suppress(Exception):  # unreachable: not healthy
                    healthy = self._health()
                self._unhealthy = (
                    None
                    if healthy
                    else "the OPA server (KETENPOORT_OPA_URL) does not answer its health "
                    "check (/health?bundles): every decision is refused"
                )
            finally:
                self._health_lock.release()
            if not healthy:  # it may come back on another policy: read it before it decides
                self._distrust_content("the OPA server failed its health check")
        return self._unhealthy

    def _content_problem(self) -> str | None:
        """Why what OPA serves is not known to be the gateway's bundle (None: it is), after
        the read that is due (``_due_content_check``), waited for at most
        ``probe_wait_seconds``: the readiness probe reports what is known then, and that a
        read is still under way if it is and its verdict is needed."""
        if self._content is None:
            return None
        check = self._due_content_check()
        if check is not None:
            wait([check], timeout=self.probe_wait_seconds)
        problem = self._distrust()
        if problem is None:
            return None
        if check is not None and not check.done():
            return f"a check of what the OPA server serves is in progress; until it ends: {problem}"
        return str(problem)

    def _verdict_stands(self, now: float) -> bool:
        """Whether the last read found the bundle and its verdict has not expired (held
        under ``_content_lock``)."""
        expires = self._verified_at + self.content_check_seconds + self.content_grace_seconds
        return self._content_unknown is None and now < expires

    def _forget_content(self, reason: str) -> None:
        """What OPA serves is not known from now on (held under ``_content_lock``): a read
        in flight is dropped when it ends, and the next is due at once."""
        self._content_unknown, self._verified_at = reason, -float("inf")
        self._content_epoch += 1
        self._content_checked_at = -float("inf")

    def _distrust_content(self, why: str) -> None:
        """A failed decision query or health check: OPA may be restarting, perhaps on another
        policy, so the verdict that it serves the bundle is dropped and the next decision
        waits for a read, as after a load."""
        with self._content_lock:
            if self._expected_content is None or self._content_unknown is not None:
                return
            revision = self._expected_content[1]
            self._forget_content(
                f"{why}: what it serves is not known to be the gateway's bundle {revision} "
                "until it is read again: every decision is refused"
            )
        log.warning(
            "what the OPA server serves is read again before it decides",
            extra={"problem": why, "expected_revision": revision},
        )

    def _distrust(self) -> UntrustedPolicy | None:
        """Why OPA is not to be asked now (``ForeignPolicy``, ``UnverifiedPolicy``), None
        while the last read found the bundle and its verdict has not expired."""
        with self._content_lock:
            if self._verdict_stands(time.monotonic()):
                return None
            foreign, unknown, expected = self.foreign, self._content_unknown, self._expected_content
        if foreign is not None:
            return ForeignPolicy(foreign)
        if unknown is not None:
            return UnverifiedPolicy(unknown)
        stands = self.content_check_seconds + self.content_grace_seconds
        revision = expected[1] if expected is not None else None
        return UnverifiedPolicy(
            f"the last read that found the gateway's bundle {revision} in the OPA server "
            f"began over {stands:g} s ago: what it serves is not known to be that bundle "
            "now: every decision is refused until a read finds it"
        )

    def _due_content_check(self) -> Future[None] | None:
        """The read of what OPA serves that is in flight, started now if one is due; None if
        none is (or no bundle is loaded: nothing to compare with). Never two at once, and
        one per ``content_check_seconds`` while OPA is known to serve the bundle, one per
        ``content_retry_seconds`` while it is not, or the verdict expired (OPA down or
        refusing the read is asked once a second, not on every request)."""
        with self._content_lock:
            expected, running = self._expected_content, self._content_check
            if expected is None:
                return None
            if running is not None and not running.done():
                return running
            now = time.monotonic()
            verified = self._verdict_stands(now)
            interval = self.content_check_seconds if verified else self.content_retry_seconds
            if now - self._content_checked_at < interval:
                return None
            self._content_checked_at = now
            # A read from a state that found the bundle tries once more before failing: one
            # lost connection does not refuse every decision for a second.
            retry = self._content_unknown is None
            # On the client's pool: a decision waits for it at most its time limit, and a
            # read it gave up on still finishes and gives its verdict to the next ones.
            check = self._content_check = self._pool.submit(
                self._check_content, expected, self._content_epoch, now, retry
            )
            return check

    def _read_content(self, retry: bool) -> tuple[str, Any]:
        """The digest of what OPA serves (``_content_digest``) and its revision label; read
        twice before failing if ``retry``."""
        assert self._content is not None
        try:
            modules, covenants, label = self._content()
        except Exception:
            if not retry:
                raise
            modules, covenants, label = self._content()
        return _content_digest(modules, covenants), label

    def _check_content(
        self, expected: tuple[str, str], epoch: int, started: float, retry: bool
    ) -> None:
        """Whether OPA serves the gateway's bundle itself, not only its revision label: its
        modules' texts and its compiled covenants against ``expected`` (the digest and
        revision of the bundle loaded when the read began, at ``started``; the verdict is
        dropped if the gateway has loaded other content since, or a query or health check
        failed: ``epoch``). A bundle signed with the gateway's key but not built by this
        gateway (whoever holds the key can sign one, under any revision label), or a
        policy OPA was given some other way, makes every decision refused (``foreign``)
        until OPA serves the bundle again. Another policy under another label (mostly the
        last bundle, OPA not restarted yet) is refused as such, without alarm: OPA's every
        answer would carry that label and be refused (``StaleBundle``). A read that fails
        (twice, if ``retry``) refuses them too: OPA not known to serve the bundle is not
        trusted with a decision. A read that finds the bundle vouches for it until
        ``content_check_seconds + content_grace_seconds`` after ``started``."""
        digest, revision = expected
        foreign: str | None = None
        unknown: str | None = None
        # What is logged when the verdict changes (not at every read): level, message, fields.
        said: tuple[int, str, dict[str, Any]]
        try:
            served, label = self._read_content(retry)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, unreadable
            error = type(exc).__name__
            unknown = (
                f"cannot read the policy the OPA server serves ({error}): it is not "
                f"known to be the gateway's bundle {revision}: every decision is refused"
            )
            said = (
                logging.WARNING,
                "cannot read the policy the OPA server serves",
                {"problem": error},
            )
        else:
            if served == digest:
                said = (logging.INFO, "OPA serves the gateway's bundle", {})
            elif label != revision:
                unknown = f"OPA serves bundle revision {label}, the gateway loaded {revision}"
                said = (
                    logging.WARNING,
                    "OPA serves another bundle revision than the gateway loaded",
                    {"served_revision": label},
                )
            else:
                foreign = unknown = (
                    "the OPA server serves other policy modules or data than the "
                    f"gateway's bundle {revision}, under that bundle's revision label: every "
                    "decision is refused"
                )
                said = (logging.ERROR, "OPA serves another policy than the gateway's bundle", {})
        with self._content_lock:
            if self._content_epoch != epoch:
                return  # other content loaded, or OPA failed since: the next read decides
            self._content_checked_at = time.monotonic()  # the next read a full interval on
            changed = unknown != self._content_unknown
            self._content_unknown, self.foreign = unknown, foreign
            self._verified_at = started if unknown is None else -float("inf")
        if changed:
            level, message, fields = said
            log.log(level, message, extra={**fields, "expected_revision": revision})

    def decide(self, policy_input: PolicyInput) -> Decision:
        # The read of what OPA serves is waited for before the decision's clock starts, as
        # an embedded engine builds its thread's VM (_PerThread.decide): a cost once per
        # bundle (and after a failed read or query, or an expired verdict), not the
        # decision's.
        self._await_content(self.timeout_seconds)
        return super().decide(policy_input)

    def _await_content(self, seconds: float) -> None:
        """Start the read of what OPA serves if one is due (``_due_content_check``) and, while
        OPA is not known to serve the gateway's bundle, wait for it at most ``seconds``. So
        the first decision after a bundle is loaded is decided as soon as the read finds
        the bundle, not after the next readiness probe, and the decisions that arrive
        during the read wait for that same read (one read, however many requests; each at
        most its time limit, then refused: 503, and may be tried again). While the last
        read's verdict stands, a read that is due is started and not waited for: this
        decision is made under that verdict, the ones after the new read under its own;
        once the verdict has expired, the decision waits as for the first read."""
        if self._content is None:
            return  # a test's injected query alone: nothing to read
        check = self._due_content_check()
        if check is not None and self._distrust() is not None:
            wait([check], timeout=seconds)

    def _require_content(self) -> None:
        """Refuse to ask OPA (``UnverifiedPolicy``, or ``ForeignPolicy``) unless what it serves
        is known to be the gateway's bundle, by a read whose verdict has not expired."""
        if self._content is None:
            return
        problem = self._distrust()
        if problem is not None:
            raise problem

    def _evaluate(self, document: dict[str, Any]) -> Any:
        self._require_content()
        # In the caller's context: the query carries the request's trace context.
        future = self._pool.submit(contextvars.copy_context().run, self._query, document)
        try:
            response = future.result(timeout=self.timeout_seconds)
        except FutureTimeout:
            future.cancel()  # still waiting in line: never sent
            raise
        except (ConnectionError, OpaQueryFailed) as exc:
            problem = str(exc) if isinstance(exc, OpaQueryFailed) else type(exc).__name__
            self._distrust_content(f"a decision query to the OPA server failed ({problem})")
            raise
        if not isinstance(response, dict) or "result" not in response:
            return None  # OPA omits "result" when the rule is undefined
        result = response["result"]
        served = result.get("revision") if isinstance(result, dict) else None
        if served == self._revision:
            self.stale = None
        else:
            self.stale = f"OPA serves bundle revision {served}, the gateway loaded {self._revision}"
            self._stale_document = document
            # The server decides on another bundle than the gateway loaded: its poll has not
            # fetched the new one yet, or it refused it and kept the last good bundle. Its
            # decision is by another covenant than the one this gateway enforces, so it
            # decides nothing (engine-error: 503, nothing disclosed) until the two agree.
            log.warning(
                "OPA decided on another bundle revision than the gateway loaded",
                extra={"served_revision": served, "expected_revision": self._revision},
            )
            raise StaleBundle(self.stale)
        return result
