// Over 400 lines: one construct (bucket, CloudFront, Cognito pools and federation, config.json)
// whose parts reference each other; splitting the sign-in half out is the next step (issue 16 note).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AssetHashType, Aws, DockerImage, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib';
import type { BundlingOptions, CfnElement } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleContentSecurityPolicy } from '../../shared/contracts/console-headers.js';
import type { DeploymentConfig } from '../deployment-config.js';

/** The origins the archive bucket lets read presigned downloads: any CloudFront distribution's (data-stack.ts). */
export const CONSOLE_DOWNLOAD_ORIGIN = 'https://*.cloudfront.net';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export interface AuditorConsoleProps {
  readonly namePrefix: string;
  readonly config: DeploymentConfig;
  /** The lookup API: its id names the origin the page may call; its URL goes into config.json. */
  readonly apiId: string;
  readonly apiUrl: string;
  /** The archive bucket's regional domain: the presigned downloads the console verifies come from it. */
  readonly archiveBucketDomain: string;
  /** Managed policies of each role the sign-in can map a user to. */
  readonly auditorPolicies: iam.IManagedPolicy[];
  readonly legalAdminPolicies: iam.IManagedPolicy[];
}

/**
 * The auditor console, deployed: the static app in a private S3 bucket behind CloudFront (origin
 * access control, HTTPS only, security headers and a strict Content-Security-Policy), a Cognito user
 * pool that federates the organization's IdP (SAML or OIDC), and an identity pool that turns a signed-
 * in user's groups into temporary credentials of the auditor or legal admin role, with which the
 * browser signs its calls to the IAM-authorized lookup API (SigV4). The app reads the API URL, pool
 * ids and region from `config.json`, written here at deploy beside the build.
 */
export class AuditorConsole extends Construct {
  readonly siteBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly identityPool: cognito.CfnIdentityPool;
  readonly auditorRole: iam.Role;
  readonly legalAdminRole: iam.Role;
  /** https://<distribution domain>: the origin the lookup API and the archive bucket allow (CORS). */
  readonly origin: string;

