export { KubeEventRecorder, type KubeEventRecorderOptions, EVENT_NAMESPACE, EVENT_COMPONENT } from "./recorder";
export { correlate, eventKey, eventName, SeenCache, DEFAULT_WINDOW_MS, type SeenEvent } from "./correlate";
