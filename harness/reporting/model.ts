// The one results model every report view is generated from.

export type CellStatus = 'pass' | 'fail' | 'known-failure' | 'unexpected-pass' | 'not-applicable' | 'not-run' | 'flaky' | 'skipped';

export interface CellResult {
  /** e.g. `sasl-plain.wrong-token.sasl_ssl` */
  scenarioId: string;
  title: string;
  /** Scenario family (the first describe level), also the feature tag. */
  family: string;
  target: string;
  client: string;
  clientVersion?: string;
  status: CellStatus;
  durationMs: number;
  /** Canonical error code of a failure, when the client error carried one. */
  canonicalError?: string;
  /** Failure message or skip reason (redacted). */
  message?: string;
  file: string;
  /** A command that re-runs exactly this cell. */
  rerun: string;
}

export interface RunResults {
  startedAt: string;
  finishedAt: string;
  targets: { id: string; state: string; description?: string; reason?: string; notes?: string[] }[];
  cells: CellResult[];
}
