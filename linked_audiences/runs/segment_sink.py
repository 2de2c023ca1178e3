"""Segment's HTTP API as a sink (``segment:WRITE_KEY``), through the official
segment-analytics-python client, which is an optional extra."""

from __future__ import annotations

import atexit
import copy
import inspect
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from linked_audiences.runs.sinks import SEGMENT_INSTALL_HINT, DeliveryError, _ClosingSink

log = logging.getLogger(__name__)

# --- Segment ------------------------------------------------------------------------------------


class SegmentSink(_ClosingSink):
    """Sends events to Segment's HTTP Tracking API with the official Python client.

    Needs ``segment-analytics-python`` (``pip install "linked-audiences[segment]"``). The
    sink owns a dedicated ``segment.analytics.Client`` (never the module-level default
    client). That client queues messages and uploads them from a thread in batches of up to
    ``upload_size``, retrying network errors and retryable answers (5xx, 429) up to
    ``max_retries`` times. ``send`` enqueues the batch, waits with ``Client.flush()`` until
    every message has been uploaded or given up on, and raises `DeliveryError` when the
    client reported a failure through its ``on_error`` callback or refused a message. (The
    client's ``sync_mode`` posts one message per request and never retries, and ignores
    ``on_error`` and ``max_retries``, so it is not used.)

    ``host`` is the API base URL (default ``https://api.segment.io``; the EU region is
    ``https://events.eu1.segmentapis.com``). ``timeout`` bounds each HTTP request in seconds.
    With client 2.4 or later, ``max_wait`` bounds in seconds the total back-off of one upload
    and how long a rate limit (``Retry-After``) may hold it. The client sends timestamps with
    millisecond precision.

    An event over Segment's 32 KB limit (as the client measures it: JSON with non-ASCII
    escaped) is skipped with a warning and listed in ``skipped_message_ids``, as Segment
    itself skips such events; it can never be accepted, and failing the batch would block
    every later event.
    """

    def __init__(
        self,
        write_key: str,
        host: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 120.0,
        gzip: bool = True,
        upload_size: int = 100,
        upload_interval: float = 0.1,
    ) -> None:
        if not write_key:
            raise ValueError("SegmentSink needs a Segment write key")
        self._analytics = _import_segment()
        self.write_key = write_key
        self.host = host
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.gzip = gzip
        self.upload_size = upload_size
        self.upload_interval = upload_interval
        self._client: Any = None
        self._lock = threading.Lock()
        self._errors_lock = threading.Lock()
        self._errors: list[tuple[BaseException, list[str]]] = []
        #: messageIds of events over Segment's 32 KB limit, which were skipped (and logged).
        self.skipped_message_ids: list[str] = []

    def __repr__(self) -> str:
        return f"SegmentSink(host={self.host or 'https://api.segment.io'!r})"

    def send(self, events: Sequence[dict[str, Any]]) -> None:
        # Check every event before any of them leaves, so a malformed one fails the batch early.
        calls = [_segment_call(event, index) for index, event in enumerate(events)]
        if not calls:
            return
        # Waiting for the uploads every few batches, and stopping at the first failure, bounds
        # what a dead endpoint costs to one chunk's retries.
        chunk = max(1, 5 * self.upload_size)
        with self._lock:
            client = self._ensure_client()
            with self._errors_lock:
                self._errors.clear()
            try:
                for index, (method, kwargs) in enumerate(calls, start=1):
                    try:
                        accepted, _ = getattr(client, method)(**kwargs)
                    except RuntimeError:
                        # The client's only RuntimeError: the message is over Segment's
                        # 32 KB limit. Segment drops such events, so they can never be
                        # delivered; failing the batch would block every later event.
                        self.skipped_message_ids.append(kwargs["message_id"])
                        log.warning(
                            "skipped event %s: over Segment's 32 KB message limit",
                            kwargs["message_id"],
                        )
                        continue
                    if not accepted:
                        raise DeliveryError(
                            f"the Segment client's queue refused event {kwargs['message_id']!r}"
                        )
                    if index % chunk == 0:
                        client.flush()
                        self._raise_failures(len(calls))
            finally:
                # Even when failing, drain what was queued: its outcome must not be
                # attributed to the next batch.
                client.flush()
            self._raise_failures(len(calls))

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            if client is not None:
                client.flush()
                client.join()
                atexit.unregister(client.join)

    def _ensure_client(self) -> Any:
        if self._client is None:
            options: dict[str, Any] = {
                "host": self.host,
                "on_error": self._on_error,
                "max_retries": self.max_retries,
                "timeout": self.timeout,
                "gzip": self.gzip,
                "upload_size": self.upload_size,
                "upload_interval": self.upload_interval,
                "sync_mode": False,
                "send": True,
            }
            # Segment's client 2.4 added overall bounds on back-off and rate-limit waits.
            client_class = self._analytics.Client
            if "max_total_backoff_duration" in _parameters(client_class):
                options["max_total_backoff_duration"] = self.max_wait
                options["max_rate_limit_duration"] = self.max_wait
            self._client = client_class(self.write_key, **options)
        return self._client

    def _on_error(self, error: BaseException, batch: list[dict[str, Any]]) -> None:
        """Called by the client's upload thread when it gives up on a batch."""
        ids = [str(message.get("messageId")) for message in batch]
        with self._errors_lock:
            self._errors.append((error, ids))

    def _raise_failures(self, total: int) -> None:
        with self._errors_lock:
            errors, self._errors = self._errors, []
        if not errors:
            return
        failed = sum(len(ids) for _, ids in errors)
        first_error, first_ids = errors[0]
        raise DeliveryError(
            f"Segment did not accept {failed} event(s) of a batch of {total} "
            f"(first failure: {first_error}; messageIds {', '.join(first_ids[:3])}"
            f"{', …' if len(first_ids) > 3 else ''})"
        ) from first_error


