/** Prometheus text-format metrics for the service, kept in memory. */
export class Metrics {
  private requests = new Map<string, number>();
  private durations = { sum: 0, count: 0 };
  private reports = new Map<string, number>();
  private auth = new Map<string, number>();
  private usd = 0;

  request(route: string, status: number, ms: number): void {
    const k = `route="${route}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    this.durations.sum += ms / 1000;
    this.durations.count++;
  }
  report(status: string, usd: number): void {
    this.reports.set(status, (this.reports.get(status) ?? 0) + 1);
    if (status === 'accepted') this.usd += usd;
  }
  authFailure(slug: string): void {
    this.auth.set(slug, (this.auth.get(slug) ?? 0) + 1);
  }
  render(counts: { rigs: number; reports: number; flags: number; disputes?: number }): string {
    const out: string[] = [];
    out.push(
      '# HELP sonm_rewards_http_requests_total HTTP requests by route and status.',
      '# TYPE sonm_rewards_http_requests_total counter',
    );
    for (const [k, v] of this.requests) out.push(`sonm_rewards_http_requests_total{${k}} ${v}`);
    out.push(
      '# HELP sonm_rewards_http_request_duration_seconds Time spent answering requests.',
      '# TYPE sonm_rewards_http_request_duration_seconds summary',
    );
    out.push(
      `sonm_rewards_http_request_duration_seconds_sum ${this.durations.sum}`,
      `sonm_rewards_http_request_duration_seconds_count ${this.durations.count}`,
    );
    out.push(
      '# HELP sonm_rewards_reports_total Hourly reports by outcome since start.',
      '# TYPE sonm_rewards_reports_total counter',
    );
    for (const s of ['accepted', 'duplicate', 'rejected'])
      out.push(`sonm_rewards_reports_total{status="${s}"} ${this.reports.get(s) ?? 0}`);
    out.push(
      '# HELP sonm_rewards_auth_failures_total Refused signatures by reason.',
      '# TYPE sonm_rewards_auth_failures_total counter',
    );
    for (const [k, v] of this.auth)
      out.push(`sonm_rewards_auth_failures_total{reason="${k}"} ${v}`);
    out.push(
      '# HELP sonm_rewards_credited_usd_total USD credited since start.',
      '# TYPE sonm_rewards_credited_usd_total counter',
      `sonm_rewards_credited_usd_total ${this.usd}`,
    );
    out.push(
      '# HELP sonm_rewards_rigs Enrolled rigs.',
      '# TYPE sonm_rewards_rigs gauge',
      `sonm_rewards_rigs ${counts.rigs}`,
    );
    out.push(
      '# HELP sonm_rewards_stored_reports Reports stored.',
      '# TYPE sonm_rewards_stored_reports gauge',
      `sonm_rewards_stored_reports ${counts.reports}`,
    );
    out.push(
      '# HELP sonm_rewards_gpu_claim_flags GPU uuids claimed by a second rig in the same hour.',
      '# TYPE sonm_rewards_gpu_claim_flags gauge',
      `sonm_rewards_gpu_claim_flags ${counts.flags}`,
    );
    if (counts.disputes !== undefined) {
      out.push(
        '# HELP sonm_rewards_open_disputes Parties to GPU-hours disputed and not yet resolved.',
        '# TYPE sonm_rewards_open_disputes gauge',
        `sonm_rewards_open_disputes ${counts.disputes}`,
      );
    }
    return `${out.join('\n')}\n`;
  }
}
