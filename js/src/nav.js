// Navigation: the links, forms and resources of a page know where they
// came from (their base URL and the transport that fetched them), so a
// caller follows and calls them without building a URL.

import { GlyphError } from "./errors.js";
import { Extension, Form, GlyphBlob, Input, Link, OrderedDict, Resource } from "./values.js";

/**
 * What a transport does for navigation: HTTP (client.js) and peers
 * (peer.js) each implement it.
 * @typedef {object} Navigator
 * @property {(base: string, url: string) => string} resolve the URL url names, read on a page from base
 * @property {(link: Link, opts?: CallOptions) => Promise<any>} follow GET a link
 * @property {(form: Form, args: OrderedDict, given: Set<string>, opts?: CallOptions) => Promise<any>} submit call a form
 * @property {((form: Form, args: OrderedDict, given: Set<string>, opts?: CallOptions) => AsyncIterable<any>)} [submitStream] call a form whose results stream
 */

/** @typedef {{signal?: AbortSignal, headers?: Record<string, string>}} CallOptions */

const NAV = Symbol("glyph.navigator");
const HREF = Symbol("glyph.href");

/**
 * Marks every link, form and resource in v with the transport nav and
 * its URL resolved against base (an extension with a url is the base of
 * its content; its attributes resolve against the outer base). Returns v.
 * @template T
 * @param {T} v @param {string} base @param {Navigator} nav
 * @returns {T}
 */
export function attach(v, base, nav) {
  walk(v, base, nav, 0);
  return v;
}

/** @param {any} v @param {string} base @param {Navigator} nav @param {number} depth */
function walk(v, base, nav, depth) {
  if (v === null || typeof v !== "object" || depth > 512) return;
  if (v instanceof Extension) {
    const href = v.url ? nav.resolve(base, v.url) : base;
    if (v instanceof Link || v instanceof Form || v instanceof Resource) {
      Object.defineProperty(v, NAV, { value: nav, configurable: true });
      Object.defineProperty(v, HREF, { value: href, configurable: true });
    }
    walkAll(v.attrs instanceof Map ? v.attrs.values() : Object.values(v.attrs ?? {}), base, nav, depth);
    walk(v.content, href, nav, depth + 1);
    return;
  }
  if (Array.isArray(v) || v instanceof Set) walkAll(v, base, nav, depth);
  else if (v instanceof Map) walkAll(v.values(), base, nav, depth);
  else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) walkAll(Object.values(v), base, nav, depth);
}

/** @param {Iterable<any>} xs @param {string} base @param {Navigator} nav @param {number} depth */
function walkAll(xs, base, nav, depth) {
  for (const x of xs) walk(x, base, nav, depth + 1);
}

/** @param {Extension} x */
function navOf(x) {
  const nav = /** @type {Navigator|undefined} */ (/** @type {any} */ (x)[NAV]);
  if (!nav) throw new GlyphError("invalid", `this ${x.name} came from no client: get it with a Client or a Peer to call it`);
  return nav;
}

/** The absolute URL of a link, form or resource that came from a client; its url attribute otherwise. @param {Extension} x */
export function hrefOf(x) {
  return /** @type {any} */ (x)[HREF] ?? x.url;
}

/**
 * Binds args to the inputs of form: an array binds by position, an
 * object (or Map) by name; inputs not given take their default (an
 * input's value attribute); a required input missing, an unknown name or
 * too many arguments is an error before any request.
 * @param {Form} form @param {any[]|Record<string, any>|Map<string, any>|null|undefined} args
 * @returns {{args: OrderedDict, given: Set<string>}}
 */
