// The example of the section "JavaScript client" of the repository's
// README.md, run against the servers: its output is what its "// →"
// comments say ("..." stands for any text).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { httpURL, needServers } from "./servers.js";

/** The first js block of the README's section "JavaScript client". */
function example() {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("\n## ").find((s) => s.startsWith("JavaScript client\n"));
  assert.ok(section, 'README.md has no section "JavaScript client"');
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the section "JavaScript client" has no js block');
  return m[1];
}

test("the README's JavaScript example prints what it says", { skip: needServers }, async () => {
  const code = example();
  const want = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]);
  assert.ok(want.length >= 5, `${want.length} outputs in the example`);
  const host = new URL(httpURL).host;
  const runnable = code
    .replaceAll('"@glyph-ipc/glyph"', JSON.stringify(new URL("../index.js", import.meta.url).href))
    .replaceAll("127.0.0.1:8080", host);
  const dir = mkdtempSync(join(tmpdir(), "glyph-readme-"));
  try {
    const file = join(dir, "example.mjs");
    writeFileSync(file, runnable);
    const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, file], { timeout: 20000 });
    const got = stdout.trimEnd().split("\n");
    assert.equal(got.length, want.length, `the example printed\n${stdout}`);
    got.forEach((line, i) => {
      const re = new RegExp("^" + want[i].split("...").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
      assert.match(line, re);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
