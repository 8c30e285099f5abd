// The hyperglyph encoding (wire/spec.md): the media type, the decoder's
// limits and the codec's errors; encode.js writes the canonical form,
// decode.js reads every form the spec allows.

/** The media type of hyperglyph. */
export const MEDIA_TYPE = "application/vnd.hyperglyph";

/** The decoder's default limits, as package wire's. */
export const DEFAULT_LIMITS = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxDepth: 256,
  maxItems: 1024 * 1024,
  maxStringBytes: 16 * 1024 * 1024,
  maxIntegerDigits: 4096,
  maxBlobs: 1024,
  maxBlobBytes: 64 * 1024 * 1024 * 1024,
});

/** Input that is not valid hyperglyph. offset is the byte where it went wrong. */
export class DecodeError extends Error {
  /** @param {string} message @param {number} offset */
  constructor(message, offset) {
    super(`glyph: ${message} at byte ${offset}`);
    this.name = "DecodeError";
    this.offset = offset;
  }
}

/** Input past one of the decoder's limits; limit names it (maxDepth, ...). */
export class LimitError extends DecodeError {
  /** @param {string} limit @param {number} max @param {number} offset */
  constructor(limit, max, offset) {
    super(`${limit} of ${max} exceeded`, offset);
    this.name = "LimitError";
    this.limit = limit;
  }
}

/** A value encode cannot write (a function, a cycle, a lone surrogate, ...). */
export class UnsupportedValueError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(`glyph: cannot encode ${message}`);
    this.name = "UnsupportedValueError";
  }
}

export { encode, compareKeys, formatFloat } from "./encode.js";
export { decode, parseFloatToken } from "./decode.js";
