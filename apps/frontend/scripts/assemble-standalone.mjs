// After `next build`: put the static assets and public/ beside the standalone server, the layout
// `node .next/standalone/server.js` serves them from (the Containerfile copies the same three
// trees into /app). Without this the server answers 404 for every /_next/static file.
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(root, ".next", "standalone");

if (!existsSync(join(standalone, "server.js"))) {
  console.error("assemble-standalone: no .next/standalone/server.js; is output: 'standalone' set?");
  process.exit(1);
}
for (const [from, to] of [
  [join(root, ".next", "static"), join(standalone, ".next", "static")],
  [join(root, "public"), join(standalone, "public")],
]) {
  rmSync(to, { recursive: true, force: true });
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
console.log("assemble-standalone: .next/static and public/ copied into .next/standalone");
