import { Command } from "commander";
import { CONFIG_KEYS, SCHEMA, formatGoDuration, originText, publicValue, type ConfigKey, type LoadedConfig } from "../../config";
import { describeWindow } from "../../window";
import { loadFromCommand, withConfigOptions } from "../config-options";
import type { CliContext } from "../context";

function render(key: ConfigKey, value: unknown): string {
  switch ((SCHEMA[key] as { shownAs?: string }).shownAs) {
    case "duration":
      return formatGoDuration(value as number);
    case "time-of-day": {
      const s = value as number;
      return `${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}${s % 60 ? `:${String(s % 60).padStart(2, "0")}` : ""}`;
    }
    case "days":
      return (value as number[]).map((d) => ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][d]).join(",");
    default:
      return JSON.stringify(publicValue(key, value));
  }
}

export function printConfig(loaded: LoadedConfig, ctx: CliContext, json: boolean): void {
  if (json) {
    const out = {
      files: loaded.files,
      windows: loaded.windows.map(describeWindow),
      warnings: loaded.warnings,
      settings: Object.fromEntries(CONFIG_KEYS.map((k) => [k, { value: publicValue(k, loaded.settings[k]), origin: originText(loaded.origins[k]) }])),
    };
    ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const rows = CONFIG_KEYS.map((k) => [k, render(k, loaded.settings[k]), originText(loaded.origins[k])]);
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.min(60, Math.max(...rows.map((r) => r[1]!.length)));
  ctx.stdout.write(`configuration is valid (files: ${loaded.files.length ? loaded.files.join(", ") : "none"})\n\n`);
  for (const [k, v, o] of rows) ctx.stdout.write(`${k!.padEnd(w0)}  ${v!.padEnd(w1)}  ${o}\n`);
  ctx.stdout.write(`\nreboot windows: ${loaded.windows.map(describeWindow).join("; ")}\n`);
}

export function checkConfigCommand(ctx: CliContext): Command {
  const cmd = new Command("check-config").description("validate the configuration and print every effective value with where it came from").option("--json", "machine-readable output");
  withConfigOptions(cmd);
  cmd.action(async (opts: { json?: boolean }) => {
    printConfig(await loadFromCommand(cmd, ctx), ctx, Boolean(opts.json));
  });
  return cmd;
}