def _import_segment() -> Any:
    try:
        import segment.analytics as analytics  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as exc:
        raise ImportError(
            f"SegmentSink needs Segment's Python client: {SEGMENT_INSTALL_HINT}"
        ) from exc
    return analytics


def _parameters(function: Callable[..., Any]) -> set[str]:
    return set(inspect.signature(function).parameters)


def _segment_call(event: dict[str, Any], index: int) -> tuple[str, dict[str, Any]]:
    """The client method and its keyword arguments for one event; ValueError when malformed."""
    where = f"event {index}"
    if not isinstance(event, dict):
        raise ValueError(f"{where}: an event is a dict, got {type(event).__name__}")
    message_id = event.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise ValueError(f"{where}: needs a messageId (so a re-sent event is recognisable)")
    where = f"event {message_id!r}"
    user_id = event.get("userId")
    anonymous_id = event.get("anonymousId")
    kind = event.get("type")
    group_id = event.get("groupId")
    if kind == "group" and user_id in (None, "") and anonymous_id in (None, ""):
        # An account audience's Group call is about the account, not a user; Segment's API
        # wants a user on every call, so the account id stands in as the anonymous id.
        anonymous_id = group_id
    if user_id in (None, "") and anonymous_id in (None, ""):
        raise ValueError(f"{where}: needs a userId or an anonymousId")
    context = event.get("context") or {}
    if not isinstance(context, dict):
        raise ValueError(f"{where}: context must be an object")
    kwargs: dict[str, Any] = {
        "user_id": user_id if user_id != "" else None,
        "anonymous_id": anonymous_id if anonymous_id != "" else None,
        # The client writes context.library into the dict it is given: hand it a copy.
        "context": copy.deepcopy(context),
        "timestamp": _timestamp(event.get("timestamp"), where),
        "message_id": message_id,
    }
    if isinstance(event.get("integrations"), dict):
        kwargs["integrations"] = copy.deepcopy(event["integrations"])
    if kind == "track":
        name = event.get("event")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: a track event needs an event name")
        properties = event.get("properties") or {}
        if not isinstance(properties, dict):
            raise ValueError(f"{where}: properties must be an object")
        kwargs.update(event=name, properties=properties)
        return "track", kwargs
    if kind in ("identify", "group"):
        traits = event.get("traits") or {}
        if not isinstance(traits, dict):
            raise ValueError(f"{where}: traits must be an object")
        kwargs.update(traits=traits)
        if kind == "group":
            if not isinstance(group_id, str) or not group_id:
                raise ValueError(f"{where}: a group call needs a groupId")
            kwargs.update(group_id=group_id)
        return kind, kwargs
    raise ValueError(f"{where}: type must be 'track', 'identify' or 'group', got {kind!r}")


def _timestamp(value: Any, where: str) -> datetime:
    """ISO-8601 text (``…Z`` or ``…+00:00``) or a datetime, as an aware datetime (naive: UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{where}: timestamp is not ISO-8601: {value!r}") from exc
    else:
        raise ValueError(f"{where}: needs a timestamp (ISO-8601 text)")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
