// Writes src/api/contract.ts: the rules the server publishes in its OpenAPI document
// (openapi.json's `x-rules`), so the inbox applies the server's rules instead of its own copy.
import { readFileSync, writeFileSync } from "node:fs";

const doc = JSON.parse(readFileSync(new URL("../openapi.json", import.meta.url), "utf8"));
const rules = doc["x-rules"];
if (!rules) throw new Error("openapi.json has no x-rules");
const text = `// Generated from openapi.json's x-rules by scripts/contract.mjs (npm run types): do not edit.

export const rules = ${JSON.stringify(rules, null, 2)} as const;
`;
writeFileSync(new URL("../src/api/contract.ts", import.meta.url), text);
