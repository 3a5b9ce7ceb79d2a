/** Wire types of the rewards protocol (openapi/rewards.openapi.json is the source of truth). */

export interface ReportGpu {
  uuid: string;
  pciDeviceId: string | null;
  model: string | null;
  qualifying: boolean;
}

export interface HourlyReport {
  reportId: string;
  rigId: string;
  /** Aligned start of the UTC hour, "2019-04-15T12:00:00Z". */
  hour: string;
  intervalSeconds: number;
  samples: number;
  connectedSamples: number;
  minQualifyingGpus: number;
  gpus: ReportGpu[];
  workerAddress: string | null;
  sonmVersion: string | null;
  agentVersion: string;
  seq: number;
}

export type ReportStatus = 'accepted' | 'duplicate' | 'rejected';

export interface Credited {
  connected: boolean;
  gpus: number;
  usd: number;
}

export interface ReportResult {
  reportId: string;
  status: ReportStatus;
  reason?: string;
  credited: Credited;
}

export interface EnrollRequest {
  publicKey: string;
  masterAddress: string;
  workerAddress: string | null;
  agentVersion: string;
  hardware: Record<string, unknown>;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [k: string]: unknown;
}

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH = 500;
export const CLOCK_WINDOW_SECONDS = 300;
export const NONCE_TTL_SECONDS = 600;
