// Encoding: the canonical hyperglyph form of a JavaScript value
// (wire/spec.md, section 2).

import { UnsupportedValueError } from "./codec.js";
import { DateTime, Duration, Extension, Float, GlyphBlob, OrderedDict } from "./values.js";

const utf8 = new TextEncoder();
export const MAX_I64 = (1n << 63n) - 1n;

/** A growable byte buffer with the blobs written into it. */
class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.len = 0;
    /** @type {{blob: GlyphBlob, at: number, digits: number}[]} */
    this.blobs = [];
    /** @type {Set<object>} the containers being encoded, to refuse cycles */
    this.path = new Set();
    /** encoding for comparison: each blob gets a number of its own */
    this.identity = false;
  }
  /** @param {number} n */
  room(n) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  /** @param {number} c */
  byte(c) {
    this.room(1);
    this.buf[this.len++] = c;
  }
  /** @param {Uint8Array} b */
  bytes(b) {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** @param {string} s ASCII */
  ascii(s) {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }
}

/**
 * Compares two encoded keys as the canonical order says: two unicode or
 * two bytearray values by their content, anything else by its bytes.
 * @param {Uint8Array} a @param {Uint8Array} b
 */
export function compareKeys(a, b) {
  if (a.length > 0 && b.length > 0 && a[0] === b[0] && (a[0] === 0x75 || a[0] === 0x62)) {
    a = lenContent(a);
    b = lenContent(b);
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** @param {Uint8Array} p */
function lenContent(p) {
  if (p.length < 2 || p[1] === 0x3b) return p.subarray(0, 0);
  const i = p.indexOf(0x3a);
  return i < 0 ? p : p.subarray(i + 1, p.length - 1);
}

/**
 * Returns the canonical hyperglyph encoding of value, with the chunks of
 * its blobs after the root.
 *
 * JavaScript values map to glyph values so: null and undefined → nil;
 * booleans; a number with an integral value (not -0) → integer, any other
 * number → float; bigint → integer; Float → float; string → unicode
 * (NFC); Uint8Array and ArrayBuffer → bytearray; Array → list; Set → set;
 * OrderedDict → ordered dict; Map and plain objects → dict; Date and
 * DateTime → datetime; Duration → timedelta; Extension → extension;
 * GlyphBlob → blob.
 *
 * @param {any} value
 * @param {{chunkSize?: number}} [options] largest chunk of blob content (64 KiB)
 * @returns {Uint8Array}
 */
export function encode(value, options = {}) {
  const w = new Writer();
  encodeValue(w, value, 0);
  const chunkSize = options.chunkSize ?? 64 * 1024;
  if (w.blobs.length === 0) return w.buf.slice(0, w.len);
  // Blob ids are numbered in order of appearance in the root, after
  // sorting moved entries around.
  w.blobs.sort((a, b) => a.at - b.at);
  const out = new Writer();
  let prev = 0;
  w.blobs.forEach((b, id) => {
    out.bytes(w.buf.subarray(prev, b.at));
    out.ascii(String(id));
    prev = b.at + b.digits;
  });
  out.bytes(w.buf.subarray(prev, w.len));
  w.blobs.forEach((b, id) => {
    const data = b.blob.data;
    for (let off = 0; off < data.length; off += chunkSize) {
      const part = data.subarray(off, off + chunkSize);
      out.ascii(`c${id}:${part.length}:`);
      out.bytes(part);
      out.byte(0x3b);
    }
    out.ascii(`c${id};`);
  });
  return out.buf.slice(0, out.len);
}

/** How deep encode nests (a decoder takes 256 by default). */
const MAX_DEPTH_ENCODE = 1000;

/** @param {Writer} w @param {any} v @param {number} depth */
function encodeValue(w, v, depth) {
  if (depth > MAX_DEPTH_ENCODE) throw new UnsupportedValueError(`a value nested deeper than ${MAX_DEPTH_ENCODE}`);
  switch (typeof v) {
    case "undefined":
      w.ascii("N;");
      return;
    case "boolean":
      w.ascii(v ? "T;" : "F;");
      return;
    case "number":
      if (Number.isInteger(v) && !Object.is(v, -0)) w.ascii(`i${BigInt(v)};`);
      else encodeFloat(w, v);
      return;
    case "bigint":
      w.ascii(`i${v};`);
      return;
    case "string":
      encodeString(w, v);
      return;
    case "object":
      break;
    default:
      throw new UnsupportedValueError(`a ${typeof v}`);
  }
  if (v === null) {
    w.ascii("N;");
    return;
  }
  if (v instanceof Float) return encodeFloat(w, v.value);
  if (v instanceof Uint8Array) return encodeBytes(w, v);
  if (v instanceof ArrayBuffer) return encodeBytes(w, new Uint8Array(v));
  if (v instanceof Date) return encodeDate(w, v);
  if (v instanceof Duration) return encodeDuration(w, v);
  if (v instanceof GlyphBlob) return encodeBlob(w, v, depth);
  if (w.path.has(v)) throw new UnsupportedValueError("a cyclic value");
  w.path.add(v);
  try {
    if (Array.isArray(v)) {
      w.byte(0x4c);
      for (const x of v) encodeValue(w, x, depth + 1);
      w.byte(0x3b);
    } else if (v instanceof Set) {
      w.byte(0x53);
      const spans = [];
      for (const x of v) {
        const start = w.len;
        encodeValue(w, x, depth + 1);
        spans.push([start, w.len, w.len]);
      }
      sortSpans(w, spans, "set");
      w.byte(0x3b);
    } else if (v instanceof OrderedDict) {
      w.byte(0x4f);
      for (const [k, x] of v) {
        encodeValue(w, k, depth + 1);
        encodeValue(w, x, depth + 1);
      }
      w.byte(0x3b);
    } else if (v instanceof Map) {
      encodeDict(w, v.entries(), depth);
    } else if (v instanceof Extension) {
      w.byte(0x58);
      if (typeof v.name !== "string") throw new UnsupportedValueError("an extension whose name is not a string");
      encodeString(w, v.name);
      const a = v.attrs ?? {};
      if (a instanceof OrderedDict || a instanceof Map || isPlainObject(a)) encodeValue(w, a, depth + 1);
      else throw new UnsupportedValueError(`extension ${v.name}: attrs that are not a dict`);
      encodeValue(w, v.content, depth + 1);
      w.byte(0x3b);
    } else if (isPlainObject(v)) {
      encodeDict(w, Object.entries(v), depth);
    } else {
      throw new UnsupportedValueError(`a ${v.constructor?.name ?? "object"}`);
    }
  } finally {
    w.path.delete(v);
  }
}

/** @param {any} v */
function isPlainObject(v) {
  if (v === null || typeof v !== "object") return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** @param {Writer} w @param {Iterable<[any, any]>} entries @param {number} depth */
function encodeDict(w, entries, depth) {
  w.byte(0x44);
  const spans = [];
  for (const [k, x] of entries) {
    const start = w.len;
    encodeValue(w, k, depth + 1);
    const keyEnd = w.len;
    encodeValue(w, x, depth + 1);
    spans.push([start, keyEnd, w.len]);
  }
  sortSpans(w, spans, "dict");
  w.byte(0x3b);
}

/**
 * Reorders the entries written at spans (start, keyEnd, end) into
 * canonical order, moving the blobs among them, and refuses equal keys.
 * @param {Writer} w @param {number[][]} spans @param {string} what
 */
function sortSpans(w, spans, what) {
  if (spans.length < 2) return;
  const key = (/** @type {number[]} */ s) => w.buf.subarray(s[0], s[1]);
  const cmp = (/** @type {number[]} */ a, /** @type {number[]} */ b) => compareKeys(key(a), key(b));
  const sorted = spans.slice().sort(cmp);
  // -0 and 0 differ in bytes but are equal as keys and set items.
  const zeros = spans.filter((s) => {
    const k = latin1(key(s));
    return k === "f0x0p+00;" || k === "f-0x0p+00;";
  });
  if (zeros.length > 1) throw new UnsupportedValueError(`a ${what} with two equal ${what === "set" ? "items" : "keys"} "f0x0p+00;"`);
  for (let i = 1; i < sorted.length; i++) {
    if (cmp(sorted[i - 1], sorted[i]) === 0) {
      const k = new TextDecoder().decode(key(sorted[i])).slice(0, 40);
      throw new UnsupportedValueError(`a ${what} with two equal ${what === "set" ? "items" : "keys"} ${JSON.stringify(k)}`);
    }
  }
  if (sorted.every((s, i) => s === spans[i])) return;
  const base = spans[0][0];
  const old = w.buf.slice(base, w.len);
  let pos = base;
  const moved = new Map(); // old start → new start
  for (const s of sorted) {
    w.buf.set(old.subarray(s[0] - base, s[2] - base), pos);
    moved.set(s[0], pos);
    pos += s[2] - s[0];
  }
  for (const b of w.blobs) {
    if (b.at < base) continue;
    const s = spans.find((s) => b.at >= s[0] && b.at < s[2]);
    if (s) b.at = /** @type {number} */ (moved.get(s[0])) + (b.at - s[0]);
  }
}

/** @param {Writer} w @param {string} s */
function encodeString(w, s) {
  if (!isWellFormed(s)) throw new UnsupportedValueError("a string with a lone surrogate");
  const b = utf8.encode(s.normalize("NFC"));
  if (b.length === 0) w.ascii("u;");
  else {
    w.ascii(`u${b.length}:`);
    w.bytes(b);
    w.byte(0x3b);
  }
}

/** @param {string} s */
function isWellFormed(s) {
  // @ts-ignore: String.prototype.isWellFormed is in Node 20 and current browsers
  if (typeof s.isWellFormed === "function") return s.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** @param {Writer} w @param {Uint8Array} b */
function encodeBytes(w, b) {
  if (b.length === 0) w.ascii("b;");
  else {
    w.ascii(`b${b.length}:`);
    w.bytes(b);
    w.byte(0x3b);
  }
}

/** @param {Writer} w @param {number} f */
function encodeFloat(w, f) {
  w.ascii(`f${formatFloat(f)};`);
}

/**
 * Formats f as Go's strconv.FormatFloat(f, 'x', -1, 64) does, or inf,
 * -inf, nan.
 * @param {number} f
 */
export function formatFloat(f) {
  if (Number.isNaN(f)) return "nan";
  if (f === Infinity) return "inf";
  if (f === -Infinity) return "-inf";
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, f);
  const bits = dv.getBigUint64(0);
  const sign = bits >> 63n ? "-" : "";
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0 && mant === 0n) return `${sign}0x0p+00`;
  if (exp === 0) {
    exp = -1022;
    while ((mant & (1n << 52n)) === 0n) {
      mant <<= 1n;
      exp--;
    }
    mant &= (1n << 52n) - 1n;
  } else {
    exp -= 1023;
  }
  const hex = mant.toString(16).padStart(13, "0").replace(/0+$/, "");
  const e = Math.abs(exp);
  return `${sign}0x1${hex ? "." + hex : ""}p${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
}

const pad = (/** @type {number} */ n, /** @type {number} */ w) => String(n).padStart(w, "0");

/** @param {Writer} w @param {Date} d */
function encodeDate(w, d) {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new UnsupportedValueError("an invalid Date");
  const micros = d instanceof DateTime ? d.micros : 0;
  if (!Number.isInteger(micros) || micros < 0 || micros > 999) throw new UnsupportedValueError("a DateTime whose micros are not 0 to 999");
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new UnsupportedValueError(`a datetime in year ${y}, outside 0000-9999`);
  w.ascii(
    `d${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:` +
      `${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds() * 1000 + micros, 6)}Z;`,
  );
}

/** @param {Writer} w @param {Duration} p */
function encodeDuration(w, p) {
  const parts = [p.years, p.months, p.nanoseconds];
  if (parts.some((x) => x > 0n) && parts.some((x) => x < 0n)) throw new UnsupportedValueError("a period that mixes positive and negative parts");
  if (parts.some((x) => x > MAX_I64 || x < -MAX_I64 - 1n) || p.years === -MAX_I64 - 1n || p.months === -MAX_I64 - 1n) {
    throw new UnsupportedValueError("a period out of range");
  }
  w.ascii(`p${p.toString()};`);
}

/** @param {Writer} w @param {GlyphBlob} b @param {number} depth */
function encodeBlob(w, b, depth) {
  w.byte(0x42);
  let n = w.blobs.length;
  if (w.identity) {
    if (!blobNumbers.has(b)) blobNumbers.set(b, blobCount++);
    n = blobNumbers.get(b);
  }
  const id = String(n);
  w.blobs.push({ blob: b, at: w.len, digits: id.length });
  w.ascii(id + ":");
  const attrs = { ...b.attrs };
  if (typeof attrs["content-type"] !== "string" || attrs["content-type"] === "") attrs["content-type"] = "application/octet-stream";
  encodeDict(w, Object.entries(attrs), depth);
  w.byte(0x3b);
}

/** A string that is equal for equal glyph values: their canonical encoding. @param {any} v */
export function identity(v) {
  if (typeof v === "string") return "u" + v.normalize("NFC");
  const w = new Writer();
  w.identity = true;
  try {
    encodeValue(w, v, 0);
  } catch {
    return v; // cannot be equal to another value
  }
  const id = latin1(w.buf.subarray(0, w.len));
  // As keys and set items -0 and 0 are equal, as in a Go map.
  return id === "f-0x0p+00;" ? "f0x0p+00;" : id;
}

/** Blob numbers for comparing values: a blob equals only itself. */
const blobNumbers = new WeakMap();
let blobCount = 0;

/** The bytes b as a string of the same char codes. @param {Uint8Array} b */
export function latin1(b) {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

