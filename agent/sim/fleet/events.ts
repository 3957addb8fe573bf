/** Events recorded through the real recorder (so they reach the API server) and kept for the run's checks. */
import { KubeEventRecorder } from "../../events";
import type { Kube } from "../../kube";
import type { Logger } from "../../log";
import type { Clock, NodeEvent } from "../../ports";

export interface EventSink {
  readonly events: (NodeEvent & { at: number })[];
  readonly clock: Clock;
}

export class FleetEvents extends KubeEventRecorder {
  constructor(
    private readonly sink: EventSink,
    kube: Kube,
    clock: Clock,
    log: Logger,
    host: string,
  ) {
    super({ kube, clock, log }, { host });
  }
  override async record(e: NodeEvent): Promise<void> {
    this.sink.events.push({ ...e, at: this.sink.clock.now() });
    await super.record(e);
  }
}
