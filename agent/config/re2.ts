/**
 * RE2 (Go's regexp) to a JavaScript pattern with the same meaning, for alertFilterRegexp: kured
 * users' filters must keep matching what they matched. Written by hand because the differences
 * that matter are few and a pure-JS RE2 engine would sit in every agent's memory:
 * - flags: `(?i)` applies to the rest of its group (across `|`); JS only has `(?i:…)` groups;
 * - anchors `\A` and `\z`, literal runs `\Q…\E`, POSIX classes `[[:alpha:]]`, `\a`, octal `\012`,
 *   `\x{41}`, a leading `]` in a class, `\s` (RE2: ASCII only), `(?P<name>…)`;
 * - what RE2 refuses and JS accepts (lookaround, backreferences, unknown escapes, repeats past
 *   1000) is refused, as kured refuses it at start.
 * `\p{…}` classes and `(?U)` have no JS form without flags and are refused with that reason.
 */
const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7f", blank: "\\t ", cntrl: "\\x00-\\x1f\\x7f", digit: "0-9",
  graph: "!-~", lower: "a-z", print: " -~", punct: "!-\\/:-@\\[-`{-~", space: "\\t\\n\\v\\f\\r ", upper: "A-Z",
  word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};
const SPACE = "\\t\\n\\f\\r ";
const SIMPLE_ESCAPES: Record<string, string> = { a: "\\x07", f: "\\f", t: "\\t", n: "\\n", r: "\\r", v: "\\v", d: "\\d", D: "\\D", w: "\\w", W: "\\W", b: "\\b", B: "\\B" };

