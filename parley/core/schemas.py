from ninja import Schema


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Schema):
    """Every API error has this shape, with the matching HTTP status."""

    error: ErrorDetail


# The statuses PRODUCT.md names; ninja documents each with ErrorOut.
ERRORS = {frozenset({400, 401, 403, 404, 409, 413, 422, 429}): ErrorOut}

# A GET whose answer carries an ETag (its own, or ConditionalGetMiddleware's) answers 304,
# with no body, to a client that sends that ETag back in If-None-Match.
NOT_MODIFIED = {304: None}
