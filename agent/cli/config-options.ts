import { Command, Option } from "commander";
import { CONFIG_KEYS, SCHEMA, flagName, loadConfig, type ConfigKey, type LoadedConfig } from "../config";
import { nodeFs } from "../host";
import type { CliContext } from "./context";

/** Adds --config and one flag per configuration key (e.g. --lock-ttl 30m) to a command. */
export function withConfigOptions(cmd: Command): Command {
  cmd.option("-c, --config <path>", "configuration file (default /etc/sluice/config.yaml, or $SLUICE_CONFIG)");
  cmd.option("--config-dir <dir>", "drop-in directory (default: config.d beside the configuration file)");
  for (const k of CONFIG_KEYS) {
    cmd.addOption(new Option(`--${flagName(k)} <value>`, SCHEMA[k].doc).hideHelp(k === "windows"));
  }
  return cmd;
}

/** Loads the configuration from the files, environment and the flags that `cmd` was given. */
export async function loadFromCommand(cmd: Command, ctx: CliContext): Promise<LoadedConfig> {
  const opts = cmd.opts() as Record<string, string | undefined>;
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const k of CONFIG_KEYS) {
    const v = opts[k];
    if (v !== undefined) flags[k] = v;
  }
  const loaded = await loadConfig({ fs: nodeFs, env: ctx.env, flags, configPath: opts.config, dropinDir: opts.configDir });
  for (const w of loaded.warnings) ctx.log.warning(w);
  return loaded;
}
