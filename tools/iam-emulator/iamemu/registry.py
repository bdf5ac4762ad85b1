"""The table of emulated actions, filled by the @action decorators in iam.py and sts.py."""

ACTIONS = {"iam": {}, "sts": {}}


class Action:
    def __init__(self, service, name, handler, fields, resource, condition_keys):
        self.service = service
        self.name = name
        self.permission = "%s:%s" % (service, name)
        self.handler = handler
        self.fields = fields
        self.resource = resource              # fn(req) -> ARN checked by authorization
        self.condition_keys = condition_keys  # fn(req) -> {condition key: value} or None


class Request:
    """One API call as seen by an action handler (which runs with the account lock held)."""

    def __init__(self, emulator, account, params, caller):
        self.emulator = emulator
        self.account = account
        self.params = params
        self.caller = caller

    @property
    def p(self):
        return self.params


def action(service, name, fields=(), resource=None, condition_keys=None):
    def register(fn):
        ACTIONS[service][name] = Action(service, name, fn, list(fields), resource, condition_keys)
        return fn
    return register
