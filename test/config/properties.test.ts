/**
 * Property-based tests (fast-check, seeded): the configuration parser, durations, times of day
 * and the RE2 translation hold their contracts for every input, not only the table rows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../agent/config";
import { GO_MAX_DURATION_MS, formatGoDuration, parseGoDuration } from "../../agent/config/duration";
import { re2ToJs } from "../../agent/config/re2";
import { Invalid, duration, timeOfDay } from "../../agent/config/values";
import type { Fs } from "../../agent/ports";

const SEED = { seed: 20261203 };

/** An Fs holding one configuration file. */
function oneFile(text: string): Fs {
  return {
    readFile: async () => text,
    writeFileAtomic: async () => {},
    exists: async (p) => p === "/c.yaml",
    list: async () => [],
    mode: async () => 0o600,
    kind: async (p) => (p === "/c.yaml" ? "file" : "missing"),
  };
}

describe("durations", () => {
  it("format then parse gives back every whole number of milliseconds", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e12 }), (ms) => parseGoDuration(formatGoDuration(ms)) === ms), SEED);
  });

  it("a parsed duration is finite, at most Go's limit, and the parser refuses the rest", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        const ms = parseGoDuration(text);
        return ms === null || (Number.isFinite(ms) && Math.abs(ms) <= GO_MAX_DURATION_MS);
      }),
      SEED,
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 2562048n, max: 10n ** 30n }), (h) => parseGoDuration(`${h}h`) === null),
      SEED,
    );
  });

  it("the duration parser accepts exactly what it can honour, or says Invalid", () => {
    const p = duration(1000, 86_400_000);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double()), (raw) => {
        try {
          const ms = p(raw);
          return ms >= 1000 && ms <= 86_400_000;
        } catch (e) {
          return e instanceof Invalid;
        }
      }),
      SEED,
    );
  });
});

describe("times of day", () => {
  it("every H:MM:SS in a day parses to itself; 12-hour forms agree with Go's", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), (h, m, s) => {
        const pad = (n: number) => String(n).padStart(2, "0");
        expect(timeOfDay(`${h}:${pad(m)}:${pad(s)}`)).toBe(h * 3600 + m * 60 + s);
        const h12 = h % 12;
        const ampm = h < 12 ? "am" : "pm";
        // Go: hour 0-12 with a suffix; pm adds 12 below 12, 12am is midnight.
        expect(timeOfDay(`${pad(h12 === 0 ? 12 : h12)}:${pad(m)}${ampm}`)).toBe(h * 3600 + m * 60);
      }),
      SEED,
    );
  });
});

describe("the loader on arbitrary files", () => {
  it("either loads or refuses with a ConfigError (exit 78): never another exception", async () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.dictionary(fc.constantFrom("period", "lockTtl", "concurrency", "startTime", "endTime", "rebootDays", "windows", "notifyUrl", "<<", "configuration", "x"), fc.jsonValue({ maxDepth: 2 }))
        .map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        try {
          await loadConfig({ fs: oneFile(text), env: {}, configPath: "/c.yaml", dropinDir: "/d" });
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          expect(e.exitCode).toBe(78);
        }
      }),
      { ...SEED, numRuns: 300 },
    );
  });
});

describe("RE2 translation", () => {
  it("a literal word matches itself exactly, (?i) makes it case-blind", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_:]{1,12}$/), (w) => {
        const exact = new RegExp(re2ToJs(`^${w}\\z`) as string);
        const blind = new RegExp(re2ToJs(`(?i)^${w}$`) as string);
        return exact.test(w) && !exact.test(`${w}\n`) && blind.test(w.toUpperCase()) && blind.test(w.toLowerCase());
      }),
      SEED,
    );
  });

  it("never throws: a pattern is translated or refused with a reason", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (p) => {
        const r = re2ToJs(p);
        if (typeof r === "string") new RegExp(r);
        else expect(r.error.length).toBeGreaterThan(0);
      }),
      SEED,
    );
  });
});
