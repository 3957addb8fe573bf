/** The chat services of shoutrrr's URLs: Slack (webhook and API token), Teams, Discord, Telegram. */
import { type HttpRequest, type Query, type Target, invalid, ok2xx, postJson, yes } from "./request";
import { truncate } from "./template";

/** slack://hook:T-B-C@webhook, slack://xoxb:token@CHANNEL, or the old slack://[botname@]T/B/C. */
export function slack(url: URL, user: string, pass: string, q: Query): Target {
  let tokenText: string;
  let channel: string;
  let botname = q("botname", "username");
  if (url.pathname.length > 1) {
    tokenText = url.host + url.pathname;
    channel = "webhook";
    botname ??= user || undefined;
  } else {
    tokenText = pass ? `${user}:${pass}` : user;
    channel = url.host;
  }
  const m = /^(?:(xox.|hook)[-:]|:?)([A-Z0-9]{9,})([-/,])([A-Z0-9]{9,})([-/,])([A-Za-z0-9]{24,})$/.exec(tokenText);
  if (!m) throw invalid("slack", "expected slack://hook:T…-B…-XXXX@webhook, slack://xoxb:TOKEN@CHANNEL or slack://T…/B…/XXXX");
  if (m[3] !== m[5]) throw invalid("slack", "the token's parts are separated by different characters");
  const kind = m[1] ?? "hook";
  const parts = [m[2]!, m[4]!, m[6]!];
  const title = q("title");
  const color = q("color");
  const icon = q("icon", "icon_emoji", "icon_url");
  const threadTs = q("thread_ts");
  const payload = (message: string) => ({
    text: color ? (title ?? "") : title ? `${title}\n${message}` : message,
    ...(color ? { attachments: [{ text: message, color }] } : {}),
    ...(botname ? { username: botname } : {}),
    ...(icon ? (/^https?:\/\//.test(icon) ? { icon_url: icon } : { icon_emoji: icon }) : {}),
    ...(channel !== "webhook" && kind !== "hook" ? { channel } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
  });
  if (kind === "hook") {
    const hookUrl = `https://hooks.slack.com/services/${parts.join("/")}`;
    return {
      service: "slack",
      describe: "slack webhook",
      secrets: [parts[2], parts.join("-"), parts.join("/")],
      requests: (message) => [postJson(hookUrl, payload(message), (s, b) => (s === 200 && (b === "" || b === "ok") ? null : `HTTP ${s}: ${truncate(b.trim(), 200)}`))],
    };
  }
  const token = `${kind}-${parts.join("-")}`;
  return {
    service: "slack",
    describe: `slack chat.postMessage to ${channel}`,
    secrets: [token, parts.join("-"), parts[2]],
    requests: (message) => [postJson("https://slack.com/api/chat.postMessage", payload(message), slackApiCheck, { Authorization: `Bearer ${token}` })],
  };
}

function slackApiCheck(status: number, body: string): string | null {
  const bad = ok2xx(status, body);
  if (bad) return bad;
  try {
    const j = JSON.parse(body) as { ok?: boolean; error?: string };
    return j.ok ? null : `slack refused the message: ${j.error ?? "no error given"}`;
  } catch {
    return `HTTP ${status}, not a Slack API answer`;
  }
}

/**
 * teams://group@tenant/altId/groupOwner[/extraId]?host=… — the old form (four parts; host
 * outlook.office.com uses /webhook/) and the new one (a fifth part, as webhook URLs have carried
 * since 2025); also shoutrrr's first form teams://group@tenant:altId@groupOwner.
 */
export function teams(url: URL, user: string, pass: string, q: Query): Target {
  const path = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let parts: string[];
  if (pass) {
    const [group, tenant, ...rest] = user.split("@");
    if (!group || !tenant || rest.length) throw invalid("teams", "expected teams://group@tenant/altId/groupOwner[/extraId]?host=…");
    parts = [group, tenant, pass, url.hostname];
  } else {
    parts = [user, url.hostname, ...path];
  }
  if (parts.length < 4 || parts.length > 5 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalid("teams", "expected teams://group@tenant/altId/groupOwner[/extraId]?host=…");
  const host = q("host") ?? "outlook.office.com";
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(host)) throw invalid("teams", "host= must be a host name");
  const [group, tenant, altId, owner, extra] = parts;
  const base = host === "outlook.office.com" ? "webhook" : "webhookb2";
  const hookUrl = `https://${host}/${base}/${group}@${tenant}/IncomingWebhook/${altId}/${owner}${extra ? `/${extra}` : ""}`;
  const title = q("title");
  const color = q("color");
  return {
    service: "teams",
    describe: `teams webhook at ${host}`,
    secrets: [group!, tenant!, altId!, owner!, ...(extra ? [extra] : [])],
    requests: (message) => {
      const lines = message.split("\n");
      return [
        postJson(hookUrl, {
          "@type": "MessageCard",
          "@context": "http://schema.org/extensions",
          markdown: true,
          ...(title ? { title } : {}),
          ...(color ? { themeColor: color } : {}),
          summary: title || truncate(lines[0]!, 20),
          sections: lines.map((text) => ({ text, startGroup: false })),
        }),
      ];
    },
  };
}

/** discord://token@webhookId → https://discord.com/api/webhooks/<id>/<token>, one embed. */
export function discord(url: URL, token: string, q: Query): Target {
  const id = url.hostname;
  if (!id || !token) throw invalid("discord", "expected discord://token@webhookId");
  if (url.pathname === "/raw") throw invalid("discord", "the /raw (JSON message) form is not supported: sluice sends text");
  if (url.pathname.length > 1) throw invalid("discord", "expected discord://token@webhookId, without a path");
  const colorText = q("color");
  const color = colorText === undefined ? 0x50d9ff : Number.parseInt(colorText.replace(/^0x/i, ""), 16);
  const title = q("title");
  const username = q("username");
  const avatar = q("avatar", "avatarurl");
  return {
    service: "discord",
    describe: "discord webhook",
    secrets: [token],
    requests: (message) => [
      postJson(`https://discord.com/api/webhooks/${encodeURIComponent(id)}/${encodeURIComponent(token)}`, {
        embeds: [{ description: truncate(message, 4096), ...(Number.isFinite(color) ? { color } : {}), ...(title ? { title } : {}) }],
        ...(username ? { username } : {}),
        ...(avatar ? { avatar_url: avatar } : {}),
      }),
    ],
  };
}

/** telegram://botid:secret@telegram?chats=@channel,12345[:thread] → sendMessage per chat. */
export function telegram(url: URL, user: string, pass: string, q: Query): Target {
  const token = `${user}:${pass}`;
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) throw invalid("telegram", "expected telegram://botid:token@telegram?chats=…");
  const chats = (q("chats", "channels") ?? "").split(",").map((c) => c.trim()).filter(Boolean);
  if (chats.length === 0) throw invalid("telegram", "no chats= given");
  const preview = yes(q("preview"), true);
  const notification = yes(q("notification"), true);
  const title = q("title");
  let parseMode = q("parsemode") ?? "";
  if (/^none$/i.test(parseMode)) parseMode = "";
  return {
    service: "telegram",
    describe: `telegram bot to ${chats.length} chat${chats.length === 1 ? "" : "s"}`,
    secrets: [token, pass],
    requests: (message) =>
      chats.map((chat) => {
        const [chatId, thread] = chat.split(":");
        let text = message;
        let mode = parseMode;
        if (!mode && title) mode = "HTML";
        if (mode.toUpperCase() === "HTML" && title) text = `<b>${escapeHtml(title)}</b>\n${parseMode ? message : escapeHtml(message)}`;
        const threadId = thread !== undefined && /^\d+$/.test(thread) ? Number(thread) : undefined;
        return postJson(
          `https://api.telegram.org/bot${token}/sendMessage`,
          {
            text,
            chat_id: chatId,
            ...(threadId !== undefined ? { message_thread_id: threadId } : {}),
            ...(mode ? { parse_mode: mode } : {}),
            disable_web_page_preview: !preview,
            disable_notification: !notification,
          },
          telegramCheck,
        );
      }),
  };
}

function telegramCheck(status: number, body: string): string | null {
  try {
    const j = JSON.parse(body) as { ok?: boolean; description?: string };
    if (j.ok === true && status < 300) return null;
    return `HTTP ${status}: ${truncate(j.description ?? "telegram refused the message", 200)}`;
  } catch {
    return ok2xx(status, body) ?? `HTTP ${status}, not a Telegram API answer`;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");
}

