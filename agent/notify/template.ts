/**
 * Message templates as kured has them: the template is a Go format string and the node name its
 * one argument (kured calls fmt.Sprintf(template, node)). The verbs a string can take are
 * rendered as Go renders them, so a kured values file's templates read the same here.
 */

/** kured's defaults (also the schema's defaults in agent/config). */
export const DEFAULT_TEMPLATES = {
  drain: "Draining node %s",
  reboot: "Rebooting node %s",
  uncordon: "Node %s rebooted & uncordoned successfully!",
} as const;

/** sluice's own messages, for what kured has no word for. %s is the node, as in kured's. */
export const SLUICE_MESSAGES = {
  rollback: "Node %s rebooted, but it runs the OS version it ran before: the update was rolled back. sluice released its slot; look at update_engine on the host.",
  notBack: "Node %s has not come back from its reboot. It keeps its reboot slot, so no other node in its group reboots until a person looks.",
  lockLost: "Node %s lost its reboot slot and stopped what it was doing; it will queue again.",
} as const;

/** Longest message sent: chat services cut or refuse longer ones (Slack 40k, Discord 4096, Telegram 4096). */
export const MAX_MESSAGE_LENGTH = 4000;

const VERB = /%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])?/g;

/**
 * `fmt.Sprintf(template, node)` for the verbs a string argument meets: %s and %v give the node,
 * %q the node quoted, %x/%X its hex, %% a percent sign; width, precision and `-` as in Go. A
 * second verb finds no argument (`%!s(MISSING)`), a verb for another type says so
 * (`%!d(string=node)`), a lone trailing `%` is `%!(NOVERB)`. One difference, on purpose: a
 * template without any verb is sent as it is, where Go would append `%!(EXTRA string=node)`.
 */
export function renderMessage(template: string, node: string): string {
  let used = false;
  const out = template.replace(VERB, (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string | undefined) => {
    if (verb === undefined) return "%!(NOVERB)";
    if (verb === "%") return "%";
    if (used) return `%!${verb}(MISSING)`;
    used = true;
    let text: string;
    switch (verb) {
      case "s":
      case "v":
        text = prec === undefined ? node : [...node].slice(0, Number(prec || 0)).join("");
        break;
      case "q":
        text = JSON.stringify(node);
        break;
      case "x":
      case "X": {
        const hex = Buffer.from(node, "utf8").toString("hex");
        text = verb === "X" ? hex.toUpperCase() : hex;
        break;
      }
      default:
        return `%!${verb}(string=${node})`;
    }
    const pad = Math.max(0, Number(width ?? 0) - [...text].length);
    return flags.includes("-") ? text + " ".repeat(pad) : " ".repeat(pad) + text;
  });
  return truncate(out, MAX_MESSAGE_LENGTH);
}

export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}
