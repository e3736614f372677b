/** Bad lab input (unknown scenario, fault or cluster, bad counts): the CLI prints the message as one line and exits 2. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}
