export { type NotifyFetch, type NotifyResponse, type NotifierOptions, type NotifyService, createNotifier, retryDelay } from "./notifier";
export { type HttpRequest, type Target, NOTIFY_URL_INVALID, SUPPORTED } from "./request";
export { DEFAULT_TEMPLATES, MAX_MESSAGE_LENGTH, SLUICE_MESSAGES, renderMessage } from "./template";
export { parseNotifyUrl, stripQuotes } from "./url";
