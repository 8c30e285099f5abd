// Decoding: any hyperglyph message the spec allows, bounded by limits,
// into JavaScript values.

import { DEFAULT_LIMITS, DecodeError, LimitError } from "./codec.js";
import { MAX_I64, identity, latin1 } from "./encode.js";
import { DateTime, Duration, Float, GlyphBlob, OrderedDict, makeExtension } from "./values.js";

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const isWS = (/** @type {number} */ c) => c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0d || c === 0x0a;
const isDigit = (/** @type {number} */ c) => c >= 0x30 && c <= 0x39;

/**
 * Decodes one hyperglyph message: a root object, then the chunks of its
 * blobs. Glyph values map to JavaScript values as encode says, with
 * these choices: an integer is a number when it is a safe integer, a
 * bigint otherwise; a float is a number, or a Float when its value is
 * integral (so it encodes back as a float); a dict is a plain object when
 * every key is a string, a Map otherwise; a datetime is a DateTime in UTC;
 * a timedelta a Duration.
 *
 * Bad input throws a DecodeError (a LimitError past a limit), never
 * anything else.
 *
 * @param {Uint8Array|ArrayBuffer|string} data a string is taken as UTF-8
 * @param {{limits?: Partial<typeof DEFAULT_LIMITS>}} [options] a negative limit means none
 */
export function decode(data, options = {}) {
  const d = new Decoder(toBytes(data), options.limits);
  try {
    return d.message();
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // A RangeError from an allocation or a runaway recursion of the
    // JavaScript engine: still a clear error, not a crash.
    throw new DecodeError(`cannot decode: ${e instanceof Error ? e.message : String(e)}`, d.pos);
  }
}

