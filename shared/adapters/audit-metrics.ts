/**
 * CloudWatch metrics of a run, as EMF through Powertools: per Auto Scaling group the drifted,
 * compliant and unknown instances, and fleet totals plus a success marker that a "no successful
 * audit" alarm can watch.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AuditReport, groupSummaries } from '../domain/report.ts';

export function recordAuditMetrics(metrics: Metrics, report: AuditReport): void {
  for (const group of groupSummaries(report)) {
    const counts = {
      DriftedInstances: group.drifted,
      CompliantInstances: group.compliant,
      UnknownInstances: group.unknown,
    };
    for (const [name, value] of Object.entries(counts)) {
      // A single metric is flushed as soon as it is added, with its own dimension set.
      const single = metrics.singleMetric();
      single.addDimension('AsgName', group.asgName ?? '(none)');
      single.addMetric(name, MetricUnit.Count, value);
    }
  }
  const s = report.summary;
  metrics.addMetric('DriftedInstances', MetricUnit.Count, s.drifted);
  metrics.addMetric('CompliantInstances', MetricUnit.Count, s.compliant);
  metrics.addMetric('UnknownInstances', MetricUnit.Count, s.unknown);
  metrics.addMetric(
    'Findings',
    MetricUnit.Count,
    s.findings.critical + s.findings.high + s.findings.medium + s.findings.low,
  );
  metrics.addMetric('AuditSucceeded', MetricUnit.Count, 1);
}
