import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { addArchiverStacks, type ArchiverStacks } from '../../infra/archiver-app.js';

/** cdk.json's context (the feature flags the CLI applies), so tests build what `cdk synth` builds. */
const CDK_JSON_CONTEXT = z
  .object({ context: z.record(z.string(), z.unknown()) })
  .parse(JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))).context;

export interface SynthesizedArchiver extends ArchiverStacks {
  readonly app: App;
  readonly dataTemplate: Template;
  readonly serviceTemplate: Template;
}

/**
 * Builds the archiver app as `cdk synth` does, with extra `archiver:*` context and bundling skipped
 * (template tests need no code; bundling takes seconds per function). Each test file synthesizes
 * once per configuration and shares the result. `builtinCloudFormationValidation: false` skips the
 * CDK's own template validation (a WebAssembly engine, most of a synth's time) for a caller that only
 * reads the templates; the template tests keep it.
 */
export function synthArchiver(
  context: Record<string, unknown> = {},
  opts: { builtinCloudFormationValidation?: boolean } = {},
): SynthesizedArchiver {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: opts.builtinCloudFormationValidation ?? true,
  });
  const stacks = addArchiverStacks(app);
  return {
    app,
    ...stacks,
    dataTemplate: Template.fromStack(stacks.data),
    serviceTemplate: Template.fromStack(stacks.service),
  };
}

/** The CloudFormation logical id of a construct's resource (an L2's default child or an L1). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

const CfnResourceSchema = z.object({
  Type: z.string(),
  Properties: z.record(z.string(), z.any()).default({}),
  DeletionPolicy: z.string().optional(),
  UpdateReplacePolicy: z.string().optional(),
  DependsOn: z.unknown().optional(),
});
export type CfnResource = z.infer<typeof CfnResourceSchema>;

/** All resources of a type, keyed by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return z.record(z.string(), CfnResourceSchema).parse(template.findResources(type));
}

/** The single resource of a type with the given logical id prefix (construct path), or a failure. */
export function onlyResource(template: Template, type: string, logicalIdPrefix: string): CfnResource {
  const matches = Object.entries(resourcesOf(template, type)).filter(([id]) => id.startsWith(logicalIdPrefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} ${logicalIdPrefix}*, found ${matches.length}`);
  const [, resource] = matches[0] as [string, CfnResource];
  return resource;
}

const StatementSchema = z.object({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.unknown(),
  Principal: z.unknown().optional(),
  Condition: z.record(z.string(), z.unknown()).optional(),
});
export type Statement = z.infer<typeof StatementSchema>;

/** The statements of a policy document, validated so a malformed one fails loudly. */
export function statementsOf(policyDocument: unknown): Statement[] {
  return z.object({ Statement: z.array(StatementSchema) }).parse(policyDocument).Statement;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The two configurations every template suite asserts against. */
export interface ArchiverSynths {
  /** No `archiver:*` context: every default. */
  readonly defaults: SynthesizedArchiver;
  /** Every setting a test checks is taken from configuration, changed from its default. */
  readonly custom: SynthesizedArchiver;
}

export const CUSTOM_CONTEXT = {
  'archiver:retentionMode': 'COMPLIANCE',
  'archiver:retentionDays': '3650',
  'archiver:maxReceiveCount': '3',
  'archiver:archiveTransitionDays': '90',
  'archiver:archiveStorageClass': 'DEEP_ARCHIVE',
  'archiver:batchSize': '10',
  'archiver:batchWindowSeconds': '20',
  'archiver:maxConcurrency': '3',
  'archiver:ingestMemoryMb': '2048',
  // 10 × (6 + 2) × 16 + 256 = 1536 MB: fits the 2048 MB above.
  'archiver:partSizeMib': '16',
  'archiver:uploadConcurrency': '6',
  'archiver:logRetentionDays': '731',
  'archiver:alarmEmail': 'ops@example.com',
  'archiver:upstreamBaseUrl': 'https://upstream.example.com',
  'archiver:webhookRateLimit': '50',
  'archiver:webhookBurstLimit': '100',
  'archiver:webhookReplayRetentionHours': '24',
  'archiver:webhookWebAclArn':
    'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/archiver-webhook/a1b2c3d4-5678-90ab-cdef-111122223333',
  'archiver:complianceRequestsPerMinute': '1200',
  'archiver:pollerBudgetPercent': '20',
  'archiver:chatPollerMinutes': '2',
  'archiver:filesApiPollerMinutes': '60',
  'archiver:projectsPollerMinutes': '30',
  'archiver:stalledPollerMinutes': '120',
  'archiver:exportExpireDays': '90',
  'archiver:sourceOrganization': 'Example Corp (org_01Example)',
  'archiver:fixityRotationDays': '7',
  'archiver:fixityDeepSamplePercent': '0.5',
} as const;