/** @param {Uint8Array|ArrayBuffer|string} data */
function toBytes(data) {
  if (typeof data === "string") return utf8.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

class Decoder {
  /** @param {Uint8Array} buf @param {Partial<typeof DEFAULT_LIMITS>} [limits] */
  constructor(buf, limits = {}) {
    this.buf = buf;
    this.pos = 0;
    this.depth = 0;
    /** @type {Record<string, number>} */
    this.limits = {};
    for (const [k, v] of Object.entries(DEFAULT_LIMITS)) {
      const x = limits[/** @type {keyof typeof DEFAULT_LIMITS} */ (k)];
      this.limits[k] = x === undefined || x === 0 ? v : x < 0 ? Infinity : x;
    }
    /** @type {Map<number, {blob: GlyphBlob, parts: Uint8Array[], ended: boolean}>} */
    this.blobs = new Map();
    this.blobBytes = 0;
    this.rootEnd = Infinity;
  }

  /** @param {string} msg @param {number} [at] */
  fail(msg, at = this.pos) {
    return new DecodeError(msg, at);
  }
  /** @param {string} limit @param {number} [at] */
  limit(limit, at = this.pos) {
    return new LimitError(limit, this.limits[limit], at);
  }
  /** @param {string} what */
  eof(what) {
    return this.fail(`unexpected end of input, expected ${what}`);
  }

  skipWS() {
    while (this.pos < this.buf.length && isWS(this.buf[this.pos])) this.pos++;
    return this.pos < this.buf.length;
  }

  message() {
    if (!this.skipWS()) throw this.eof("a value");
    const start = this.pos;
    this.rootEnd = start + this.limits.maxMessageBytes;
    const v = this.value();
    this.rootEnd = Infinity;
    this.trailers();
    return v;
  }

  /** Fails when the root would end past maxMessageBytes. @param {number} end */
  within(end) {
    if (end > this.rootEnd) throw this.limit("maxMessageBytes");
  }

  /** @returns {any} */
  value() {
    if (this.pos >= this.buf.length) throw this.eof("a value");
    const at = this.pos;
    const c = this.buf[this.pos++];
    switch (c) {
      case 0x4e: // N
        this.semicolon(at, "nil");
        return null;
      case 0x54: // T
        this.semicolon(at, "true");
        return true;
      case 0x46: // F
        this.semicolon(at, "false");
        return false;
      case 0x69: // i
        return this.integer(at);
      case 0x75: // u
        return this.unicode(at);
      case 0x62: // b
        return this.bytearray(at).slice();
      case 0x66: // f
        return this.float(at);
      case 0x64: // d
        return this.datetime(at);
      case 0x70: // p
        return this.timedelta(at);
      case 0x4c: // L
        return this.list();
      case 0x53: // S
        return this.set();
      case 0x44: // D
        return this.dict(at, false);
      case 0x4f: // O
        return this.dict(at, true);
      case 0x58: // X
        return this.extension(at);
      case 0x42: // B
        return this.blob(at);
    }
    throw this.fail(`unexpected byte ${describe(c)} where a value starts`, at);
  }

  /** @param {number} at @param {string} what */
  semicolon(at, what) {
    if (this.pos >= this.buf.length) throw this.eof(`';' after ${what}`);
    if (this.buf[this.pos] !== 0x3b) throw this.fail(`malformed ${what}`, at);
    this.pos++;
    this.within(this.pos);
  }

  /** The bytes up to the next ';', which is consumed. @param {string} what */
  token(what) {
    const i = this.buf.indexOf(0x3b, this.pos);
    if (i < 0) {
      this.within(this.buf.length);
      throw this.eof(`';' ending a ${what}`);
    }
    this.within(i + 1);
    const t = this.buf.subarray(this.pos, i);
    this.pos = i + 1;
    return latin1(t);
  }

  /** @param {number} at */
  integer(at) {
    const i = this.buf.indexOf(0x3b, this.pos);
    const end = i < 0 ? this.buf.length : i;
    let p = this.pos;
    let neg = false;
    if (p < end && (this.buf[p] === 0x2b || this.buf[p] === 0x2d)) neg = this.buf[p++] === 0x2d;
    const digitsStart = p;
    while (p < end && this.buf[p] === 0x30) p++;
    const sig = p;
    for (; p < end; p++) {
      if (!isDigit(this.buf[p])) throw this.fail("malformed integer", at);
      if (p - sig >= this.limits.maxIntegerDigits) throw this.limit("maxIntegerDigits", at);
    }
    if (end === digitsStart) throw i < 0 ? this.eof("digits") : this.fail("malformed integer", at);
    if (i < 0) throw this.eof("';' ending an integer");
    this.within(end + 1);
    this.pos = end + 1;
    const s = String.fromCharCode(...this.buf.subarray(sig, end)) || "0";
    if (s.length <= 15) return neg && s !== "0" ? -Number(s) : Number(s);
    const n = neg ? -BigInt(s) : BigInt(s);
    return n <= MAX_SAFE && n >= -MAX_SAFE ? Number(n) : n;
  }

  /** Reads `len:bytes;` or `;` after u or b. @param {number} at @param {string} what */
  lengthPrefixed(at, what) {
    if (this.pos >= this.buf.length) throw this.eof(`the length of a ${what}`);
    if (this.buf[this.pos] === 0x3b) {
      this.pos++;
      this.within(this.pos);
      return this.buf.subarray(0, 0);
    }
    const n = this.decimal(at, what);
    if (this.pos >= this.buf.length) throw this.eof(`':' in a ${what}`);
    if (this.buf[this.pos] !== 0x3a) throw this.fail(`malformed ${what} length`, at);
    this.pos++;
    if (n > this.limits.maxStringBytes) throw this.limit("maxStringBytes", at);
    this.within(this.pos + n + 1);
    if (this.pos + n >= this.buf.length) throw this.eof(`the ${n} bytes of a ${what} and ';'`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    if (this.buf[this.pos] !== 0x3b) throw this.fail(`${what} longer than its length ${n}`, at);
    this.pos++;
    return b;
  }

  /** A length or id: digits without sign or leading zeros. @param {number} at @param {string} what */
  decimal(at, what) {
    const start = this.pos;
    while (this.pos < this.buf.length && isDigit(this.buf[this.pos])) {
      this.pos++;
      if (this.pos - start > 15) throw this.fail(`${what}: number too long`, at);
    }
    if (this.pos === start) throw this.pos >= this.buf.length ? this.eof(`a number in a ${what}`) : this.fail(`malformed ${what}: expected digits`, at);
    if (this.buf[start] === 0x30 && this.pos - start > 1) throw this.fail(`malformed ${what}: leading zero`, at);
    return Number(String.fromCharCode(...this.buf.subarray(start, this.pos)));
  }

  /** @param {number} at */
  unicode(at) {
    const b = this.lengthPrefixed(at, "unicode");
    try {
      return utf8Strict.decode(b);
    } catch {
      throw this.fail("unicode that is not valid UTF-8", at);
    }
  }

  /** @param {number} at */
  bytearray(at) {
    return this.lengthPrefixed(at, "bytearray");
  }

  /** @param {number} at */
  float(at) {
    const t = this.token("float");
    const f = parseFloatToken(t);
    if (f === undefined) throw this.fail(`malformed float ${JSON.stringify(t.slice(0, 40))}`, at);
    return Number.isInteger(f) || Object.is(f, -0) ? new Float(f) : f;
  }

  /** @param {number} at */
  datetime(at) {
    const t = this.token("datetime");
    const d = parseDatetime(t);
    if (!d) throw this.fail(`malformed datetime ${JSON.stringify(t.slice(0, 40))}, expected YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, at);
    return d;
  }

  /** @param {number} at */
  timedelta(at) {
    const t = this.token("timedelta");
    const p = parsePeriod(t);
    if (!p) throw this.fail(`malformed or out of range timedelta ${JSON.stringify(t.slice(0, 40))}`, at);
    return p;
  }

  enter() {
    if (++this.depth > this.limits.maxDepth) throw this.limit("maxDepth");
  }

  /** The items up to ';'. @param {(n: number) => void} [each] */
  items() {
    this.enter();
    const out = [];
    for (;;) {
      if (!this.skipWS()) throw this.eof("an item or ';'");
      if (this.buf[this.pos] === 0x3b) {
        this.pos++;
        break;
      }
      if (out.length + 1 > this.limits.maxItems) throw this.limit("maxItems");
      out.push(this.value());
    }
    this.within(this.pos);
    this.depth--;
    return out;
  }

  list() {
    return this.items();
  }

  set() {
    const start = this.pos - 1;
    const items = this.items();
    const seen = new Set();
    for (const x of items) {
      const k = identity(x);
      if (seen.has(k)) throw this.fail("set has two equal items", start);
      seen.add(k);
    }
    return new Set(items);
  }

  /** @param {number} at @param {boolean} ordered */
  dict(at, ordered) {
    this.enter();
    const keys = [];
    const vals = [];
    for (;;) {
      if (!this.skipWS()) throw this.eof("a key or ';'");
      if (this.buf[this.pos] === 0x3b) {
        this.pos++;
        break;
      }
      if (keys.length + 1 > this.limits.maxItems) throw this.limit("maxItems");
      keys.push(this.value());
      if (!this.skipWS()) throw this.eof("a value");
      if (this.buf[this.pos] === 0x3b) throw this.fail("dict with a key but no value", at);
      vals.push(this.value());
    }
    this.within(this.pos);
    this.depth--;
    const seen = new Set();
    for (const k of keys) {
      const id = identity(k);
      if (seen.has(id)) throw this.fail("dict has two equal keys", at);
      seen.add(id);
    }
    if (ordered) {
      const m = new OrderedDict();
      keys.forEach((k, i) => m.set(k, vals[i]));
      return m;
    }
    if (keys.every((k) => typeof k === "string")) {
      const o = {};
      keys.forEach((k, i) => setOwn(o, k, vals[i]));
      return o;
    }
    const m = new Map();
    keys.forEach((k, i) => m.set(k, vals[i]));
    return m;
  }

  /** @param {number} at */
  extension(at) {
    this.enter();
    this.skipWS();
    if (this.pos >= this.buf.length) throw this.eof("an extension's name");
    if (this.buf[this.pos] !== 0x75) throw this.fail("extension name is not a unicode", at);
    const name = this.value();
    this.skipWS();
    if (this.pos >= this.buf.length) throw this.eof("an extension's attributes");
    const c = this.buf[this.pos];
    if (c !== 0x44 && c !== 0x4f) throw this.fail("extension attributes are not a dict", at);
    const attrs = this.value();
    if (!this.skipWS()) throw this.eof("an extension's content");
    if (this.buf[this.pos] === 0x3b) throw this.fail("extension without content", at);
    const content = this.value();
    if (!this.skipWS()) throw this.eof("';' ending an extension");
    if (this.buf[this.pos] !== 0x3b) throw this.fail("extension with more than a content", at);
    this.pos++;
    this.within(this.pos);
    this.depth--;
    return makeExtension(name, attrs, content);
  }

  /** @param {number} at */
  blob(at) {
    const id = this.decimal(at, "blob id");
    if (this.pos >= this.buf.length) throw this.eof("':' in a blob");
    if (this.buf[this.pos] !== 0x3a) throw this.fail("malformed blob", at);
    this.pos++;
    if (this.pos >= this.buf.length) throw this.eof("a blob's attributes");
    const c = this.buf[this.pos];
    if (c !== 0x44 && c !== 0x4f) throw this.fail("blob attributes are not a dict", at);
    const attrs = this.value();
    if (attrs instanceof Map && !(attrs instanceof OrderedDict)) throw this.fail("blob attribute keys are not all unicode", at);
    const plain = attrs instanceof OrderedDict ? Object.fromEntries(attrs) : attrs;
    if (attrs instanceof OrderedDict && [...attrs.keys()].some((k) => typeof k !== "string")) throw this.fail("blob attribute keys are not all unicode", at);
    if (typeof plain["content-type"] !== "string" || plain["content-type"] === "") throw this.fail("blob without a unicode content-type", at);
    this.semicolon(at, "blob");
    if (this.blobs.has(id)) throw this.fail(`two blobs with id ${id}`, at);
    if (this.blobs.size + 1 > this.limits.maxBlobs) throw this.limit("maxBlobs", at);
    const b = new GlyphBlob(new Uint8Array(0), plain["content-type"], plain);
    this.blobs.set(id, { blob: b, parts: [], ended: false });
    return b;
  }

  trailers() {
    let open = this.blobs.size;
    for (;;) {
      if (!this.skipWS()) break;
      const at = this.pos;
      if (this.buf[this.pos] !== 0x63) throw this.fail(`unexpected byte ${describe(this.buf[this.pos])} after the message`, at);
      this.pos++;
      const id = this.decimal(at, "chunk");
      const rec = this.blobs.get(id);
      if (!rec || rec.ended) throw this.fail(rec ? `chunk for blob ${id} after its end` : `chunk for blob ${id}, which the message does not have`, at);
      if (this.pos >= this.buf.length) throw this.eof("the rest of a chunk");
      if (this.buf[this.pos] === 0x3b) {
        this.pos++;
        rec.ended = true;
        open--;
        continue;
      }
      if (this.buf[this.pos] !== 0x3a) throw this.fail("malformed chunk", at);
      this.pos++;
      const n = this.decimal(at, "chunk length");
      if (this.pos >= this.buf.length) throw this.eof("':' in a chunk");
      if (this.buf[this.pos] !== 0x3a) throw this.fail("malformed chunk", at);
      this.pos++;
      this.blobBytes += n;
      if (this.blobBytes > this.limits.maxBlobBytes) throw this.limit("maxBlobBytes", at);
      if (this.pos + n >= this.buf.length) throw this.eof(`the ${n} bytes of a chunk and ';'`);
      rec.parts.push(this.buf.subarray(this.pos, this.pos + n));
      this.pos += n;
      if (this.buf[this.pos] !== 0x3b) throw this.fail(`chunk longer than its length ${n}`, at);
      this.pos++;
    }
    if (open > 0) throw this.eof("the end chunk of every blob");
    for (const rec of this.blobs.values()) {
      const total = rec.parts.reduce((n, p) => n + p.length, 0);
      const data = new Uint8Array(total);
      let off = 0;
      for (const p of rec.parts) {
        data.set(p, off);
        off += p.length;
      }
      rec.blob.data = data;
    }
  }
}

/** Sets o[k] = v, even for k "__proto__". */
function setOwn(o, k, v) {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** @param {number} c */
function describe(c) {
  return c >= 0x21 && c <= 0x7e ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, "0")}`;
}

const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const DEC_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const NAMED_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Parses a float token as package wire does; undefined when malformed.
 * @param {string} t
 */
export function parseFloatToken(t) {
  let m = NAMED_FLOAT.exec(t);
  if (m) return m[2].toLowerCase() === "nan" ? NaN : m[1] === "-" ? -Infinity : Infinity;
  m = HEX_FLOAT.exec(t);
  if (m) {
    const [, sign, int, frac = ""] = m;
    if (int.length + frac.length === 0) return undefined;
    let exp = m[4] === undefined ? 0 : Number(m[4]);
    if (!Number.isFinite(exp) || Math.abs(exp) > 1e7) exp = Math.sign(exp) * 1e7;
    const v = hexToFloat(BigInt("0x" + (int + frac || "0")), exp - 4 * frac.length);
    return sign === "-" ? -v : v;
  }
  if (DEC_FLOAT.test(t)) return Number(t);
  return undefined;
}

/** The float nearest to m·2^e, ties to even. @param {bigint} m @param {number} e */
function hexToFloat(m, e) {
  if (m === 0n) return 0;
  const L = m.toString(2).length;
  const top = L - 1 + e;
  if (top > 1023) return Infinity;
  let p = top >= -1022 ? 53 : 53 - (-1022 - top);
  if (p < 0) p = 0;
  const shift = L - p;
  if (shift > 0) {
    const s = BigInt(shift);
    let q = m >> s;
    const r = m - (q << s);
    const half = 1n << (s - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
    m = q;
    e += shift;
  }
  let x = Number(m);
  while (e > 0) {
    const step = Math.min(e, 1000);
    x *= 2 ** step;
    e -= step;
  }
  while (e < 0) {
    const step = Math.max(e, -1000);
    x *= 2 ** step;
    e -= step;
  }
  return x;
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{0,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** @param {string} t */
function parseDatetime(t) {
  const m = DATETIME.exec(t);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const frac = (m[7] ?? "").padEnd(9, "0");
  const micros = Number(frac.slice(0, 6));
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCDate() !== d) return undefined;
  let ms = date.getTime();
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    ms -= (m[9] === "-" ? -1 : 1) * (oh * 3600 + om * 60) * 1000;
  }
  const out = new DateTime(ms + Math.floor(micros / 1000), micros % 1000);
  const year = out.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  return out;
}

const UNIT_NS = { W: 7n * 86400n * 10n ** 9n, D: 86400n * 10n ** 9n, H: 3600n * 10n ** 9n, M: 60n * 10n ** 9n, S: 10n ** 9n };

/** Parses an ISO 8601 period as package wire does. @param {string} t */
function parsePeriod(t) {
  let s = t;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s.length < 2 || s[0] !== "P") return undefined;
  s = s.slice(1);
  const limit = neg ? MAX_I64 + 1n : MAX_I64;
  let years = 0n;
  let months = 0n;
  let total = 0n;
  let inTime = false;
  let parts = 0;
  let order = 0;
  const re = /^([0-9]+)(?:\.([0-9]+))?([A-Z])/;
  while (s.length > 0) {
    if (s[0] === "T") {
      if (inTime) return undefined;
      inTime = true;
      s = s.slice(1);
      if (s.length === 0) return undefined;
      continue;
    }
    const m = re.exec(s);
    if (!m) return undefined;
    s = s.slice(m[0].length);
    const v = BigInt(m[1]);
    if (v > MAX_I64) return undefined;
    const unit = m[3];
    if (m[2] !== undefined && !(inTime && unit === "S")) return undefined;
    let rank;
    if (!inTime && unit === "Y") [rank, years] = [1, v];
    else if (!inTime && unit === "M") [rank, months] = [2, v];
    else if (!inTime && unit === "W") [rank, total] = [3, total + v * UNIT_NS.W];
    else if (!inTime && unit === "D") [rank, total] = [4, total + v * UNIT_NS.D];
    else if (inTime && unit === "H") [rank, total] = [5, total + v * UNIT_NS.H];
    else if (inTime && unit === "M") [rank, total] = [6, total + v * UNIT_NS.M];
    else if (inTime && unit === "S") [rank, total] = [7, total + v * UNIT_NS.S + BigInt((m[2] ?? "").padEnd(9, "0").slice(0, 9) || "0")];
    else return undefined;
    if (total > limit || rank <= order) return undefined;
    order = rank;
    parts++;
  }
  if (parts === 0) return undefined;
  return neg ? new Duration({ years: -years, months: -months, nanoseconds: -total }) : new Duration({ years, months, nanoseconds: total });
}
