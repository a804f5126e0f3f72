import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../infra/deployment-config.js';
import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';
import { logicalIdOf, resourcesOf, statementsOf, synthArchiver } from './archiver-fixture.js';

/**
 * The auditor console as the CDK app deploys it (archiver:console=create, federated to a SAML IdP):
 * what reaches the browser (CloudFront, headers), who may sign in and which role they get (Cognito),
 * and what the console may call (CORS on the lookup API and the archive bucket). Bundling is skipped
 * here as in every template test; `cdk synth` builds the console with Vite.
 */
const SAML_METADATA = 'https://idp.example.com/saml/metadata.xml';
const archiver = synthArchiver({
  'archiver:console': 'create',
  'archiver:consoleIdp': 'saml',
  'archiver:consoleSamlMetadataUrl': SAML_METADATA,
});
const t = archiver.serviceTemplate;
const consoleConstruct = archiver.service.auditorConsole;
if (!consoleConstruct) throw new Error('the console was not created');
const distributionId = logicalIdOf(consoleConstruct.distribution);
const originJoin = {
  'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]],
};

describe('the auditor console, deployed', () => {
  it('is off unless asked for: the default synth has no distribution, user pool or console output', () => {
    const plain = synthArchiver();
    expect(plain.service.auditorConsole).toBeUndefined();
    expect(Object.keys(resourcesOf(plain.serviceTemplate, 'AWS::CloudFront::Distribution'))).toEqual([]);
    expect(Object.keys(resourcesOf(plain.serviceTemplate, 'AWS::Cognito::UserPool'))).toEqual([]);
  });

  it('serves the build from a private bucket through CloudFront origin access control, HTTPS only', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        CacheBehaviors: [Match.objectLike({ PathPattern: '/config.json', ViewerProtocolPolicy: 'https-only' })],
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
      }),
    });
    // Only CloudFront, for this distribution, may read the bucket.
    const policy = Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy')).find((p) =>
      JSON.stringify(p.Properties).includes('cloudfront.amazonaws.com'),
    );
    const read = statementsOf(policy?.Properties['PolicyDocument']).find((s) => s.Effect === 'Allow');
    expect(read).toMatchObject({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' });
    expect(JSON.stringify(read?.Condition)).toContain(distributionId);
  });

  it('sends a strict Content-Security-Policy and the security headers with every answer', () => {
    const [policy] = Object.values(resourcesOf(t, 'AWS::CloudFront::ResponseHeadersPolicy'));
    const headers = policy?.Properties['ResponseHeadersPolicyConfig']['SecurityHeadersConfig'];
    const csp = JSON.stringify(headers['ContentSecurityPolicy']['ContentSecurityPolicy']);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // connect-src: the lookup API, the archive bucket and Cognito, nothing else.
    expect(csp).toContain('.execute-api.');
    expect(csp).toContain('cognito-identity.');
    expect(headers).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
  });

  it('signs users in through the organization IdP only, with the code flow back to the console', () => {
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderType: 'SAML',
      ProviderDetails: Match.objectLike({ MetadataURL: SAML_METADATA }),
      AttributeMapping: { 'custom:groups': 'groups', email: 'email' },
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: [Match.anyValue()],
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']] }],
    });
    const [client] = Object.values(resourcesOf(t, 'AWS::Cognito::UserPoolClient'));
    expect(JSON.stringify(client?.Properties['SupportedIdentityProviders'])).not.toContain('COGNITO');
  });

  it("maps the IdP's groups to the legal admin role first, then the auditor role, and refuses anyone else", () => {
    t.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
      AllowClassicFlow: false,
      CognitoIdentityProviders: [Match.objectLike({ ServerSideTokenCheck: true })],
    });
    const [attachment] = Object.values(resourcesOf(t, 'AWS::Cognito::IdentityPoolRoleAttachment'));
    const mapping = attachment?.Properties['RoleMappings']['console'];
    expect(mapping).toMatchObject({ Type: 'Rules', AmbiguousRoleResolution: 'Deny' });
    expect(mapping.RulesConfiguration.Rules).toEqual([
      {
        Claim: 'custom:groups',
        MatchType: 'Contains',
        Value: 'archiver-legal-admins',
        RoleARN: { 'Fn::GetAtt': [logicalIdOf(consoleConstruct.legalAdminRole), 'Arn'] },
      },
      {
        Claim: 'custom:groups',
        MatchType: 'Contains',
        Value: 'archiver-auditors',
        RoleARN: { 'Fn::GetAtt': [logicalIdOf(consoleConstruct.auditorRole), 'Arn'] },
      },
    ]);
    expect(attachment?.Properties['Roles']).toBeUndefined();
  });

  it("lets only this identity pool's signed-in identities take the roles, which hold the lookup API's policies", () => {
    for (const [role, policy] of [
      [consoleConstruct.auditorRole, archiver.service.lookupApi.auditorPolicy],
      [consoleConstruct.legalAdminRole, archiver.service.lookupApi.legalAdminPolicy],
    ] as const) {
      const props = resourcesOf(t, 'AWS::IAM::Role')[logicalIdOf(role)]?.Properties;
      expect(props?.['AssumeRolePolicyDocument']['Statement']).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: logicalIdOf(consoleConstruct.identityPool) } },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        },
      ]);
      expect(props?.['ManagedPolicyArns']).toEqual([{ Ref: logicalIdOf(policy) }]);
      expect(props?.['MaxSessionDuration']).toBe(3600);
    }
  });

  it("lets the console's origin call the lookup API: preflights, error answers and the function's answers", () => {
    const apiId = logicalIdOf(archiver.service.lookupApi.api);
    const methods = Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).filter(
      (m) => JSON.stringify(m.Properties['RestApiId']) === JSON.stringify({ Ref: apiId }),
    );
    const preflights = methods.filter((m) => m.Properties['HttpMethod'] === 'OPTIONS');
    // One preflight per route resource, whatever routes the table gains.
    expect(preflights.length).toBe(new Set(LOOKUP_ROUTES.map((r) => r.resource)).size);
    for (const p of preflights) {
      expect(p.Properties['AuthorizationType']).toBe('NONE');
      expect(p.Properties['Integration']['Type']).toBe('MOCK');
      const headers = p.Properties['Integration']['IntegrationResponses'][0]['ResponseParameters'];
      expect(headers['method.response.header.Access-Control-Allow-Origin']).toEqual({
        'Fn::Join': ['', ["'https://", { 'Fn::GetAtt': [distributionId, 'DomainName'] }, "'"]],
      });
    }
    // Every route itself still requires SigV4.
    for (const m of methods.filter((m) => m.Properties['HttpMethod'] !== 'OPTIONS'))
      expect(m.Properties['AuthorizationType']).toBe('AWS_IAM');
    const responses = Object.values(resourcesOf(t, 'AWS::ApiGateway::GatewayResponse')).filter(
      (r) => JSON.stringify(r.Properties['RestApiId']) === JSON.stringify({ Ref: apiId }),
    );
    expect(responses.map((r) => r.Properties['ResponseType']).sort()).toEqual(['DEFAULT_4XX', 'DEFAULT_5XX']);
    for (const r of responses)
      expect(r.Properties['ResponseParameters']['gatewayresponse.header.Access-Control-Allow-Origin']).toEqual({
        'Fn::Join': ['', ["'https://", { 'Fn::GetAtt': [distributionId, 'DomainName'] }, "'"]],
      });
    const lookupFn = resourcesOf(t, 'AWS::Lambda::Function')[logicalIdOf(archiver.service.lookup.function)];
    expect(lookupFn?.Properties['Environment']['Variables']['CONSOLE_ORIGIN']).toEqual(originJoin);
  });

  it('lets browsers on CloudFront read presigned downloads from the archive bucket (GET and HEAD only)', () => {
    archiver.dataTemplate.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      CorsConfiguration: {
        CorsRules: [{ AllowedOrigins: ['https://*.cloudfront.net'], AllowedMethods: ['GET', 'HEAD'], MaxAge: 600 }],
      },
    });
    // Without the console, no CORS rule at all.
    const plain = synthArchiver();
    const buckets = Object.values(resourcesOf(plain.dataTemplate, 'AWS::S3::Bucket'));
    expect(buckets.some((b) => b.Properties['CorsConfiguration'] !== undefined)).toBe(false);
  });

  it("writes config.json at deploy from this stack's API, pools and region, beside the build", () => {
    const [deployment] = Object.values(resourcesOf(t, 'Custom::CDKBucketDeployment'));
    expect(deployment?.Properties['DestinationBucketName']).toEqual({
      Ref: logicalIdOf(consoleConstruct.siteBucket),
    });
    expect(deployment?.Properties['SourceObjectKeys']).toHaveLength(2);
    const markers = JSON.stringify(deployment?.Properties['SourceMarkers']);
    for (const ref of [
      logicalIdOf(consoleConstruct.userPool),
      logicalIdOf(consoleConstruct.userPoolClient),
      logicalIdOf(consoleConstruct.identityPool),
      logicalIdOf(archiver.service.lookupApi.api),
    ])
      expect(markers).toContain(ref);
    expect(deployment?.Properties['DistributionPaths']).toEqual(['/index.html', '/config.json']);
  });

  it('stays cdk-nag clean with the console, each acknowledgment narrow', () => {
    const report = new AwsSolutionsChecks().validateScope(archiver.app);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual(
      [],
    );
  });

  it('refuses an IdP without its settings, naming the key to set', () => {
    expect(() => parseDeploymentConfig({ 'archiver:consoleIdp': 'saml' })).toThrow(/consoleSamlMetadataUrl/);
    expect(() => parseDeploymentConfig({ 'archiver:consoleIdp': 'oidc' })).toThrow(/consoleOidcIssuer/);
    expect(() =>
      parseDeploymentConfig({ 'archiver:consoleAuditorGroup': 'x', 'archiver:consoleLegalAdminGroup': 'x-admins' }),
    ).toThrow(/neither group name/);
  });
});
