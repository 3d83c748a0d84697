export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
}

/** One CLI command: returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}
