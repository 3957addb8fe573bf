import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { EDGES, machineDot } from "../../agent/reboot";

const doc = readFileSync(new URL("../../docs/usage/agent.md", import.meta.url), "utf8");

it("the drawing in docs/usage/agent.md is the edge table's", () => {
  const drawn = /```dot\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(drawn).toBe(machineDot());
});

it("the docs' table lists every edge with its Event", () => {
  for (const e of EDGES) expect(doc).toContain(`| ${e.from} | ${e.to} | \`${e.name}\` | ${e.label} | ${e.event.reason} (${e.event.type}) |`);
});
