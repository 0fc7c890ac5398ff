"""What the emulated Commerce endpoints share: an error answer with Commerce's message template and
parameters, and the JSON body decoding that produces its "Decoding error"."""

from __future__ import annotations

import json

MSG_DECODING = "Decoding error: %1"
MSG_REQUIRED = '"%fieldName" is required. Enter and try again.'
MSG_TYPE = 'The "%fieldName" value\'s type is invalid. The "%type" type was expected. Verify and try again.'


class CommerceError(Exception):
    """An answer other than 200: status, Commerce message template, parameters."""

    def __init__(self, status, message, parameters=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters

    def body(self):
        out = {"message": self.message}
        if self.parameters is not None:
            out["parameters"] = self.parameters
        return out

    def rendered(self):
        text = self.message
        if isinstance(self.parameters, list):
            for i, p in enumerate(self.parameters, 1):
                text = text.replace("%%%d" % i, str(p))
        elif isinstance(self.parameters, dict):
            for k, v in self.parameters.items():
                text = text.replace("%" + k, str(v))
        return text


def json_payload(raw):
    """The request body as JSON; CommerceError(400, "Decoding error") when it is not."""
    try:
        return json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommerceError(400, MSG_DECODING, [str(exc).split(":", maxsplit=1)[0]])
