// The codec against the byte examples of wire/spec.md, the glyph
// envelopes of peer/spec.md, and the choices of the JavaScript mapping.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DateTime,
  DecodeError,
  Duration,
  Extension,
  Float,
  GlyphBlob,
  LimitError,
  Link,
  OrderedDict,
  UnsupportedValueError,
  decode,
  encode,
} from "../index.js";
import { parseBytes, vectorLines } from "./vectors.js";

const latin1 = (/** @type {Uint8Array} */ b) => Buffer.from(b).toString("latin1");

/** Decodes b and checks that it re-encodes to want, byte for byte. */
function reencodes(b, want) {
  const v = decode(b);
  assert.equal(latin1(encode(v)), latin1(want));
  return v;
}

describe("wire/spec.md vectors", () => {
  const lines = vectorLines("wire/spec.md", "vectors");
  test("the page has vectors", () => assert.ok(lines.length > 300, `${lines.length} vectors`));
  for (const line of lines) {
    const [kind, ...rest] = line.split(" ");
    switch (kind) {
      case "encode":
      case "lossy":
        // The Go value has no JavaScript twin; its bytes decode and
        // re-encode to themselves, as the canonical form must.
        test(line, () => reencodes(parseBytes(rest[1]), parseBytes(rest[1])));
        break;
      case "decode": {
        const [from, , to] = rest;
        test(line, () => {
          reencodes(parseBytes(from), parseBytes(to));
          reencodes(parseBytes(to), parseBytes(to));
        });
        break;
      }
      case "reject":
        test(line || "reject (empty)", () => {
          assert.throws(() => decode(parseBytes(rest[0] ?? "")), DecodeError);
        });
        break;
      case "limit": {
        const [field, n] = rest[0].split("=");
        const name = field[0].toLowerCase() + field.slice(1);
        test(line, () => {
          const b = parseBytes(rest[1]);
          assert.throws(
            () => decode(b, { limits: { [name]: Number(n) } }),
            (e) => e instanceof LimitError && e.limit === name,
          );
          decode(b);
        });
        break;
      }
      // unencodable, into and typeerror name Go values and types.
    }
  }
});

describe("peer/spec.md glyph envelopes", () => {
  for (const line of vectorLines("peer/spec.md", "envelopes").filter((l) => l.startsWith("glyph "))) {
    const [json, glyph] = line.slice("glyph ".length).split(" => ");
    test(line, () => {
      assert.equal(latin1(encode(JSON.parse(json))), glyph);
      assert.deepEqual(decode(glyph), JSON.parse(json));
    });
  }
});

