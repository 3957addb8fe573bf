// esbuild injects this into the CommonJS bundle so that `import.meta.url` (ESM-only) still
// names the running file.
export const __sluice_import_meta_url = require("node:url").pathToFileURL(__filename).href;
