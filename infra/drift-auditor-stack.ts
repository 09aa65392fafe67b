/** The deployable stack: composes the DriftAuditor construct and registers nothing else. */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DriftAuditor, type DriftAuditorProps } from './constructs/drift-auditor.ts';

export interface DriftAuditorStackProps extends StackProps {
  readonly auditor?: DriftAuditorProps;
}

export class DriftAuditorStack extends Stack {
  readonly auditor: DriftAuditor;

  constructor(scope: Construct, id: string, props: DriftAuditorStackProps = {}) {
    super(scope, id, {
      description: 'driftwatch: event-driven drift auditor for EC2 fleets and golden AMIs',
      ...props,
    });
    this.auditor = new DriftAuditor(this, 'Auditor', props.auditor ?? {});
  }
}
