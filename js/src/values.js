// The JavaScript forms of the glyph values that JavaScript lacks: floats
// that must stay floats, ordered dicts, datetimes with microseconds,
// durations and calendar periods, extensions and blobs.

/**
 * A float that must stay a float on the wire although its value is an
 * integer (1.0, -0.0): a plain number with an integral value encodes as an
 * integer. The decoder returns a Float for an integral float and a plain
 * number for any other float, so every value round-trips exactly.
 */
export class Float {
  /** @param {number} value */
  constructor(value) {
    this.value = Number(value);
  }
  valueOf() {
    return this.value;
  }
  toString() {
    return String(this.value);
  }
  toJSON() {
    return this.value;
  }
}

/** A dict that keeps its order: a Map encoded as an ordered dict (`O`). */
export class OrderedDict extends Map {}

/**
 * A datetime: a Date with the microseconds below its millisecond
 * (0 to 999), which a Date cannot hold. A plain Date encodes too.
 */
export class DateTime extends Date {
  /**
   * @param {number|string|Date} ms milliseconds since the epoch, or what Date takes
   * @param {number} [micros] microseconds past the millisecond, 0 to 999
   */
  constructor(ms, micros = 0) {
    super(ms instanceof Date ? ms.getTime() : ms);
    this.micros = micros;
  }
  /** The microseconds since the epoch, as a bigint. */
  get epochMicros() {
    return BigInt(this.getTime()) * 1000n + BigInt(this.micros);
  }
  /** @param {bigint} us microseconds since the epoch */
  static fromEpochMicros(us) {
    const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
    return new DateTime(Number(ms), Number(us - ms * 1000n));
  }
}

const NS = { D: 86400n * 10n ** 9n, H: 3600n * 10n ** 9n, M: 60n * 10n ** 9n, S: 10n ** 9n };

/**
 * A timedelta: years and months, which have no fixed length, and an exact
 * duration in nanoseconds (a day is 24 hours). All non-zero parts share
 * one sign. The parts are bigints.
 */
export class Duration {
  /** @param {{years?: bigint|number, months?: bigint|number, nanoseconds?: bigint|number}} [parts] */
  constructor({ years = 0n, months = 0n, nanoseconds = 0n } = {}) {
    this.years = BigInt(years);
    this.months = BigInt(months);
    this.nanoseconds = BigInt(nanoseconds);
  }
  /** @param {number} ms */
  static fromMilliseconds(ms) {
    return new Duration({ nanoseconds: BigInt(Math.round(ms * 1e6)) });
  }
  /** The exact part in milliseconds (years and months not counted). */
  get milliseconds() {
    return Number(this.nanoseconds) / 1e6;
  }
  /** The ISO 8601 form the encoder writes, such as P0Y0M3DT2H0M0S. */
  toString() {
    const neg = this.years < 0n || this.months < 0n || this.nanoseconds < 0n;
    const abs = (/** @type {bigint} */ x) => (x < 0n ? -x : x);
    let ns = abs(this.nanoseconds);
    const d = ns / NS.D;
    ns %= NS.D;
    const h = ns / NS.H;
    ns %= NS.H;
    const m = ns / NS.M;
    ns %= NS.M;
    const s = ns / NS.S;
    const frac = ns % NS.S;
    let sec = String(s);
    if (frac !== 0n) sec += "." + String(frac).padStart(9, "0").replace(/0+$/, "");
    return `${neg ? "-" : ""}P${abs(this.years)}Y${abs(this.months)}M${d}DT${h}H${m}M${sec}S`;
  }
}

/**
 * An extension `X name attrs content ;`. attrs is a plain object (a
 * dict with string keys), a Map or an OrderedDict. Unknown extensions
 * decode into an Extension and encode back unchanged; the hypermedia ones
 * into the subclasses below.
 */
export class Extension {
  /**
   * @param {string} name
   * @param {object|Map<any, any>} [attrs]
   * @param {any} [content]
   */
  constructor(name, attrs = {}, content = null) {
    this.name = name;
    this.attrs = attrs;
    this.content = content;
  }
  /** The attribute called key, or undefined. @param {string} key */
  attr(key) {
    const a = this.attrs;
    if (a instanceof Map) return a.get(key);
    return Object.prototype.hasOwnProperty.call(a, key) ? /** @type {any} */ (a)[key] : undefined;
  }
  /** Whether the attribute key is present. @param {string} key */
  hasAttr(key) {
    const a = this.attrs;
    return a instanceof Map ? a.has(key) : Object.prototype.hasOwnProperty.call(a, key);
  }
  /** The url attribute ("" when absent). */
  get url() {
    const u = this.attr("url");
    return typeof u === "string" ? u : "";
  }
}

/** A link: GET its url. */
export class Link extends Extension {}
/** A form: a callable with inputs. */
export class Form extends Extension {}
/** An input of a form: a name, a default value, a type. */
export class Input extends Extension {
  get inputName() {
    return String(this.attr("name") ?? "");
  }
}
/** A resource: a named object with data, links and forms in its content. */
export class Resource extends Extension {
  /** The resource's name attribute, such as its class ("User"). */
  get resourceName() {
    return String(this.attr("name") ?? "");
  }
}
/** An error answer: logref, message, code. */
export class ErrorExtension extends Extension {}

/** The Extension subclass for each extension name. */
export const extensionTypes = {
  link: Link,
  form: Form,
  input: Input,
  resource: Resource,
  error: ErrorExtension,
};

/** Makes the extension called name, of its class. */
export function makeExtension(name, attrs, content) {
  const C = Object.prototype.hasOwnProperty.call(extensionTypes, name) ? extensionTypes[name] : Extension;
  return new C(name, attrs, content);
}

/**
 * A blob: bytes with a content type and other attributes (such as url).
 * Its content travels in chunks after the message's root.
 */
export class GlyphBlob {
  /**
   * @param {Uint8Array|string} data the content; a string is UTF-8 encoded
   * @param {string} [contentType]
   * @param {Record<string, any>} [attrs] more attributes (url, ...)
   */
  constructor(data, contentType = "application/octet-stream", attrs = {}) {
    this.data = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.attrs = { ...attrs, "content-type": contentType };
  }
  get contentType() {
    return String(this.attrs["content-type"]);
  }
  get size() {
    return this.data.length;
  }
  /** The content decoded as UTF-8. */
  text() {
    return new TextDecoder().decode(this.data);
  }
}
