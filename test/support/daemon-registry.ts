// Daemons the harness has spawned and that are still running, with their
// output so far: the failed-test hook (test/support/report-daemons.ts) prints
// their last lines when a test fails while they run.
export interface RunningDaemon {
  pid: number | undefined;
  args: string[];
  output: () => string;
}

export const runningDaemons = new Set<RunningDaemon>();
