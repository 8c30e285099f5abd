// GlyphError: the one error the client and the peers throw for a failed
// call, with the kinds of glyph's service.Kind.

/** The kind of each HTTP status (hyperhttp/spec.md, section 5). */
const kindByStatus = {
  400: "invalid",
  401: "unauthenticated",
  403: "permission_denied",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "too_large",
  415: "unsupported",
  499: "canceled",
  500: "internal",
  501: "unimplemented",
  503: "unavailable",
  504: "deadline_exceeded",
};

/** The kind of each peer error code and back (peer/spec.md, section 7). */
const kindByCode = {
  1: "canceled",
  2: "other",
  3: "invalid",
  4: "deadline_exceeded",
  5: "not_found",
  7: "permission_denied",
  8: "overloaded",
  9: "conflict",
  12: "unimplemented",
  13: "internal",
  14: "unavailable",
  16: "unauthenticated",
  20: "bad_frame",
  21: "method_not_allowed",
  22: "too_large",
  23: "unsupported",
};
const codeByKind = Object.fromEntries(Object.entries(kindByCode).map(([c, k]) => [k, Number(c)]));

/**
 * A failed call. kind is glyph's name for what went wrong ("not_found",
 * "invalid", ...); logref finds the failure in the server's log.
 */
export class GlyphError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {{logref?: string, status?: number, code?: number, op?: string, data?: any, cause?: unknown}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "GlyphError";
    this.kind = kind;
    this.logref = details.logref ?? "";
    this.status = details.status ?? 0;
    this.code = details.code ?? 0;
    this.op = details.op ?? "";
    this.data = details.data;
  }
}

/** The kind of an HTTP status. @param {number} status */
export function kindOfStatus(status) {
  return kindByStatus[status] ?? (status >= 500 ? "internal" : status >= 400 ? "invalid" : "other");
}

/** The kind of a peer error code. @param {number} code */
export function kindOfCode(code) {
  return kindByCode[code] ?? "other";
}

/** The peer error code of a kind (13, internal, for unknown ones). @param {string} kind */
export function codeOfKind(kind) {
  return codeByKind[kind] ?? 13;
}
