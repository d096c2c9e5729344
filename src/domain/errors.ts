/**
 * An error whose message is written for the person at the terminal: what is wrong
 * and how to fix it. The CLI prints it without a stack trace.
 */
export class PavedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
