"""Injectable faults, set by command-line flags at start and through POST /_emulator/faults at run time."""
import random
import threading
import time

from .wire import AwsError

# Settings and their types; the admin API accepts exactly these keys (plus "reset").
SETTINGS = {
    "latency_ms": int,                   # added to every API call
    "latency_actions": dict,             # {"CreateUser": 200}: extra latency per action
    "throttle_every": int,               # every Nth API call answers Throttling
    "rate_limit": float,                 # calls per second (token bucket, burst = 1 s); beyond: Throttling
    "error_rate": float,                 # probability of 500 ServiceFailure
    "throttle_actions": dict,            # {"CreateUser": 3}: throttle the next 3 calls of that action
    "fail_actions": dict,                # {"AttachUserPolicy": 1} or {"X": {"count": 1, "code": "...", ...}}
    "drop_actions": dict,                # {"CreateAccessKey": 1}: close the connection without answering
    "propagation_delay_ms": int,         # new access keys answer InvalidClientTokenId for this long
    "user_propagation_delay_ms": int,    # new users answer NoSuchEntity to reads for this long
}


class DropConnection(Exception):
    """Raised to make the HTTP layer close the connection without a response."""


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._calls = 0
        self._tokens = 0.0
        self._last_refill = time.monotonic()
        self._random = random.Random()
        self.reset()

    def reset(self):
        with self._lock:
            self.latency_ms = 0
            self.latency_actions = {}
            self.throttle_every = 0
            self.rate_limit = 0.0
            self.error_rate = 0.0
            self.throttle_actions = {}
            self.fail_actions = {}
            self.drop_actions = {}
            self.propagation_delay_ms = 0
            self.user_propagation_delay_ms = 0
            self._calls = 0

    def update(self, changes):
        """Apply a dict of settings (admin API / flags). Unknown keys or bad types raise ValueError."""
        if changes.get("reset"):
            self.reset()
        with self._lock:
            for key, value in changes.items():
                if key == "reset":
                    continue
                kind = SETTINGS.get(key)
                if kind is None:
                    raise ValueError("unknown fault setting %r (known: %s)" % (key, ", ".join(sorted(SETTINGS))))
                if kind is dict:
                    entries = getattr(self, key)
                    if value is None:  # null clears the whole table
                        entries.clear()
                        continue
                    if not isinstance(value, dict):
                        raise ValueError("%s must be an object" % key)
                    entries.update(value)
                    for action in [a for a, n in entries.items() if not n]:
                        del entries[action]  # 0 / null removes one entry
                else:
                    setattr(self, key, kind(value or 0))
                if key == "rate_limit":
                    self._tokens = float(value or 0)
                    self._last_refill = time.monotonic()
                if key == "throttle_every":
                    self._calls = 0

    def snapshot(self):
        with self._lock:
            return {k: (dict(getattr(self, k)) if SETTINGS[k] is dict else getattr(self, k)) for k in SETTINGS}

    def latency_for(self, action):
        """Seconds to sleep before answering `action` (the caller sleeps without holding any lock)."""
        ms = self.latency_ms + int(self.latency_actions.get(action, 0) or 0)
        return ms / 1000.0

    def check(self, action):
        """Raise the fault, if any, that this call of `action` should get."""
        with self._lock:
            self._calls += 1
            if self.drop_actions.get(action):
                self.drop_actions[action] -= 1
                if not self.drop_actions[action]:
                    del self.drop_actions[action]
                raise DropConnection()
            if self.throttle_actions.get(action):
                self.throttle_actions[action] -= 1
                if not self.throttle_actions[action]:
                    del self.throttle_actions[action]
                raise throttling()
            failure = self.fail_actions.get(action)
            if failure:
                spec = failure if isinstance(failure, dict) else {"count": int(failure)}
                remaining = int(spec.get("count", 1)) - 1
                if remaining > 0:
                    self.fail_actions[action] = dict(spec, count=remaining)
                else:
                    del self.fail_actions[action]
                raise AwsError(spec.get("code", "ServiceFailure"),
                               spec.get("message", "Request processing has failed due to an unknown error, "
                                                   "exception or failure."),
                               spec.get("status"))
            if self.throttle_every and self._calls % self.throttle_every == 0:
                raise throttling()
            if self.rate_limit > 0:
                now = time.monotonic()
                self._tokens = min(self.rate_limit, self._tokens + (now - self._last_refill) * self.rate_limit)
                self._last_refill = now
                if self._tokens < 1.0:
                    raise throttling()
                self._tokens -= 1.0
            if self.error_rate and self._random.random() < self.error_rate:
                raise AwsError("ServiceFailure", "Request processing has failed due to an unknown error, "
                                                 "exception or failure.")


def throttling():
    return AwsError("Throttling", "Rate exceeded")
