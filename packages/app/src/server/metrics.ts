// The server's counters, in Prometheus' text format on /metrics.
import type { PipelineResult } from "glide-ts";
import type { QueueStats } from "./queue/job-queue.ts";
import type { JobOutcome, QueueObserver } from "./queue/local-queue.ts";

export class ServerMetrics implements QueueObserver {
  private readonly outcomes: Record<JobOutcome, number> = { completed: 0, failed: 0, cancelled: 0, timeout: 0 };
  private readonly rejections = { full: 0, closed: 0 };
  private jobSeconds = 0;
  private samplingSeconds = 0;
  private samplingSteps = 0;

  rejected(reason: "full" | "closed"): void {
    this.rejections[reason]++;
  }

  ended(outcome: JobOutcome, seconds: number, result: PipelineResult | null): void {
    this.outcomes[outcome]++;
    this.jobSeconds += seconds;
    for (const stage of [result?.timings.base, result?.timings.upsample]) {
      if (!stage) continue;
      this.samplingSeconds += stage.sampling;
      this.samplingSteps += stage.steps;
    }
  }

  render(queue: QueueStats): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, values: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of values) lines.push(`${name}${labels} ${value}`);
    };
    metric("glide_queue_depth", "gauge", "Jobs waiting for a worker.", [["", queue.waiting]]);
    metric("glide_queue_capacity", "gauge", "Jobs that may wait at once.", [["", queue.capacity]]);
    metric("glide_jobs_running", "gauge", "Jobs running on a worker.", [["", queue.running]]);
    metric("glide_workers", "gauge", "Worker threads.", [["", queue.workers]]);
    metric(
      "glide_jobs_total",
      "counter",
      "Jobs ended, by outcome.",
      Object.entries(this.outcomes).map(([outcome, n]) => [`{outcome="${outcome}"}`, n]),
    );
    metric("glide_jobs_rejected_total", "counter", "Jobs refused, by reason.", [
      ['{reason="queue_full"}', this.rejections.full],
      ['{reason="shutting_down"}', this.rejections.closed],
    ]);
    metric("glide_job_seconds_total", "counter", "Seconds jobs spent on a worker.", [["", round(this.jobSeconds)]]);
    metric("glide_sampling_seconds_total", "counter", "Seconds in sampling loops.", [
      ["", round(this.samplingSeconds)],
    ]);
    metric("glide_sampling_steps_total", "counter", "Model evaluations in sampling loops.", [["", this.samplingSteps]]);
    metric("glide_seconds_per_step", "gauge", "Mean seconds per sampling step so far.", [
      ["", this.samplingSteps > 0 ? round(this.samplingSeconds / this.samplingSteps) : 0],
    ]);
    return `${lines.join("\n")}\n`;
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
