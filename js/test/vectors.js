// Reads the test vectors of the spec pages beside the Go packages
// (wire/spec.md, peer/spec.md), so that the JavaScript codec is checked
// against the very examples the Go code is.

import { readFileSync } from "node:fs";

/**
 * The lines of the fenced blocks of page whose info string is info,
 * without comments and empty lines.
 * @param {string} page a path from the repository's root
 * @param {string} info
 */
export function vectorLines(page, info) {
  const text = readFileSync(new URL(`../../${page}`, import.meta.url), "utf8");
  const out = [];
  let inBlock = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) {
      inBlock = !inBlock && line.slice(3).trim() === info;
      continue;
    }
    if (inBlock && line.trim() !== "" && !line.startsWith("#")) out.push(line);
  }
  return out;
}

/**
 * The bytes a bytes token of wire/spec.md stands for (its section 0).
 * @param {string} tok
 */
export function parseBytes(tok) {
  const out = [];
  const push = (/** @type {string} */ s) => {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c !== "\\") {
        out.push(c.charCodeAt(0));
        continue;
      }
      const n = s[++i];
      if (n === "x") {
        out.push(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (n === "{") {
        const end = s.indexOf("}", i);
        const [count, text] = [s.slice(i + 1, s.indexOf(":", i)), s.slice(s.indexOf(":", i) + 1, end)];
        for (let k = 0; k < Number(count); k++) push(text);
        i = end;
      } else {
        out.push({ n: 10, r: 13, t: 9, v: 11, "\\": 92 }[n] ?? NaN);
      }
    }
  };
  push(tok);
  if (out.some(Number.isNaN)) throw new Error(`bad bytes token ${tok}`);
  return Uint8Array.from(out);
}