function literal(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

function charCode(code: number): string | null {
  if (code > 0xffff) return null;
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

export function re2ToJs(pattern: string): string | { error: string } {
  let out = "";
  let i = 0;
  // One entry per open group: how many flag groups `(?i)` opened inside it, to close at its end
  // and to close and reopen around each `|`.
  const groups: string[][] = [[]];
  const fail = (error: string) => ({ error });
  // An escape outside or inside a class; returns the JS text or an error.
  const escape = (inClass: boolean): string | { error: string } => {
    const c = pattern[i + 1];
    if (c === undefined) return fail("trailing backslash");
    i += 2;
    if (SIMPLE_ESCAPES[c] !== undefined) {
      if (inClass && (c === "b" || c === "B")) return fail(`\\${c} inside a character class`);
      return SIMPLE_ESCAPES[c];
    }
    if (c === "s") return inClass ? SPACE : `[${SPACE}]`;
    if (c === "S") return inClass ? fail("\\S inside a character class is not supported here") : `[^${SPACE}]`;
    if (c === "A" || c === "z") return inClass ? fail(`\\${c} inside a character class`) : c === "A" ? "(?<![\\s\\S])" : "(?![\\s\\S])";
    if (c === "x") {
      const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(pattern.slice(i));
      const two = /^[0-9A-Fa-f]{2}/.exec(pattern.slice(i));
      const hex = braced ? braced[1]! : two ? two[0] : null;
      if (hex === null) return fail("\\x needs two hex digits or {hex}");
      i += braced ? braced[0].length : 2;
      return charCode(parseInt(hex, 16)) ?? fail(`\\x{${hex}} is beyond what sluice translates`);
    }
    if (/[0-7]/.test(c)) {
      const more = /^[0-7]{0,2}/.exec(pattern.slice(i))![0];
      if (c !== "0" && more === "") return fail(`\\${c} is a backreference, which RE2 does not support`);
      i += more.length;
      return charCode(parseInt(c + more, 8))!;
    }
    if (c === "8" || c === "9") return fail(`\\${c} is a backreference, which RE2 does not support`);
    if (c === "p" || c === "P") return fail("Unicode classes (\\p, \\P) are not supported by sluice");
    if (c === "C") return fail("\\C (any byte) is not supported");
    if (/[A-Za-z0-9]/.test(c)) return fail(`\\${c} is not an escape RE2 knows`);
    return literal(c);
  };

  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      if (pattern[i + 1] === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const text = pattern.slice(i + 2, end < 0 ? undefined : end);
        out += [...text].map(literal).join("");
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      const e = escape(false);
      if (typeof e !== "string") return e;
      out += e;
      continue;
    }
    if (ch === "[") {
      let cls = "[";
      i += 1;
      if (pattern[i] === "^") (cls += "^"), (i += 1);
      if (pattern[i] === "]") (cls += "\\]"), (i += 1);
      for (;;) {
        if (i >= pattern.length) return fail("missing closing ]");
        const c = pattern[i]!;
        if (c === "]") break;
        if (c === "[" && pattern[i + 1] === ":") {
          const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
          if (m) {
            if (m[1]) return fail(`[:^${m[2]}:] (a negated POSIX class) is not supported here`);
            const range = POSIX[m[2]!];
            if (!range) return fail(`[:${m[2]}:] is not a POSIX class`);
            cls += range;
            i += m[0].length;
            continue;
          }
        }
        if (c === "\\") {
          if (pattern[i + 1] === "Q") return fail("\\Q inside a character class is not supported here");
          const e = escape(true);
          if (typeof e !== "string") return e;
          cls += e;
          continue;
        }
        cls += c === "[" ? "\\[" : c;
        i += 1;
      }
      out += `${cls}]`;
      i += 1;
      continue;
    }
    if (ch === "(") {
      const rest = pattern.slice(i);
      if (/^\(\?(=|!|<=|<!)/.test(rest)) return fail("lookahead and lookbehind are not supported by RE2");
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      const flags = /^\(\?([imsU]*)(?:-([imsU]*))?(:|\))/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length;
        groups.push([]);
      } else if (rest.startsWith("(?:")) {
        out += "(?:";
        i += 3;
        groups.push([]);
      } else if (flags && (flags[1] || flags[2] !== undefined)) {
        if (`${flags[1]}${flags[2] ?? ""}`.includes("U")) return fail("the U (ungreedy) flag is not supported by sluice");
        const mod = `(?${flags[1]}${flags[2] ? `-${flags[2]}` : ""}:`;
        if (flags[2] === "" ) return fail("missing flags after -");
        i += flags[0].length;
        if (flags[3] === ":") {
          out += mod;
          groups.push([]);
        } else {
          // Until the end of the enclosing group.
          out += mod;
          groups[groups.length - 1]!.push(mod);
        }
      } else if (rest.startsWith("(?")) {
        return fail(`unknown group syntax ${rest.slice(0, 4)}`);
      } else {
        out += "(";
        i += 1;
        groups.push([]);
      }
      continue;
    }
    if (ch === ")") {
      const open = groups.pop()!;
      if (groups.length === 0) return fail("unexpected )");
      out += ")".repeat(open.length) + ")";
      i += 1;
      continue;
    }
    if (ch === "|") {
      const open = groups[groups.length - 1]!;
      out += ")".repeat(open.length) + "|" + open.join("");
      i += 1;
      continue;
    }
    if (ch === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m && (Number(m[1]) > 1000 || (m[3] && Number(m[3]) > 1000))) return fail("repeat count above 1000");
      if (m && m[3] && Number(m[3]) < Number(m[1])) return fail(`invalid repeat count ${m[0]}`);
      out += m ? m[0] : "\\{";
      i += m ? m[0].length : 1;
      continue;
    }
    out += ch === "/" ? "\\/" : ch === "}" ? "\\}" : ch;
    i += 1;
  }
  if (groups.length !== 1) return fail("missing closing )");
  out += ")".repeat(groups[0]!.length);
  try {
    new RegExp(out);
  } catch (e) {
    return fail((e as Error).message.replace(/^Invalid regular expression: /, ""));
  }
  return out;
}
