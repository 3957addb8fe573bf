/** kured's templates are Go format strings with the node as the one argument. */
import { describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATES, MAX_MESSAGE_LENGTH, SLUICE_MESSAGES, renderMessage } from "../../agent/notify";

describe("renderMessage: fmt.Sprintf(template, node)", () => {
  it.each([
    ["kured's drain default", DEFAULT_TEMPLATES.drain, "Draining node worker-1"],
    ["kured's uncordon default", DEFAULT_TEMPLATES.uncordon, "Node worker-1 rebooted & uncordoned successfully!"],
    ["%v is %s for a string", "node %v", "node worker-1"],
    ["%q quotes", "node %q", 'node "worker-1"'],
    ["%% is a percent sign and takes no argument", "100%% of %s", "100% of worker-1"],
    ["a second verb has no argument", "%s and %s", "worker-1 and %!s(MISSING)"],
    ["a verb for another type", "node %d", "node %!d(string=worker-1)"],
    ["width pads left", "[%10s]", "[  worker-1]"],
    ["- pads right", "[%-10s]", "[worker-1  ]"],
    ["precision cuts", "[%.3s]", "[wor]"],
    ["%x is hex", "%x", "776f726b65722d31"],
    ["a lone % at the end", "50%", "50%!(NOVERB)"],
    ["no verb: sent as written (Go would add %!(EXTRA …))", "Rebooting now", "Rebooting now"],
    ["empty template", "", ""],
    ["markdown and emoji survive", "✅ *%s* is back", "✅ *worker-1* is back"],
  ])("%s", (_n, template, want) => {
    expect(renderMessage(template, "worker-1")).toBe(want);
  });

  it("a node name with % or $ is inserted literally", () => {
    expect(renderMessage("node %s", "a%sb$&")).toBe("node a%sb$&");
  });

  it("a huge template is cut to what chat services accept", () => {
    const out = renderMessage(`${"x".repeat(100_000)} %s`, "n");
    expect([...out]).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(out.endsWith("…")).toBe(true);
  });

  it("sluice's own messages name the node once", () => {
    for (const m of Object.values(SLUICE_MESSAGES)) {
      const out = renderMessage(m, "worker-1");
      expect(out.match(/worker-1/g)).toHaveLength(1);
      expect(out).not.toContain("%!");
    }
  });
});
