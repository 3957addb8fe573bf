/**
 * The little of D-Bus this module needs, over dbus-next's low-level API (Message, call, the
 * 'message' event). Its proxy objects are not used: they filter signals by a sender cache that
 * dbus-next 0.10 never updates on NameOwnerChanged, and they cannot tell us about a rejected signal.
 */
import type * as DBus from "dbus-next";
import type { MessageBus } from "dbus-next";
import type { Clock } from "../ports";
import { SluiceError } from "../ports";

export type { MessageBus } from "dbus-next";

let lib: typeof DBus | undefined;

/**
 * Loads dbus-next on first use (the update_engine source's first connection): a host with
 * `updateEngine: off`, and every command but `run` and `signals`, never pays for it — about 7 ms
 * of start-up and 5 MiB.
 */
export async function loadDbus(): Promise<typeof DBus> {
  if (!lib) {
    const m = (await import("dbus-next")) as typeof DBus & { default?: typeof DBus };
    lib = m.default ?? m;
  }
  return lib;
}

function loaded(): typeof DBus {
  if (!lib) throw new SluiceError("internal", "dbus-next used before loadDbus()");
  return lib;
}

/** The SIGNAL message type, read at run time: the enum in dbus-next's typings numbers from 0, the library from 1. */
export function signalType(): number {
  return loaded().MessageType.SIGNAL;
}

export const DEFAULT_SYSTEM_BUS_ADDRESS = "unix:path=/var/run/dbus/system_bus_socket";

export const BUS_NAME = "org.freedesktop.DBus";
export const BUS_PATH = "/org/freedesktop/DBus";
export const ENGINE_NAME = "com.coreos.update1";
export const ENGINE_PATH = "/com/coreos/update1";
export const ENGINE_INTERFACE = "com.coreos.update1.Manager";

/** The system bus address as libdbus finds it: DBUS_SYSTEM_BUS_ADDRESS, else the well-known socket. */
export function systemBusAddress(env: Record<string, string | undefined>): string {
  return env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM_BUS_ADDRESS;
}

/** Opens a connection; injectable so tests can count or break connections. */
export type BusConnector = (address: string) => MessageBus;

/**
 * dbus-next's sessionBus() is its generic "connect to this address" (systemBus() ignores any
 * address but the environment's). EXTERNAL only: the system bus accepts nothing else, and the
 * cookie method would read ~/.dbus-keyrings.
 */
export const connectBus: BusConnector = (address) => loaded().sessionBus({ busAddress: address, authMethods: ["EXTERNAL"] });

/** Resolves once the bus answered Hello; rejects on a connection error or after `timeoutMs`. */
export function whenConnected(bus: MessageBus, clock: Clock, timeoutMs: number): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      bus.once("connect", () => resolve());
      bus.once("error", (err: unknown) => reject(new SluiceError("signals.dbus-unavailable", `cannot connect to the system bus: ${describe(err)}`, { cause: err })));
    }),
    clock,
    timeoutMs,
    "connecting to the system bus",
  );
}

/**
 * Resolves when the connection is gone. dbus-next's MessageBus does not report the end of its
 * stream, and its pending calls never settle then, so we listen on the socket underneath.
 */
export function whenClosed(bus: MessageBus): Promise<string> {
  const conn = (bus as unknown as { _connection?: { stream?: NodeJS.EventEmitter } })._connection;
  return new Promise<string>((resolve) => {
    conn?.stream?.once("close", () => resolve("connection closed"));
    bus.on("error", (err: unknown) => resolve(describe(err)));
  });
}

export function methodCall(destination: string, path: string, iface: string, member: string, signature?: string, body?: unknown[]): DBus.Message {
  return new (loaded().Message)({ destination, path, interface: iface, member, ...(signature ? { signature, body } : {}) });
}

/** bus.call with a deadline: a call on a dying connection would otherwise wait forever. */
export async function callWithTimeout(bus: MessageBus, msg: DBus.Message, clock: Clock, timeoutMs: number): Promise<DBus.Message> {
  const reply = await withTimeout(bus.call(msg), clock, timeoutMs, `${msg.interface}.${msg.member}`);
  if (!reply) throw new SluiceError("signals.dbus-no-reply", `${msg.interface}.${msg.member} returned no reply`);
  return reply;
}

export async function addMatch(bus: MessageBus, rule: string, clock: Clock, timeoutMs: number): Promise<void> {
  await callWithTimeout(bus, methodCall(BUS_NAME, BUS_PATH, BUS_NAME, "AddMatch", "s", [rule]), clock, timeoutMs);
}

/** The unique name owning `name`, or null when nobody does. */
export async function getNameOwner(bus: MessageBus, name: string, clock: Clock, timeoutMs: number): Promise<string | null> {
  try {
    const reply = await callWithTimeout(bus, methodCall(BUS_NAME, BUS_PATH, BUS_NAME, "GetNameOwner", "s", [name]), clock, timeoutMs);
    return typeof reply.body[0] === "string" ? reply.body[0] : null;
  } catch (err) {
    if (err instanceof loaded().DBusError && err.type === "org.freedesktop.DBus.Error.NameHasNoOwner") return null;
    throw err;
  }
}

/** Signals from the bus itself carry the sender org.freedesktop.DBus, which no client can claim. */
export const NAME_OWNER_CHANGED_RULE = `type='signal',sender='${BUS_NAME}',path='${BUS_PATH}',interface='${BUS_NAME}',member='NameOwnerChanged',arg0='${ENGINE_NAME}'`;

/** No sender in the rule on purpose: a spoofed StatusUpdate must reach us so that we can log it. */
export const STATUS_UPDATE_RULE = `type='signal',path='${ENGINE_PATH}',interface='${ENGINE_INTERFACE}',member='StatusUpdate'`;

export function describe(err: unknown): string {
  if (lib && err instanceof lib.DBusError) return `${err.type}: ${err.text}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

async function withTimeout<T>(work: Promise<T>, clock: Clock, timeoutMs: number, what: string): Promise<T> {
  const ac = new AbortController();
  const timeout = clock.sleep(timeoutMs, ac.signal).then(
    () => {
      throw new SluiceError("signals.dbus-timeout", `${what}: no answer within ${timeoutMs} ms`);
    },
    () => undefined as never,
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    ac.abort();
  }
}
