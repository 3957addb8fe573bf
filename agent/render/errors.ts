import { ExitCode, ExitError } from "../ports";

/** A render input that cannot make a working host: a usage error (exit 64). */
export class RenderError extends ExitError {
  constructor(message: string) {
    super(ExitCode.usage, "render-invalid", message);
  }
}
