import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
// cdk-nag's own renderer of a CloudFormation value into the text of an IAM5 finding (not exported
// from the package index; cdk-nag is pinned, and the nag test fails if the rendering ever drifts).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for exactly one wildcard resource (for example
 * `arn:…:s3:::bucket/*`) on one construct, leaving any other wildcard on it reported. The finding id
 * is computed from the same value the policy holds, the way the rule renders it, so it cannot go
 * stale when a name or logical id changes.
 */
export function acknowledgeWildcardResource(construct: IConstruct, resourceArn: string, reason: string): void {
  const rendered: string = flattenCfnReference(Stack.of(construct).resolve(resourceArn));
  Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}
