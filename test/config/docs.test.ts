import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { CONFIG_KEYS, KURED_ONLY_KEYS } from "../../agent/config";

it("the configuration reference documents every key and every ignored kured key", () => {
  const doc = readFileSync(new URL("../../docs/usage/configuration.md", import.meta.url), "utf8");
  const missing = [...CONFIG_KEYS, ...Object.keys(KURED_ONLY_KEYS)].filter((k) => !doc.includes(`\`${k}\``));
  expect(missing).toEqual([]);
});