describe("the JavaScript mapping", () => {
  const cases = [
    ["integral number", 7, "i7;"],
    ["negative", -123, "i-123;"],
    ["beyond 2^53 as bigint", 2n ** 64n, "i18446744073709551616;"],
    ["fractional number", 0.5, "f0x1p-01;"],
    ["integral Float", new Float(1), "f0x1p+00;"],
    ["negative zero", -0, "f-0x0p+00;"],
    ["NaN", NaN, "fnan;"],
    ["tenth", 0.1, "f0x1.999999999999ap-04;"],
    ["smallest", 5e-324, "f0x1p-1074;"],
    ["string NFC", "e\u0301", "u2:\xc3\xa9;"],
    ["bytes", Uint8Array.of(0, 255), "b2:\x00\xff;"],
    ["object keys sorted by content", { b: 1, aa: 2, a: 3, Z: 4 }, "Du1:Z;i4;u1:a;i3;u2:aa;i2;u1:b;i1;;"],
    ["Map with other keys", new Map([[10, "a"], [-1, "c"], [9, "b"]]), "Di-1;u1:c;i10;u1:a;i9;u1:b;;"],
    ["ordered dict keeps order", new OrderedDict([["b", 1], ["a", 2]]), "Ou1:b;i1;u1:a;i2;;"],
    ["set", new Set(["b", "ab"]), "Su2:ab;u1:b;;"],
    ["date", new Date(Date.UTC(2012, 7, 12, 13, 14, 15, 123)), "d2012-08-12T13:14:15.123000Z;"],
    ["datetime with micros", new DateTime(Date.UTC(2012, 7, 12, 13, 14, 15, 123), 456), "d2012-08-12T13:14:15.123456Z;"],
    ["duration", new Duration({ nanoseconds: (3n * 24n + 2n) * 3600n * 10n ** 9n }), "pP0Y0M3DT2H0M0S;"],
    ["period", new Duration({ years: -1 }), "p-P1Y0M0DT0H0M0S;"],
    ["extension", new Extension("foo", {}, null), "Xu3:foo;D;N;;"],
    ["blob", new GlyphBlob("hello", "text/plain"), "B0:Du12:content-type;u10:text/plain;;;c0:5:hello;c0;"],
    [
      "blobs numbered in order after sorting",
      { y: new GlyphBlob("y", "a"), x: new GlyphBlob("x", "a") },
      "Du1:x;B0:Du12:content-type;u1:a;;;u1:y;B1:Du12:content-type;u1:a;;;;c0:1:x;c0;c1:1:y;c1;",
    ],
  ];
  for (const [name, v, want] of cases) {
    test(name, () => assert.equal(latin1(encode(v)), want));
  }

  test("decoded values", () => {
    assert.equal(decode("i9007199254740991;"), Number.MAX_SAFE_INTEGER);
    assert.equal(decode("i9007199254740992;"), 9007199254740992n);
    assert.equal(decode("f0x1.8p+00;"), 1.5);
    assert.ok(decode("f1.0;") instanceof Float);
    assert.deepEqual(decode("Du1:a;Li1;;;"), { a: [1] });
    assert.ok(decode("Di1;i2;;") instanceof Map);
    assert.ok(decode("Xu4:link;Du6:method;u3:GET;u3:url;u4:/foo;;N;;") instanceof Link);
    const d = decode("d2012-08-12T13:14:15.123456Z;");
    assert.equal(d.toISOString(), "2012-08-12T13:14:15.123Z");
    assert.equal(d.micros, 456);
    const b = decode("LB0:Du12:content-type;u1:a;;;B1:Du12:content-type;u1:b;;;;c1:2:bb;c0:2:aa;c1;c0;");
    assert.deepEqual(b.map((x) => [x.contentType, x.text()]), [["a", "aa"], ["b", "bb"]]);
    assert.equal(decode("Du9:__proto__;i1;;").__proto__, 1);
  });

  test("unencodable values", () => {
    for (const v of [() => 1, Symbol("x"), "\ud800", new Date(NaN), new Set([1n, 1])]) {
      assert.throws(() => encode(v), UnsupportedValueError, String(v?.toString?.()));
    }
    const cyclic = [];
    cyclic.push(cyclic);
    assert.throws(() => encode(cyclic), UnsupportedValueError);
    let deep = [];
    for (let i = 0; i < 100000; i++) deep = [deep];
    assert.throws(() => encode(deep), UnsupportedValueError);
  });

  test("bad input is a DecodeError, never a crash", () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = encode({ a: [1, 2.5, "x", new Set([1]), new GlyphBlob("hi")], b: new OrderedDict([[1, null]]) });
    for (let i = 0; i < 3000; i++) {
      const b = base.slice(0, Math.floor(rnd() * (base.length + 1)));
      for (let k = 0; k < 3; k++) if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        decode(b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }
    assert.throws(() => decode("L".repeat(100000)), LimitError);
    assert.throws(() => decode("L".repeat(100000), { limits: { maxDepth: -1 } }), DecodeError);
  });
});

describe("index.d.ts", () => {
  test("declares every export of index.js, and nothing else", async () => {
    const { readFileSync } = await import("node:fs");
    const dts = readFileSync(new URL("../index.d.ts", import.meta.url), "utf8");
    const declared = [...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
    const exported = Object.keys(await import("../index.js")).sort();
    assert.deepEqual(declared, exported);
  });
});

describe("package.json", () => {
  test("its exports map resolves the package's name to index.js", async () => {
    const byName = await import("@glyph-ipc/glyph");
    const byPath = await import("../index.js");
    assert.equal(byName.encode, byPath.encode);
    assert.equal(byName.Client, byPath.Client);
  });
});
