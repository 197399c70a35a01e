// The one results model every report view is generated from.
import type { ApiRange } from '../protocol/api-versions.js';
import type { TimingBreakdown } from './timings.js';

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
  /** Failure message or skip reason (redacted); for a pass after driver retries, those retries. */
  message?: string;
  /** Bounded retries a driver made of retriable errors (e.g. GROUP_LOAD_IN_PROGRESS), each recorded; and a cell's tries not counted because the machine was suspended during them. */
  retries?: string[];
  /** Duplicates the delivery checker counted and allowed (no idempotence: at-least-once), per partition. */
  duplicates?: string[];
  /** The target's ApiVersions answer (api-versions family cells only). */
  apiVersions?: ApiRange[];
  /** What the cell waited for before its own work (driver spawn, login gate), where it took long. */
  waits?: string[];
  /** Figures the scenario measured (e.g. the regions family's replication delay). */
  measurements?: string[];
  /** When the cell started (epoch ms), for wall times per family and target. */
  startTime?: number;
  file: string;
  /** A command that re-runs exactly this cell. */
  rerun: string;
}

export interface RunResults {
  startedAt: string;
  finishedAt: string;
  targets: { id: string; state: string; description?: string; reason?: string; notes?: string[] }[];
  cells: CellResult[];
  /** Where the run's time went (every run writes it; runs archived before it have none). */
  timings?: TimingBreakdown;
}
