import { App, Stack, Validations, type PolicyViolation } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ArchiverSynths } from './archiver-fixture.js';

/** cdk-nag's AwsSolutions pack over the synthesized app. */
export function describeCdkNag({ defaults: archiver }: ArchiverSynths): void {
  // infra/app.ts registers the pack with Validations.of(app).addPlugins(new AwsSolutionsChecks(app)),
  // which the CDK runs after synthesis. Here the same pack walks the same, synthesized construct tree
  // directly (validateScope), so the test reads its findings instead of parsing CLI output.

  const describeViolations = (violations: PolicyViolation[]) =>
    violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

  /** Every acknowledgment (rule id and reason) recorded in a construct tree. */
  function acknowledgmentsIn(root: IConstruct): { construct: IConstruct; path: string; id: string; reason: string }[] {
    return root.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(z.record(z.string(), z.string()).parse(m.data)).map(([id, reason]) => ({
            construct: c,
            path: c.node.path,
            id: id.replace(/^annotation::/i, ''),
            reason,
          })),
        ),
    );
  }

  describe('cdk-nag AwsSolutions', () => {
    it('reports zero unacknowledged errors (and zero warnings) for the archiver', () => {
      const report = new AwsSolutionsChecks().validateScope(archiver.app);
      expect(describeViolations(report.violations.filter((v) => v.severity === 'error'))).toEqual([]);
      expect(describeViolations(report.violations)).toEqual([]);
    });

    it('does report errors in this harness: a bare bucket fails S1 and S10', () => {
      const app = new App();
      new s3.Bucket(new Stack(app, 'Bare'), 'Bucket');
      app.synth();
      const rules = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
      expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    });

    it('acknowledgments are narrow (rule and resource, a finding id for IAM4/IAM5), each with a reason', () => {
      const acks = acknowledgmentsIn(archiver.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
        // Never on an app or a stack: always on the construct that owns the finding.
        expect(Stack.isStack(ack.construct) || ack.construct === archiver.app, `${ack.id} at ${ack.path}`).toBe(false);
        if (/^AwsSolutions-IAM[45]/.test(ack.id))
          expect(ack.id).toMatch(/^AwsSolutions-IAM[45]\[(Resource|Action|Policy)::.+\]$/);
      }
    });

    it('every acknowledgment silences a finding that really occurs (none is stale)', () => {
      // The same pack with acknowledgments ignored lists every finding the rules produce.
      const raw = new AwsSolutionsChecks();
      Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
      const findings = new Set(
        raw
          .validateScope(archiver.app)
          .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)),
      );
      for (const ack of acknowledgmentsIn(archiver.app)) {
        const silenced = [...findings].some((f) => f.startsWith(`${ack.id} `) && f.split(' ')[1]?.startsWith(ack.path));
        expect(silenced, `${ack.id} at ${ack.path}`).toBe(true);
      }
    });
  });
}
