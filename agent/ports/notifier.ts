/** Where operator notifications go (agent/notify implements it for Slack, Teams, webhooks). */
export interface Notifier {
  send(message: string): Promise<void>;
}

export const silentNotifier: Notifier = { send: async () => {} };
