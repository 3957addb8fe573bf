/**
 * Inhibitors as an operator (or a hostile one) leaves them: the Node annotation, and files in the
 * inhibit directories — missing directories, a file where a directory belongs, FIFOs, dotfiles,
 * control characters, huge first lines, too many files.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { annotationInhibitor, cleanReason, fileInhibitors, inhibitorsKey } from "../../agent/gates";
import { nodeFs } from "../../agent/host";
import { tempDir } from "../helpers/tmp";

describe("annotationInhibitor", () => {
  it.each([
    [undefined, undefined],
    [{}, undefined],
    [{ "sluice.dev/inhibit": "db migration" }, { source: "annotation", reason: "db migration" }],
    [{ "sluice.dev/inhibit": "" }, { source: "annotation", reason: "sluice.dev/inhibit is set" }],
    [{ "sluice.dev/inhibit": "line one\nline two" }, { source: "annotation", reason: "line one" }],
    [{ "sluice.dev/inhibit": "bell\u0007 and escape\u001b[31m" }, { source: "annotation", reason: "bell  and escape [31m" }],
  ])("%j → %j", (annotations, want) => {
    expect(annotationInhibitor(annotations as Record<string, string> | undefined)).toEqual(want);
  });

  it("cuts a huge reason to one readable line", () => {
    expect(cleanReason("x".repeat(10_000))).toHaveLength(200);
  });
});

describe("fileInhibitors", () => {
  it("reads each file's first line; skips dotfiles; a missing directory inhibits nothing", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "backup"), "nightly backup\nstarted by cron\n");
    writeFileSync(join(dir, "empty"), "");
    writeFileSync(join(dir, ".hidden"), "editor swap file");
    const got = await fileInhibitors(nodeFs, [join(dir, "absent"), dir]);
    expect(got).toEqual([
      { source: `file:${dir}/backup`, reason: "nightly backup" },
      { source: `file:${dir}/empty`, reason: `inhibit file ${dir}/empty exists` },
    ]);
  });

  it("does not read a FIFO (it would block) but counts it; a file where a directory belongs inhibits, saying so", async () => {
    const dir = tempDir();
    execFileSync("mkfifo", [join(dir, "pipe")]);
    writeFileSync(join(dir, "not-a-dir"), "");
    expect(await fileInhibitors(nodeFs, [dir, join(dir, "not-a-dir")])).toEqual([
      { source: `file:${dir}/not-a-dir`, reason: `inhibit file ${dir}/not-a-dir exists` },
      { source: `file:${dir}/pipe`, reason: `inhibit file ${dir}/pipe exists` },
      { source: `file:${dir}/not-a-dir`, reason: `inhibit path ${dir}/not-a-dir is not a directory` },
    ]);
  });

  it("reports a directory with very many files as one inhibitor instead of reading them all", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "d"));
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, "d", `f${i}`), "x");
    expect(await fileInhibitors(nodeFs, [join(dir, "d")])).toEqual([{ source: `file:${dir}/d`, reason: `100 inhibit files in ${dir}/d` }]);
  });

  it("has a key that changes only when the set changes (told once per change)", () => {
    const a = [{ source: "annotation", reason: "x" }];
    expect(inhibitorsKey(a)).toBe(inhibitorsKey([{ source: "annotation", reason: "x" }]));
    expect(inhibitorsKey(a)).not.toBe(inhibitorsKey([{ source: "annotation", reason: "y" }]));
    expect(inhibitorsKey([])).toBe("");
  });
});
