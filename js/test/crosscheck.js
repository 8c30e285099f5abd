// The JavaScript half of TestCrossCheck (crosscheck_test.go) and
// FuzzJSDecode (fuzz_test.go): reads messages in
// hex, one a line, from stdin; decodes each and writes its re-encoding in
// hex, or "error: <message>", one a line.

import { createInterface } from "node:readline";
import { decode, encode } from "../index.js";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  try {
    process.stdout.write(Buffer.from(encode(decode(Buffer.from(line, "hex")))).toString("hex") + "\n");
  } catch (e) {
    process.stdout.write(`error: ${e instanceof Error ? e.message : e}\n`);
  }
}