export function bindArgs(form, args) {
  const values = form.attr("values") ?? [];
  const inputs = (Array.isArray(values) ? values : []).map((x) => {
    if (typeof x === "string") return { name: x, has: false, value: undefined };
    if (x instanceof Input) return { name: x.inputName, has: x.hasAttr("value"), value: x.attr("value") };
    return { name: String(x), has: false, value: undefined };
  });
  const op = hrefOf(form);
  /** @type {Map<string, any>} */
  const named = new Map();
  if (Array.isArray(args)) {
    if (args.length > inputs.length) throw new GlyphError("invalid", `${op} takes ${inputs.length} argument(s), got ${args.length}`, { op });
    args.forEach((a, i) => named.set(inputs[i].name, a));
  } else if (args instanceof Map) {
    for (const [k, a] of args) named.set(String(k), a);
  } else if (args !== null && args !== undefined) {
    for (const [k, a] of Object.entries(args)) named.set(k, a);
  }
  for (const k of named.keys()) {
    if (!inputs.some((i) => i.name === k)) throw new GlyphError("invalid", `${op}: unknown argument ${JSON.stringify(k)}`, { op });
  }
  const out = new OrderedDict();
  const given = new Set();
  for (const i of inputs) {
    if (named.has(i.name) && named.get(i.name) !== undefined) {
      out.set(i.name, named.get(i.name));
      given.add(i.name);
    } else if (i.has) {
      out.set(i.name, i.value);
    } else {
      throw new GlyphError("invalid", `${op}: missing argument ${JSON.stringify(i.name)}`, { op });
    }
  }
  return { args: out, given };
}

// The navigation methods of the hypermedia extensions.

/**
 * Follows the link: its inline content when it has one, else a GET.
 * @this {Link} @param {CallOptions} [opts]
 */
Link.prototype.get = function (opts) {
  if (this.attr("inline") === true) return Promise.resolve(this.content);
  return navOf(this).follow(this, opts);
};

/**
 * Calls the form with args, by position (an array) or by name (an object).
 * @this {Form} @param {any} [args] @param {CallOptions} [opts]
 */
Form.prototype.call = async function (args, opts) {
  const nav = navOf(this);
  const b = bindArgs(this, args);
  return nav.submit(this, await withGlyphBlobs(b.args), b.given, opts);
};

/**
 * Turns the arguments that are Blobs (a browser's File, say) into
 * GlyphBlobs, whose bytes encode synchronously.
 * @param {OrderedDict} args
 */
async function withGlyphBlobs(args) {
  const B = globalThis.Blob;
  if (typeof B !== "function") return args;
  for (const [k, v] of args) {
    if (v instanceof B) args.set(k, new GlyphBlob(new Uint8Array(await v.arrayBuffer()), v.type || "application/octet-stream"));
  }
  return args;
}

/**
 * Calls the form and returns its results as they stream (over a peer
 * connection; over HTTP the one result, or the items of a list).
 * @this {Form} @param {any} [args] @param {CallOptions} [opts]
 * @returns {AsyncIterable<any>}
 */
Form.prototype.stream = function (args, opts) {
  const form = this;
  return {
    async *[Symbol.asyncIterator]() {
      const nav = navOf(form);
      const b = bindArgs(form, args);
      const bound = await withGlyphBlobs(b.args);
      if (nav.submitStream) {
        yield* nav.submitStream(form, bound, b.given, opts);
        return;
      }
      const v = await nav.submit(form, bound, b.given, opts);
      if (Array.isArray(v)) yield* v;
      else yield v;
    },
  };
};

/**
 * The item name of the resource's content; undefined when it has none.
 * @this {Resource} @param {string} name
 */
Resource.prototype.get = function (name) {
  const c = this.content;
  if (c instanceof Map) return c.get(name);
  if (c && typeof c === "object" && Object.prototype.hasOwnProperty.call(c, name)) return c[name];
  return undefined;
};

/**
 * Calls the form, or follows the link, called name in the resource.
 * @this {Resource} @param {string} name @param {any} [args] @param {CallOptions} [opts]
 */
Resource.prototype.call = function (name, args, opts) {
  const x = this.get(name);
  if (x instanceof Form) return x.call(args, opts);
  if (x instanceof Link) {
    if (args !== undefined && !(Array.isArray(args) && args.length === 0)) {
      return Promise.reject(new GlyphError("invalid", `${name} is a link: it takes no arguments`));
    }
    return x.get(opts);
  }
  return Promise.reject(new GlyphError("not_found", `${hrefOf(this)} has no form or link ${JSON.stringify(name)}`));
};

/** Re-reads the resource from its URL. @this {Resource} @param {CallOptions} [opts] */
Resource.prototype.reload = function (opts) {
  return navOf(this).follow(new Link("link", { method: "GET", url: hrefOf(this) }), opts);
};