  constructor(scope: Construct, id: string, props: AuditorConsoleProps) {
    super(scope, id);
    const { config } = props;
    const region = Stack.of(this).region;

    this.siteBucket = new s3.Bucket(this, 'SiteBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // The build is reproducible from the repository: nothing here is evidence.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.siteBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the public build of the console and its ' +
        'config.json (no data); readers reach it only through CloudFront, ' +
        'and the archive bucket, which holds the evidence, keeps server ' +
        'access logs.',
    });

    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${props.namePrefix}-auditors`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      // Users created in the pool itself (consoleIdp none) need a second factor; federated users
      // bring their IdP's.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: cognito.AccountRecovery.NONE,
      customAttributes: { groups: new cognito.StringAttribute({ mutable: true, maxLen: 2048 }) },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan (threat protection) is left to the deployer: ' +
        'sign-in is federated to the organization IdP, which applies ' +
        'its own risk checks, and pool users need MFA.',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG3',
      reason:
        'Threat protection (the Plus feature plan) is left to the deployer: ' +
        'sign-in is federated to the organization IdP, which enforces ' +
        'its own risk checks, and pool users need MFA.',
    });

    const provider = this.identityProvider(config);
    const domainPrefix = config.consoleDomainPrefix ?? `${props.namePrefix}-auditors`;
    const domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    const cspConnect = [
      `https://${props.apiId}.execute-api.${region}.${Aws.URL_SUFFIX}`,
      `https://${props.archiveBucketDomain}`,
      `https://${domainPrefix}.auth.${region}.amazoncognito.com`,
      `https://cognito-identity.${region}.amazonaws.com`,
    ];
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Auditor console: CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy(cspConnect), override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(63_072_000),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    // The casts bridge a library typing gap (Bucket's isWebsite getter is `boolean | undefined`, which
    // IBucket's optional property rejects under exactOptionalPropertyTypes); it is the same object.
    const site = this.siteBucket as s3.IBucket;
    const siteOrigin = origins.S3BucketOrigin.withOriginAccessControl(site);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${props.namePrefix} auditor console`,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: siteOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      additionalBehaviors: {
        // Written at each deploy: never served stale.
        '/config.json': {
          origin: siteOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: headers,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Auditors may work from anywhere; access is decided by sign-in and IAM, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves a static public build; every data call ' +
          'goes to the SigV4-authorized lookup API, so a web ACL here would ' +
          'guard nothing secret. Attach one if the account policy requires ' +
          'it.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'Standard logging needs an ACL-enabled log bucket; who read what ' +
          'is recorded by the lookup API (access trail and stage access ' +
          'log), not by fetches of the static app.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate, with which CloudFront ' +
          'negotiates TLS 1.2 or later for modern browsers; a custom domain ' +
          'and certificate (minimum TLSv1.2_2021) is a deployer choice.',
      },
    );
    this.origin = `https://${this.distribution.distributionDomainName}`;

    this.userPoolClient = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: {},
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [provider ? provider.provider : cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${this.origin}/`],
        logoutUrls: [`${this.origin}/`],
      },
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(8),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true })
        .withCustomAttributes('groups'),
      writeAttributes: new cognito.ClientAttributes(),
    });
    if (provider) this.userPoolClient.node.addDependency(provider.construct);

    // Server-side token check: a token revoked in the user pool is refused by the identity pool too.
    this.identityPool = new cognito.CfnIdentityPool(this, 'Identities', {
      identityPoolName: `${props.namePrefix}-auditors`,
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [
        {
          clientId: this.userPoolClient.userPoolClientId,
          providerName: this.userPool.userPoolProviderName,
          serverSideTokenCheck: true,
        },
      ],
    });

    // Only this identity pool's authenticated identities may take the roles.
    // https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html
    const assumedBy = new iam.WebIdentityPrincipal('cognito-identity.amazonaws.com', {
      StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
      'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
    });
    this.auditorRole = new iam.Role(this, 'AuditorRole', {
      description: 'Auditor console users in the auditor group: search, read, download, verify, access trail',
      assumedBy,
      maxSessionDuration: Duration.hours(1),
      managedPolicies: props.auditorPolicies,
    });
    this.legalAdminRole = new iam.Role(this, 'LegalAdminRole', {
      description: 'Auditor console users in the legal admin group: the auditor routes plus holds and exports',
      assumedBy,
      maxSessionDuration: Duration.hours(1),
      managedPolicies: props.legalAdminPolicies,
    });

    // Rules on the groups the IdP sent (mapped into custom:groups), first match wins, legal admin
    // first; a user in neither group gets no credentials at all (AmbiguousRoleResolution Deny).
    // https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
    new cognito.CfnIdentityPoolRoleAttachment(this, 'RoleMapping', {
      identityPoolId: this.identityPool.ref,
      roleMappings: {
        console: {
          identityProvider: `${this.userPool.userPoolProviderName}:${this.userPoolClient.userPoolClientId}`,
          type: 'Rules',
          ambiguousRoleResolution: 'Deny',
          rulesConfiguration: {
            rules: [
              {
                claim: 'custom:groups',
                matchType: 'Contains',
                value: config.consoleLegalAdminGroup,
                roleArn: this.legalAdminRole.roleArn,
              },
              {
                claim: 'custom:groups',
                matchType: 'Contains',
                value: config.consoleAuditorGroup,
                roleArn: this.auditorRole.roleArn,
              },
            ],
          },
        },
      },
    });

    // The build and its settings. The build runs at synth (local bundling, Vite); config.json is
    // written from this deployment's values, so one build serves every stack.
    new s3deploy.BucketDeployment(this, 'Site', {
      destinationBucket: site,
      sources: [
        s3deploy.Source.asset(`${PROJECT_ROOT}/console`, {
          // Hashed by what is built: the console also compiles code from shared/ and cli/.
          assetHashType: AssetHashType.OUTPUT,
          exclude: ['dist', 'node_modules'],
          bundling: consoleBundling(),
        }),
        s3deploy.Source.jsonData('config.json', {
          apiUrl: props.apiUrl,
          region,
          auth: {
            kind: 'cognito',
            userPoolDomain: domain.baseUrl(),
            userPoolId: this.userPool.userPoolId,
            userPoolClientId: this.userPoolClient.userPoolClientId,
            identityPoolId: this.identityPool.ref,
            ...(provider ? { identityProvider: provider.name } : {}),
          },
        }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      prune: true,
      memoryLimit: 256,
    });
    acknowledgeBucketDeploymentProvider(Stack.of(this), this.siteBucket);
  }

  /** The federated IdP, mapping its groups attribute into custom:groups, or none (pool users). */
  private identityProvider(
    config: DeploymentConfig,
  ): { provider: cognito.UserPoolClientIdentityProvider; construct: Construct; name: string } | undefined {
    const attributeMapping: cognito.AttributeMapping = {
      email: cognito.ProviderAttribute.other('email'),
      // The key is the user pool attribute's full name: CDK passes custom keys through as written.
      custom: { 'custom:groups': cognito.ProviderAttribute.other(config.consoleGroupsAttribute) },
    };
    const name = 'OrgIdP';
    if (config.consoleIdp === 'saml' && config.consoleSamlMetadataUrl) {
      const idp = new cognito.UserPoolIdentityProviderSaml(this, 'SamlIdP', {
        userPool: this.userPool,
        name,
        metadata: cognito.UserPoolIdentityProviderSamlMetadata.url(config.consoleSamlMetadataUrl),
        attributeMapping,
      });
      return { provider: cognito.UserPoolClientIdentityProvider.custom(name), construct: idp, name };
    }
    if (
      config.consoleIdp === 'oidc' &&
      config.consoleOidcIssuer &&
      config.consoleOidcClientId &&
      config.consoleOidcClientSecretName
    ) {
      const idp = new cognito.UserPoolIdentityProviderOidc(this, 'OidcIdP', {
        userPool: this.userPool,
        name,
        issuerUrl: config.consoleOidcIssuer,
        clientId: config.consoleOidcClientId,
        // A dynamic reference ({{resolve:secretsmanager:…}}), resolved by CloudFormation at deploy:
        // the secret itself never appears in the template.
        clientSecret: SecretValue.secretsManager(config.consoleOidcClientSecretName).unsafeUnwrap(),
        scopes: ['openid', 'email', 'profile'],
        attributeRequestMethod: cognito.OidcAttributeRequestMethod.GET,
        attributeMapping,
      });
      return { provider: cognito.UserPoolClientIdentityProvider.custom(name), construct: idp, name };
    }
    return undefined;
  }
}

/**
 * cdk-nag findings on the CDK's BucketDeployment provider (one function per stack and memory size,
 * made by the CDK): each acknowledged by its finding id, on the provider's own constructs.
 */
function acknowledgeBucketDeploymentProvider(stack: Stack, siteBucket: s3.Bucket): void {
  const provider = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!provider) return;
  const reason =
    'The CDK BucketDeployment provider, made by the CDK, copies the ' +
    'console build from the CDK asset bucket into the console bucket ' +
    'at deploy time; its managed execution policy, grants and runtime ' +
    "are the CDK's.";
  Validations.of(provider).acknowledge({ id: 'AwsSolutions-L1', reason });
  const role = provider.node.tryFindChild('ServiceRole');
  if (!role) return;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason,
  });
  for (const finding of [
    'Action::s3:GetBucket*',
    'Action::s3:GetObject*',
    'Action::s3:List*',
    'Action::s3:Abort*',
    'Action::s3:DeleteObject*',
    // The CDK asset bucket, named as cdk-nag prints it: a concrete region or account when the stack has one.
    `Resource::arn:${shown(stack.partition, '<AWS::Partition>')}:s3:::cdk-hnb659fds-assets-` +
      `${shown(stack.account, '<AWS::AccountId>')}-${shown(stack.region, '<AWS::Region>')}/*`,
    `Resource::<${stack.getLogicalId(siteBucket.node.defaultChild as CfnElement)}.Arn>/*`,
    'Resource::*',
  ]) {
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

/** A stack attribute as cdk-nag prints it: its value, or the pseudo parameter's name while it is a token. */
function shown(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? pseudo : value;
}

/** Builds the console with Vite at synth, into the asset's output folder (no container). */
function consoleBundling(): BundlingOptions {
  return {
    // Required by the type; never pulled, because the local build either succeeds or fails the synth.
    image: DockerImage.fromRegistry('unused-local-bundling-only'),
    local: {
      tryBundle(outputDir: string): boolean {
        execFileSync(
          process.execPath,
          [
            `${PROJECT_ROOT}/node_modules/vite/bin/vite.js`,
            'build',
            '--config',
            `${PROJECT_ROOT}/console/vite.config.ts`,
            '--outDir',
            outputDir,
            '--emptyOutDir',
            '--logLevel',
            'warn',
          ],
          { cwd: PROJECT_ROOT, stdio: 'inherit' },
        );
        return true;
      },
    },
  };
}
