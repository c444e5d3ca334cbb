/** An in-container setup failure with the step that failed; reported on the status channel. */
export class StepError extends Error {
  readonly step: string;
  readonly hint?: string;
  constructor(step: string, message: string, hint?: string) {
    super(message);
    this.step = step;
    this.hint = hint;
  }
}
