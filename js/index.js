export * from "./src/values.js";
export * from "./src/codec.js";
