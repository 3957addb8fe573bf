import { Command } from "commander";
import type { CliContext } from "../context";
import { versionInfo } from "../version";

export function versionCommand(ctx: CliContext): Command {
  return new Command("version")
    .description("print the version, commit, Node.js version and architecture")
    .option("--json", "one JSON object")
    .action((opts: { json?: boolean }) => {
      const v = versionInfo();
      ctx.stdout.write(opts.json ? `${JSON.stringify(v)}\n` : `sluice ${v.version} (commit ${v.commit}) node ${v.node} ${v.platform}/${v.arch}\n`);
    });
}
