/**
 * The model as a shell script for kOps: Flatcar nodes run MIME multipart user data with
 * coreos-cloudinit, which runs `text/x-shellscript` parts (on every boot) and ignores Ignition
 * parts. So the script must be idempotent: it writes a file only when its contents differ,
 * downloads only when the installed binary fails its sha512, and restarts sluice only when
 * something changed.
 */
import { stringify } from "yaml";
import { RenderError } from "./errors";
import type { HostEntry, RemoteSource } from "./model";

/** Single-quoted for bash: exact for any text, including newlines and quotes. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const PRELUDE = `#!/bin/bash
# sluice: installs the reboot coordinator on this Flatcar host. Safe to run again.
set -euo pipefail
export LC_ALL=C
# Another root for image builds and tests; empty on a host.
root="\${SLUICE_INSTALL_ROOT:-}"
changed=0
logind_changed=0

# put_text PATH MODE TEXT: write TEXT unless the file already holds exactly that.
put_text() {
  local path="$root$1" mode="$2" text="$3" tmp
  mkdir -p "$(dirname "$path")"
  if [ -f "$path" ] && printf '%s' "$text" | cmp -s - "$path"; then
    chmod "$mode" "$path"
    return 1
  fi
  tmp="$(mktemp "$path.XXXXXX")"
  printf '%s' "$text" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  changed=1
}

# put_url PATH MODE URL SHA512 GZIP: download unless the file already has SHA512; verify it.
put_url() {
  local path="$root$1" mode="$2" url="$3" sha="$4" gz="$5" tmp
  mkdir -p "$(dirname "$path")"
  if [ -n "$sha" ] && [ -f "$path" ] && echo "$sha  $path" | sha512sum -c --status -; then
    chmod "$mode" "$path"
    return 0
  fi
  tmp="$(mktemp "$path.XXXXXX")"
  if ! { if [ "$gz" = gzip ]; then
    curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 "$url" | gunzip -c >"$tmp"
  else
    curl -fsSL --retry 5 --retry-connrefused --connect-timeout 10 -o "$tmp" "$url"
  fi; }; then
    rm -f "$tmp"
    echo "sluice: cannot download $url; nothing installed" >&2
    exit 1
  fi
  if [ -n "$sha" ] && ! echo "$sha  $tmp" | sha512sum -c --status -; then
    rm -f "$tmp"
    echo "sluice: $url does not match its sha512; nothing installed" >&2
    exit 1
  fi
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    chmod "$mode" "$path"
    return 0
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  changed=1
}

# put_tail PATH MODE TEXT: append TEXT unless the file already ends with it.
put_tail() {
  local path="$root$1" mode="$2" text="$3"
  mkdir -p "$(dirname "$path")"
  touch "$path"
  if ! tail -c "\${#text}" "$path" | cmp -s - <(printf '%s' "$text"); then
    if [ -s "$path" ] && [ "$(tail -c 1 "$path" | od -An -c | tr -d ' ')" != '\\n' ]; then echo >>"$path"; fi
    printf '%s' "$text" >>"$path"
    changed=1
  fi
  chmod "$mode" "$path"
}

# put_link PATH TARGET
put_link() {
  local path="$root$1" target="$2"
  mkdir -p "$(dirname "$path")"
  if [ "$(readlink "$path" || true)" != "$target" ]; then
    ln -sfn "$target" "$path"
    changed=1
  fi
}
`;

function remote(path: string, mode: number, r: RemoteSource): string {
  if (!/^https?:/.test(r.url)) throw new RenderError(`${path}: the kOps script downloads with curl: use an http or https URL, not ${r.url}`);
  return `put_url ${path} ${mode.toString(8)} ${shellQuote(r.url)} ${r.sha512 ?? "''"} ${r.gzip ? "gzip" : "plain"}`;
}

/** The install script for a host (bash). */
export function renderKopsScript(entries: readonly HostEntry[]): string {
  const lines: string[] = [PRELUDE];
  const after: string[] = [];
  let unitToStart: string | undefined;
  for (const e of entries) {
    switch (e.kind) {
      case "file":
        if ("inline" in e.contents) {
          const logind = e.path.startsWith("/etc/systemd/logind.conf.d/");
          const put = `put_text ${e.path} ${e.mode.toString(8)} ${shellQuote(e.contents.inline)}`;
          lines.push(logind ? `if ${put}; then logind_changed=1; fi` : `${put} || true`);
        } else lines.push(remote(e.path, e.mode, e.contents.remote));
        break;
      case "append":
        lines.push(`put_tail ${e.path} ${e.mode.toString(8)} ${shellQuote(e.text)}`);
        break;
      case "link":
        lines.push(`put_link ${e.path} ${shellQuote(e.target)}`);
        break;
      case "unit":
        if (e.contents !== undefined) lines.push(`put_text /etc/systemd/system/${e.name} 644 ${shellQuote(e.contents)} || true`);
        for (const d of e.dropins ?? []) lines.push(`put_text /etc/systemd/system/${e.name}.d/${d.name} 644 ${shellQuote(d.contents)} || true`);
        if (e.mask) after.push(`systemctl mask --now ${e.name}`);
        if (e.enabled) {
          after.push(`systemctl enable ${e.name}`);
          if (e.name.endsWith(".service")) unitToStart ??= e.name;
          else after.push(`systemctl start ${e.name}`);
        }
        break;
    }
  }
  lines.push("");
  lines.push(`if [ "$changed" = 1 ]; then systemctl daemon-reload; fi`);
  // logind re-reads its configuration on SIGHUP; restarting it would end every login session.
  lines.push(`if [ "$logind_changed" = 1 ]; then systemctl kill --signal=SIGHUP systemd-logind.service || true; fi`);
  lines.push(...after);
  if (unitToStart) lines.push(`if [ "$changed" = 1 ]; then systemctl restart ${unitToStart}; else systemctl start ${unitToStart}; fi`);
  return `${lines.join("\n")}\n`;
}

/** The InstanceGroup fragment: spec.additionalUserData with the script, and the note on updatePolicy. */
export function renderKopsUserData(entries: readonly HostEntry[]): string {
  const part = stringify({ additionalUserData: [{ name: "sluice.sh", type: "text/x-shellscript", content: renderKopsScript(entries) }] }, { blockQuote: "literal", lineWidth: 0 });
  const indented = part
    .split("\n")
    .map((l) => (l ? `  ${l}` : l))
    .join("\n");
  return `# Add under the InstanceGroup's spec (kops edit ig NAME), then: kops update cluster --yes
# and kops rolling-update cluster --yes. coreos-cloudinit runs the script at every boot; it
# changes nothing when everything is already in place.
#
# updatePolicy: sluice reboots for the updates update-engine downloads, so update-engine must
# keep running. Check on one node after the rollout: systemctl is-active update-engine
# (active) and systemctl is-enabled locksmithd (masked). If your updatePolicy setting has kOps
# stop update-engine, sluice will never see an update to reboot for.
spec:
${indented}`;
}
