//! Table tests over messages composed in the shapes Terraform and the AWS SDKs
//! (Go v1 and v2) print; none is copied from the agreement fixture, which the
//! bench measures separately.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;

/// `expected_action` is the IAM action extraction should find ("" for none).
#[track_caller]
fn check(message: &str, expected: Category, expected_action: &str) {
    let d = classify(message);
    assert_eq!(d.category, expected, "category of {message:?} (rule {}, {})", d.rule, d.explanation);
    let want = (!expected_action.is_empty()).then(|| expected_action.to_string());
    assert_eq!(d.extracted.action, want, "action of {message:?}");
}

#[test]
fn permission_errors() {
    check(
        "Error: creating S3 Bucket (acme-prod-uploads): operation error S3: CreateBucket, https response error StatusCode: 403, RequestID: 7Y3KQ9ZP0D2M4X1C, HostID: qwerty, api error AccessDenied: Access Denied",
        Category::Permission,
        "s3:CreateBucket",
    );
    check(
        "Error: Error launching source instance: UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: aGVsbG8gd29ybGQ\n\tstatus code: 403, request id: 1a2b3c4d-0000-4000-8000-123456789abc",
        Category::Permission,
        "ec2:RunInstances",
    );
    check(
        "Error: creating Lambda Function (orders-api): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/deployer/ci-42 is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:111122223333:function:orders-api because no identity-based policy allows the lambda:CreateFunction action",
        Category::Permission,
        "lambda:CreateFunction",
    );
    check(
        "Error: reading KMS Key (abcd): AccessDeniedException: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:DescribeKey on resource: arn:aws:kms:eu-west-1:111122223333:key/abcd with an explicit deny in a service control policy",
        Category::Permission,
        "kms:DescribeKey",
    );
    check(
        "* aws_sns_topic.alerts: AuthorizationError: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: SNS:CreateTopic on resource: arn:aws:sns:us-east-1:111122223333:alerts\n\tstatus code: 403",
        Category::Permission,
        "sns:CreateTopic",
    );
    // Auto Scaling wraps a denial in a validation code; the words win.
    check(
        "Error creating Auto Scaling Group: ValidationError: You are not authorized to perform this operation.",
        Category::Permission,
        "autoscaling:CreateAutoScalingGroup",
    );
    check("Error: reading S3 Bucket policy (site): Forbidden: Forbidden\n\tstatus code: 403, request id: 0A1B2C3D4E5F6A7B", Category::Permission, "");
    check(
        "Error: creating DynamoDB Table (orders): operation error DynamoDB: CreateTable, https response error StatusCode: 400, RequestID: 5VQ8ABCDEF, api error AccessDeniedException: User: arn:aws:iam::111122223333:user/deployer is not authorized to perform: dynamodb:CreateTable on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders because no identity-based policy allows the dynamodb:CreateTable action",
        Category::Permission,
        "dynamodb:CreateTable",
    );
    // A denial with a named action outranks the state lock it happened in: it is auto-fixable.
    check(
        "Error: Error acquiring the state lock\n\nError message: operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: QWERTY12345, api error AccessDeniedException: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/tf-locks",
        Category::Permission,
        "dynamodb:PutItem",
    );
    // Denied AssumeRole: a policy problem, not a credentials one.
    check(
        "Error: Cannot assume IAM Role: AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/deploy",
        Category::Permission,
        "sts:AssumeRole",
    );
    check("Error: you do not have permission to access the requested Route53 zone", Category::Permission, "");
}

#[test]
fn configuration_errors() {
    check(
        "Error: Unsupported argument\n\n  on main.tf line 14, in resource \"aws_s3_bucket\" \"logs\":\n  14:   acl_policy = \"private\"\n\nAn argument named \"acl_policy\" is not expected here.",
        Category::Configuration,
        "",
    );
    check(
        "╷\n│ Error: Missing required argument\n│ \n│   on lambda.tf line 3, in resource \"aws_lambda_function\" \"api\":\n│    3: resource \"aws_lambda_function\" \"api\" {\n│ \n│ The argument \"role\" is required, but no definition was found.\n╵",
        Category::Configuration,
        "",
    );
    check(
        "Error: creating Lambda Function (orders-api): operation error Lambda: CreateFunction, https response error StatusCode: 400, RequestID: 0f0e0d0c-aaaa-bbbb-cccc-000011112222, InvalidParameterValueException: The runtime parameter of nodejs12.x is no longer supported for creating or updating AWS Lambda functions.",
        Category::Configuration,
        "lambda:CreateFunction",
    );
    check(
        "Error: putting IAM Role (app) Policy (inline): operation error IAM: PutRolePolicy, https response error StatusCode: 400, RequestID: 11111111-2222-3333-4444-555555555555, MalformedPolicyDocument: Policy document should not specify a principal.",
        Category::Configuration,
        "iam:PutRolePolicy",
    );
    check("Error: expected instance_type to be one of [t3.micro t3.small], got t2.nano", Category::Configuration, "");
    check(
        "Error: creating ELBv2 Target Group (orders_tg): ValidationError: Target group name 'orders_tg' can only contain characters that are alphanumeric characters or hyphens(-)\n\tstatus code: 400, request id: 3b9f4a1e-1111-2222-3333-444455556666",
        Category::Configuration,
        "",
    );
    check(
        "Error: Reference to undeclared resource\n\n  on network.tf line 8:\n   8:   vpc_id = aws_vpc.main.id\n\nA managed resource \"aws_vpc\" \"main\" has not been declared in the root module.",
        Category::Configuration,
        "",
    );
    check("Error: creating SQS Queue (jobs.fifo): InvalidAttributeValue: Invalid value for the parameter FifoQueue.", Category::Configuration, "");
    check(
        "Error: creating RDS DB Instance (orders): operation error RDS: CreateDBInstance, https response error StatusCode: 400, RequestID: abc, api error InvalidParameterCombination: Cannot find version 16.0 for postgres",
        Category::Configuration,
        "rds:CreateDBInstance",
    );
    check("Error: Invalid value for variable\n\nenvironment must be one of dev, test, prod.", Category::Configuration, "");
    check(
        "Error: reading S3 Bucket (site): PermanentRedirect: The bucket you are attempting to access must be addressed using the specified endpoint.\n\tstatus code: 301",
        Category::Configuration,
        "",
    );
    check(
        "Error: Invalid provider configuration\n\nProvider \"registry.terraform.io/hashicorp/aws\" requires explicit configuration.",
        Category::Configuration,
        "",
    );
}

#[test]
fn resource_errors() {
    check(
        "Error: creating EC2 Security Group (web): operation error EC2: CreateSecurityGroup, https response error StatusCode: 400, RequestID: 9d9d9d9d-0000-1111-2222-333344445555, api error InvalidGroup.Duplicate: The security group 'web' already exists for VPC 'vpc-0a1b2c3d4e5f60718'",
        Category::Resource,
        "ec2:CreateSecurityGroup",
    );
    check(
        "Error: deleting EC2 Subnet (subnet-0123456789abcdef0): operation error EC2: DeleteSubnet, https response error StatusCode: 400, RequestID: x, api error DependencyViolation: The subnet 'subnet-0123456789abcdef0' has dependencies and cannot be deleted.",
        Category::Resource,
        "ec2:DeleteSubnet",
    );
    // NotFound outranks the Invalid… prefix that would say configuration.
    check(
        "Error: reading EC2 Instance (i-0123456789abcdef0): InvalidInstanceID.NotFound: The instance ID 'i-0123456789abcdef0' does not exist\n\tstatus code: 400",
        Category::Resource,
        "",
    );
    check(
        "Error: deleting S3 Bucket (acme-logs): operation error S3: DeleteBucket, https response error StatusCode: 409, RequestID: R1, HostID: H1, api error BucketNotEmpty: The bucket you tried to delete is not empty",
        Category::Resource,
        "s3:DeleteBucket",
    );
    check(
        "Error: creating Secrets Manager Secret (db-password): ResourceExistsException: The operation failed because the secret db-password already exists.",
        Category::Resource,
        "",
    );
    check("Error: creating RDS DB Instance (orders-db): DBInstanceAlreadyExists: DB instance already exists\n\tstatus code: 400", Category::Resource, "");
    check("Error: deleting IAM Role (app): DeleteConflict: Cannot delete entity, must detach all policies first.\n\tstatus code: 409", Category::Resource, "");
    check(
        "Error: creating EC2 Instance: InsufficientInstanceCapacity: We currently do not have sufficient m5.large capacity in the Availability Zone you requested (us-east-1e).",
        Category::Resource,
        "",
    );
    check(
        "Error: creating Secrets Manager Secret (app): KMSInvalidStateException: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is pending deletion.",
        Category::Resource,
        "",
    );
    check("Error: reading Route 53 Hosted Zone: no matching Route 53 Hosted Zone found", Category::Resource, "");
    check(
        "Error: creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 400, RequestID: r, api error InvalidAMIID.NotFound: The image id '[ami-0123456789abcdef0]' does not exist",
        Category::Resource,
        "ec2:RunInstances",
    );
    check(
        "Error: modifying RDS Cluster (orders): InvalidDBClusterStateFault: DB cluster is not available for modification with status backing-up",
        Category::Resource,
        "",
    );
    check(
        "Error: deleting RDS DB Instance (orders): OperationNotPermitted: Cannot delete protected DB Instance, please disable deletion protection and try again.",
        Category::Resource,
        "",
    );
}

#[test]
fn state_errors() {
    check(
        "Error: Error acquiring the state lock\n\nError message: operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: Q1, api error ConditionalCheckFailedException: The conditional request failed\nLock Info:\n  ID:        0b7c9c55-6f1d-4e4c-9d5e-5a1e2f3a4b5c\n  Path:      acme-tfstate/prod/terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       runner@ci-7\n  Version:   1.9.5\n  Created:   2025-01-14 08:00:01.5 +0000 UTC\n  Info:",
        Category::State,
        "dynamodb:PutItem",
    );
    check("Error: Failed to load state: AccessDenied: Access Denied\n\tstatus code: 403, request id: 1234ABCD5678EF90", Category::State, "");
    check(
        "Error: Failed to save state\n\nError saving state: failed to upload state: operation error S3: PutObject, https response error StatusCode: 403, RequestID: A, HostID: B, api error AccessDenied: Access Denied",
        Category::State,
        "s3:PutObject",
    );
    check(
        "Error: Resource already managed by Terraform\n\nTerraform is already managing a remote object for aws_s3_bucket.logs. To import to this address you must first remove the existing object from the state.",
        Category::State,
        "",
    );
    check("Error: Backend initialization required, please run \"terraform init\"", Category::State, "");
    check(
        "Error: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
        Category::State,
        "",
    );
    check("Error: state snapshot was created by Terraform v1.9.0, which is newer than current v1.5.7", Category::State, "");
}

#[test]
fn network_errors() {
    check(
        "Error: reading S3 Bucket (acme): RequestError: send request failed\ncaused by: Get \"https://acme.s3.amazonaws.com/?acl=\": dial tcp: lookup acme.s3.amazonaws.com: no such host",
        Category::Network,
        "",
    );
    check(
        "Error: configuring Terraform AWS Provider: validating provider credentials: retrieving caller identity from STS: operation error STS: GetCallerIdentity, exceeded maximum number of attempts, 25, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://sts.eu-west-1.amazonaws.com/\": dial tcp 52.94.0.1:443: connect: connection refused",
        Category::Network,
        "sts:GetCallerIdentity",
    );
    check("Error: Post \"https://lambda.us-east-1.amazonaws.com/\": net/http: TLS handshake timeout", Category::Network, "");
    check("Error: Get \"https://ec2.us-east-1.amazonaws.com/\": x509: certificate signed by unknown authority", Category::Network, "");
    // A waiter that ran out of time: retrying is the remedy (see the module doc).
    check(
        "Error: waiting for EKS Node Group (prod:workers) create: timeout while waiting for state to become 'ACTIVE' (last state: 'CREATING', timeout: 1h0m0s)",
        Category::Network,
        "",
    );
    check("Error: creating S3 Bucket: InternalError: We encountered an internal error. Please try again.\n\tstatus code: 500", Category::Network, "");
    check(
        "ServiceUnavailable: Service is unable to handle request.\n\tstatus code: 503, request id: 00000000-1111-2222-3333-444444444444",
        Category::Network,
        "",
    );
    check("Error: read tcp 10.0.0.5:51234->52.94.0.1:443: read: connection reset by peer", Category::Network, "");
    check("Error: creating CloudFront Distribution: context deadline exceeded", Category::Network, "");
}

#[test]
fn quota_errors() {
    check(
        "Error: creating EC2 VPC: operation error EC2: CreateVpc, https response error StatusCode: 400, RequestID: 4c4c4c4c-5d5d-6e6e-7f7f-808080808080, api error VpcLimitExceeded: The maximum number of VPCs has been reached.",
        Category::Quota,
        "ec2:CreateVpc",
    );
    check(
        "Error: creating Lambda Function (worker): operation error Lambda: CreateFunction, https response error StatusCode: 429, RequestID: r, TooManyRequestsException: Rate exceeded",
        Category::Quota,
        "lambda:CreateFunction",
    );
    check("Error: describing EC2 Images: Throttling: Rate exceeded\n\tstatus code: 400, request id: 0e0e0e0e-1111-2222-3333-444455556666", Category::Quota, "");
    check("ServiceQuotaExceededException: You have exceeded the quota for the number of domains in this account.", Category::Quota, "");
    check(
        "Error: creating EC2 Instance: VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to.",
        Category::Quota,
        "",
    );
    check("Error: attaching IAM Policy to user ci: LimitExceeded: Cannot exceed quota for ManagedPoliciesPerUser: 20", Category::Quota, "");
    check("Error: creating Elastic IP: The maximum number of Elastic IPs for this Region has been reached", Category::Quota, "");
    // "maximum number of attempts" is a retry budget, not a quota.
    check("operation error S3: HeadBucket, exceeded maximum number of attempts, 3, https response error StatusCode: 503", Category::Network, "s3:HeadBucket");
}

#[test]
fn credentials_errors() {
    check("Error: configuring Terraform AWS Provider: failed to get shared config profile, acme-prod", Category::Credentials, "");
    check(
        "Error: retrieving caller identity from STS: operation error STS: GetCallerIdentity, https response error StatusCode: 403, RequestID: 5e5e5e5e-6f6f-7a7a-8b8b-9c9c9c9c9c9c, api error InvalidClientTokenId: The security token included in the request is invalid.",
        Category::Credentials,
        "sts:GetCallerIdentity",
    );
    check("SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.", Category::Credentials, "");
    // The metadata service timing out ends in "no credentials": the fix is the profile, not the network.
    check(
        "Error: configuring Terraform AWS Provider: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, request canceled, context deadline exceeded",
        Category::Credentials,
        "",
    );
    check(
        "Error: configuring Terraform AWS Provider: the SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.",
        Category::Credentials,
        "",
    );
    check("Error: AuthFailure: AWS was not able to validate the provided access credentials\n\tstatus code: 401", Category::Credentials, "");
    check(
        "Error: Cannot assume IAM Role\n\nIAM Role (arn:aws:iam::111122223333:role/deploy) cannot be assumed.\n\nThere are a number of possible causes of this - the most common are:\n  * The credentials used in order to assume the role are invalid\n  * The role ARN is not valid",
        Category::Credentials,
        "",
    );
    check("ExpiredToken: The security token included in the request is expired\n\tstatus code: 403", Category::Credentials, "");
}

#[test]
fn unknown_and_status_only() {
    check("Error: something strange happened", Category::Unknown, "");
    check("", Category::Unknown, "");
    check("Error: unexpected response\n\tstatus code: 429", Category::Quota, "");
    check("Error: unexpected response\n\tstatus code: 404", Category::Resource, "");
    let d = classify("Error: something strange happened");
    assert_eq!(d.confidence, Confidence::Low);
    assert_eq!(d.suggested_solutions[0].id, "inspect-manually");
}

#[test]
fn extraction() {
    let x = extract(
        "│ Error: creating IAM Role (app-exec): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 0a1b2c3d-1111-2222-3333-444455556666, EntityAlreadyExists: Role with name app-exec already exists.\n│ \n│   with module.svc[\"orders\"].aws_iam_role.exec[0],\n│   on modules/svc/iam.tf line 4, in resource \"aws_iam_role\" \"exec\":\n│    4: resource \"aws_iam_role\" \"exec\" {",
    );
    assert_eq!(x.aws_error_code.as_deref(), Some("EntityAlreadyExists"));
    assert_eq!(x.http_status, Some(409));
    assert_eq!(x.service.as_deref(), Some("IAM"));
    assert_eq!(x.action.as_deref(), Some("iam:CreateRole"));
    assert!(!x.access_denied && !x.action_denied);
    assert_eq!(x.resource_address.as_deref(), Some("module.svc[\"orders\"].aws_iam_role.exec[0]"));
    assert_eq!(x.resource_type.as_deref(), Some("aws_iam_role"));
    assert_eq!(x.request_id.as_deref(), Some("0a1b2c3d-1111-2222-3333-444455556666"));

    let x = extract(
        "* aws_instance.web: Error launching source instance: AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/*\n\tstatus code: 403, request id: [4f4f4f4f-0000-1111-2222-333333333333]",
    );
    assert_eq!(x.aws_error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(x.action.as_deref(), Some("ec2:RunInstances"));
    assert!(x.access_denied && x.action_denied && !x.explicit_deny);
    assert_eq!(x.principal.as_deref(), Some("arn:aws:iam::111122223333:user/ci"));
    assert_eq!(x.denied_resource.as_deref(), Some("arn:aws:ec2:us-east-1:111122223333:instance/*"));
    assert_eq!(x.arns, vec!["arn:aws:iam::111122223333:user/ci", "arn:aws:ec2:us-east-1:111122223333:instance/*"]);
    assert_eq!(x.resource_address.as_deref(), Some("aws_instance.web"));
    assert_eq!(x.request_id.as_deref(), Some("4f4f4f4f-0000-1111-2222-333333333333"));

    // SDK service names → IAM prefixes.
    for (message, action) in [
        ("operation error CloudWatch Logs: PutRetentionPolicy, https response error StatusCode: 400", "logs:PutRetentionPolicy"),
        ("operation error Elastic Load Balancing v2: CreateLoadBalancer, https response error", "elasticloadbalancing:CreateLoadBalancer"),
        ("operation error SFN: CreateStateMachine, https response error", "states:CreateStateMachine"),
        ("operation error Secrets Manager: CreateSecret, https response error", "secretsmanager:CreateSecret"),
        ("operation error EventBridge: PutRule, https response error", "events:PutRule"),
        ("operation error Cognito Identity Provider: CreateUserPool, https response error", "cognito-idp:CreateUserPool"),
        ("operation error ApiGatewayV2: CreateApi, https response error", "apigateway:CreateApi"),
        ("error calling sts:GetCallerIdentity: NoCredentialProviders: no valid providers in chain", "sts:GetCallerIdentity"),
    ] {
        assert_eq!(extract(message).action.as_deref(), Some(action), "{message}");
    }
    // The service name is not an error code.
    assert_eq!(
        extract("operation error ApiGatewayV2: CreateApi, https response error StatusCode: 400, api error BadRequestException: bad").aws_error_code.as_deref(),
        Some("BadRequestException")
    );

    // Codes: the one after `api error` first; labels and quota names are not codes.
    let x = extract("https response error StatusCode: 400, RequestID: abc, HostID: def, api error LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10");
    assert_eq!(x.aws_error_code.as_deref(), Some("LimitExceeded"));
    assert!(x.other_error_codes.is_empty(), "{:?}", x.other_error_codes);
    let x = extract("InvalidParameterValueException: throttled by EC2. EC2 Error Code: RequestLimitExceeded. EC2 Error Message: Request limit exceeded.");
    assert_eq!(x.aws_error_code.as_deref(), Some("InvalidParameterValueException"));
    assert_eq!(x.other_error_codes, vec!["RequestLimitExceeded"]);
    assert_eq!(extract("InvalidParameter: 2 validation error(s) found.").aws_error_code.as_deref(), Some("InvalidParameter"));

    // `in resource "type" "name"` gives the type when no address is printed.
    let x = extract("Error: Unsupported argument\n\n  on main.tf line 2, in resource \"aws_lambda_function\" \"api\":\n   2:   runtimes = []");
    assert_eq!((x.resource_address, x.resource_type.as_deref()), (None, Some("aws_lambda_function")));
    // The provider block is not a resource.
    assert_eq!(extract("with provider[\"registry.terraform.io/hashicorp/aws\"],\n on main.tf line 1").resource_address, None);
    // Placeholders people paste are not request ids.
    assert_eq!(extract("status code: 400, request id: <snip>, host id: <snip>").request_id, None);
    assert_eq!(extract("status code: 400, request id: , host id: ").request_id, None);
    // The lock id.
    assert_eq!(
        extract("Error acquiring the state lock\nLock Info:\n  ID:        8f1e3c2a-1b2c-4d5e-8f90-0a1b2c3d4e5f\n  Path: x").state_lock_id.as_deref(),
        Some("8f1e3c2a-1b2c-4d5e-8f90-0a1b2c3d4e5f")
    );
    // CI frames and timestamps.
    let x = extract("[2025-02-01T10:00:00.000Z] │   with aws_s3_bucket.site,\n12:00:01  │ Error: x");
    assert_eq!(x.resource_address.as_deref(), Some("aws_s3_bucket.site"));
}

#[test]
fn explicit_deny_and_non_denials_get_no_statement() {
    let deny = extract(
        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k with an explicit deny in a permissions boundary",
    );
    assert!(deny.explicit_deny);
    assert_eq!(least_privilege(&deny), None);
    let d = classify(
        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k with an explicit deny in a permissions boundary",
    );
    assert_eq!(d.suggested_solutions[0].id, "check-permissions-boundary");
    // An expired token names sts:GetCallerIdentity, but nothing was denied.
    let expired = extract(
        "error calling sts:GetCallerIdentity: operation error STS: GetCallerIdentity, https response error StatusCode: 403, api error ExpiredToken: expired",
    );
    assert_eq!(expired.action.as_deref(), Some("sts:GetCallerIdentity"));
    assert_eq!(least_privilege(&expired), None);
    // A denial that names no action.
    assert_eq!(least_privilege(&extract("UnauthorizedOperation: You are not authorized to perform this operation.")), None);
}

#[test]
fn least_privilege_statement() {
    let fix = least_privilege(&extract(
        "AccessDenied: User: arn:aws:iam::111122223333:user/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-exec because no identity-based policy allows the iam:PassRole action",
    ))
    .expect("a statement");
    assert_eq!(fix.principal.as_deref(), Some("arn:aws:iam::111122223333:user/deployer"));
    assert_eq!(
        fix.statement,
        json!({"Sid": "AllowIamPassRole", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": ["arn:aws:iam::111122223333:role/app-exec"]})
    );
    assert_eq!(fix.policy_document()["Version"], "2012-10-17");
    assert!(fix.notes.iter().any(|n| n.contains("iam:PassedToService")));

    // An assumed-role session: the statement goes on the role.
    let fix = least_privilege(&extract(
        "operation error Lambda: CreateFunction, https response error StatusCode: 403, User: arn:aws-cn:sts::111122223333:assumed-role/ci-deploy/session-9 is not authorized to perform: lambda:CreateFunction",
    ))
    .expect("a statement");
    assert_eq!(fix.principal.as_deref(), Some("arn:aws-cn:iam::111122223333:role/ci-deploy"));
    assert_eq!(fix.statement["Resource"], json!(["*"]));
    assert!(fix.notes.iter().any(|n| n.contains("Resource is \"*\"")));

    // Only the failed call is known (SDK v2, no denial text): it is used, with a note.
    let fix = least_privilege(&extract(
        "operation error S3: CreateBucket, https response error StatusCode: 403, RequestID: A, HostID: B, api error AccessDenied: Access Denied",
    ))
    .expect("a statement");
    assert_eq!(fix.statement["Action"], json!(["s3:CreateBucket"]));
    assert_eq!(fix.principal, None);
    assert!(fix.notes.iter().any(|n| n.contains("did not name the denied action")));
    assert!(fix.notes.iter().any(|n| n.contains("get-caller-identity")));

    // Terraform names the bucket it was creating: the statement is narrowed to it.
    let fix = least_privilege(&extract("creating S3 Bucket (shop-core-test-uploads): operation error S3: CreateBucket, https response error StatusCode: 403, RequestID: A, HostID: B, api error AccessDenied: Access Denied")).expect("a statement");
    assert_eq!(fix.statement["Resource"], json!(["arn:aws:s3:::shop-core-test-uploads"]));
    assert!(!fix.notes.iter().any(|n| n.contains("Resource is \"*\"")));
    // Other kinds need an account and region for their ARN: they stay "*".
    let fix = least_privilege(&extract(
        "creating SQS Queue (jobs): operation error SQS: CreateQueue, https response error StatusCode: 403, api error AccessDenied: Access Denied",
    ))
    .expect("a statement");
    assert_eq!(fix.statement["Resource"], json!(["*"]));

    // Root and federated users cannot carry an identity policy.
    let fix =
        least_privilege(&extract("User: arn:aws:sts::111122223333:federated-user/bob is not authorized to perform: ec2:DescribeVpcs")).expect("a statement");
    assert_eq!(fix.principal, None);
    assert!(fix.notes.iter().any(|n| n.contains("read-only listing")));

    // The diagnosis carries it as its first solution.
    let d = classify(
        "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:eu-west-1:111122223333:repository/api",
    );
    assert_eq!(d.category, Category::Permission);
    assert_eq!(d.suggested_solutions[0].id, "grant-least-privilege");
    assert_eq!(d.suggested_solutions[0].kind, SolutionKind::IamPolicy);
    assert!(d.suggested_solutions[0].permission_fix.is_some());
}

/// Messages that are the same problem seen twice: different names, ids,
/// accounts, times, frames and resource addresses.
const SAME_PROBLEM: &[(&str, &str)] = &[
    (
        "│ Error: creating IAM Role (orders-exec): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 0a1b2c3d-1111-2222-3333-444455556666, EntityAlreadyExists: Role with name orders-exec already exists.\n│ \n│   with aws_iam_role.orders,\n│   on iam.tf line 1, in resource \"aws_iam_role\" \"orders\":\n│    1: resource \"aws_iam_role\" \"orders\" {",
        "Error: creating IAM Role (billing_worker_role): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: ffffffff-9999-8888-7777-666666666666, EntityAlreadyExists: Role with name billing_worker_role already exists.\n\n  with module.billing.aws_iam_role.worker[0],\n  on modules/billing/iam.tf line 33, in resource \"aws_iam_role\" \"worker\":\n  33: resource \"aws_iam_role\" \"worker\" {",
    ),
    (
        "AccessDenied: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-a\n\tstatus code: 403, request id: 11111111-2222-3333-4444-555555555555",
        "AccessDenied: User: arn:aws:iam::999988887777:user/bob is not authorized to perform: iam:PassRole on resource: arn:aws:iam::999988887777:role/other\n\tstatus code: 403, request id: 66666666-7777-8888-9999-000000000000",
    ),
    (
        "* aws_security_group.web: DependencyViolation: resource sg-0a1b2c3d4e5f60718 has a dependent object\n\tstatus code: 400, request id: 1",
        "* aws_security_group.db: DependencyViolation: resource sg-12345678 has a dependent object\n\tstatus code: 400, request id: 2",
    ),
    (
        "Error: Error acquiring the state lock\n\nError message: ConditionalCheckFailedException: The conditional request failed\nLock Info:\n  ID:        aaaaaaaa-0000-4000-8000-000000000000\n  Who:       alice@laptop\n  Created:   2025-01-14 08:00:01.5 +0000 UTC",
        "╷\n│ Error: Error acquiring the state lock\n│ \n│ Error message: ConditionalCheckFailedException: The conditional request failed\n│ Lock Info:\n│   ID:        bbbbbbbb-1111-4111-8111-111111111111\n│   Who:       ci@runner-7\n│   Created:   2025-03-02 23:59:59.1 +0000 UTC",
    ),
    (
        "13:16:46  │ Error: waiting for EKS Cluster (prod-a) create: ExpiredTokenException: The security token included in the request is expired",
        "[2025-01-01T00:00:00Z] │ Error: waiting for EKS Cluster (staging_2) create: ExpiredTokenException: The security token included in the request is expired",
    ),
    (
        "Error: RequestError: send request failed\ncaused by: Post https://sts.amazonaws.com/: dial tcp: lookup sts.amazonaws.com on 10.0.0.2:53: read udp 10.0.0.5:40000->10.0.0.2:53: i/o timeout",
        "Error: RequestError: send request failed\ncaused by: Post https://sts.amazonaws.com/: dial tcp: lookup sts.amazonaws.com on 192.168.1.1:53: read udp 192.168.1.20:5353->192.168.1.1:53: i/o timeout",
    ),
    (
        "Error: creating DB Instance: InvalidParameterCombination: RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.t3.micro, Engine=postgres, EngineVersion=9.6.1.",
        "Error: creating DB Instance: InvalidParameterCombination: RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.m4.large, Engine=postgres, EngineVersion=10.3.",
    ),
    (
        "Error: LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10\n\tstatus code: 409, request id: 1d1d1d1d-2e2e-3f3f-4a4a-5b5b5b5b5b5b",
        "Error: LimitExceeded: Cannot exceed quota for PoliciesPerRole: 20\n\tstatus code: 409, request id: 9a9a9a9a-8b8b-7c7c-6d6d-5e5e5e5e5e5e",
    ),
];

/// Messages that must not share a signature.
const DIFFERENT_PROBLEMS: &[(&str, &str)] = &[
    (
        "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:PassRole",
        "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:CreateBucket",
    ),
    ("Error creating S3 bucket: BucketAlreadyExists: taken", "Error creating S3 bucket: BucketAlreadyOwnedByYou: yours"),
    ("operation error S3: CreateBucket, https response error StatusCode: 403", "operation error S3: CreateBucket, https response error StatusCode: 409"),
    ("LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10", "LimitExceeded: Cannot exceed quota for PolicySize: 6144"),
];

#[test]
fn signatures_group_occurrences() {
    for (a, b) in SAME_PROBLEM {
        assert_eq!(signature(a), signature(b), "\n{a}\n{b}");
    }
    for (a, b) in DIFFERENT_PROBLEMS {
        assert_ne!(signature(a), signature(b), "\n{a}\n{b}");
    }
}

#[test]
fn signature_shapes() {
    let cases = [
        (
            "│ Error: creating IAM Role (orders-exec): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 0a1b2c3d-1111-2222-3333-444455556666, EntityAlreadyExists: Role with name orders-exec already exists.\n│   with aws_iam_role.orders,",
            "creating IAM Role (<name>): operation error IAM: CreateRole, https response error StatusCode: 409, EntityAlreadyExists: Role with name <name> already exists.",
        ),
        (
            "AccessDenied: User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:PassRole\n\tstatus code: 403, request id: 11111111-2222-3333-4444-555555555555",
            "AccessDenied: User: <arn> is not authorized to perform: iam:PassRole status code: 403",
        ),
        ("Error: reading EC2 Instance (i-0123456789abcdef0) in vpc-0a1b2c3d: gone", "reading EC2 Instance (<id>) in <id>: gone"),
        ("bucket 'logs-2024' in account 123456789012 at 2025-01-14T08:00:01Z from 10.1.2.3:443", "bucket '<name>' in account <account> at <time> from <ip>"),
        (
            "Error: Role with name AppServiceRole already exists; Lambda Function Configuration updated",
            "Role with name <name> already exists; Lambda Function Configuration updated",
        ),
        ("Error: failed to upload /var/lib/app/bundle.zip after 3 retries in 250ms", "failed to upload <name> after <n> retries in <n>ms"),
        ("Error: no identity-based policy allows the s3:GetObject action", "no identity-based policy allows the s3:GetObject action"),
        ("* aws_s3_bucket.logs: Error creating S3 bucket: InvalidBucketName: bad", "Error creating S3 bucket: InvalidBucketName: bad"),
        ("Error: AKIAIOSFODNN7EXAMPLE failed", "<access-key-id> failed"),
    ];
    for (message, want) in cases {
        assert_eq!(signature(message), want, "{message}");
    }
    assert!(signature(&"x ".repeat(1000)).chars().count() <= signature::MAX_SIGNATURE_CHARS);
}

#[test]
fn signature_ids_are_short_and_stable() {
    let id = signature_id("AccessDenied: User: <arn> is not authorized to perform: iam:PassRole status code: 403");
    assert_eq!(id.len(), 12);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    // Pinned: changing how ids are made orphans every issue in existing logs.
    assert_eq!(signature_id("abc"), "ba7816bf8f01");
}

#[test]
fn redaction() {
    let cases = [
        ("key AKIAIOSFODNN7EXAMPLE used", "key <access-key-id> used"),
        ("temporary ASIAY34FZKBOKMUTVV7A", "temporary <access-key-id>"),
        ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret <secret> here"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = <redacted>"),
        ("url?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr&X-Amz-Date=1", "url?X-Amz-Security-Token=<redacted>&X-Amz-Date=1"),
        ("password=hunter22 next", "password=<redacted> next"),
        ("{\"token\": \"abcdefghijklmnop1234\"}", "{\"token\": \"<redacted>\"}"),
        // Prose about tokens, error codes and S3 host ids stay.
        ("The security token included in the request is expired", "The security token included in the request is expired"),
        ("api error ExpiredToken: expired", "api error ExpiredToken: expired"),
        (
            "host id: JYmK6VDsxNYghYRNIWOpbJYT+lyaCaMb+YuQueiq+JMMQnuBw+rsfQqroFm5AwN2ar5ipLFPl8w=",
            "host id: JYmK6VDsxNYghYRNIWOpbJYT+lyaCaMb+YuQueiq+JMMQnuBw+rsfQqroFm5AwN2ar5ipLFPl8w=",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(redact(text), want, "{text}");
    }
    let long = format!("session {} end", "IQoJb3JpZ2luX2Vj".repeat(10));
    assert_eq!(redact(&long), "session <token> end");
    let d = classify("Error: InvalidClientTokenId for AKIAIOSFODNN7EXAMPLE: The security token included in the request is invalid");
    assert!(!d.excerpt.contains("AKIAIOSFODNN7EXAMPLE") && !d.signature.contains("AKIAIOSFODNN7EXAMPLE"));
}

fn at(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, day, 12, 0, 0).unwrap()
}

#[test]
fn learning_log_records_occurrences_and_outcomes() {
    let mut log = IssueLog::new();
    let first = classify(
        "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:CreateBucket\n\tstatus code: 403, request id: 1 key AKIAIOSFODNN7EXAMPLE",
    );
    let again = classify(
        "AccessDenied: User: arn:aws:iam::999988887777:user/bob is not authorized to perform: s3:CreateBucket\n\tstatus code: 403, request id: 2 key AKIAJ7Q3EXAMPLE2ZZZZ",
    );
    assert_eq!(first.signature_id, again.signature_id);

    let issue = record_occurrence(&mut log, &first, at(1));
    assert_eq!((issue.occurrences, issue.category), (1, Category::Permission));
    let ids: Vec<&str> = issue.solutions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["grant-least-privilege"]);
    record_occurrence(&mut log, &again, at(3));
    record_occurrence(&mut log, &again, at(2));
    let issue = log.issue(&first.signature_id).unwrap();
    assert_eq!((issue.occurrences, issue.first_seen, issue.last_seen), (3, at(1), at(3)));
    assert_eq!(issue.examples.len(), 2, "distinct examples only");
    assert!(issue.examples.iter().all(|e| !e.contains("AKIAIOSFODNN7EXAMPLE")), "examples are redacted");

    let sid = first.signature_id.clone();
    let s = record_outcome(&mut log, &sid, "grant-least-privilege", true, at(4)).unwrap();
    assert_eq!((s.attempts, s.successes, s.last_used), (1, 1, Some(at(4))));
    record_outcome(&mut log, &sid, "grant-least-privilege", false, at(5)).unwrap();
    let s = &log.issue(&sid).unwrap().solutions[0];
    assert_eq!((s.attempts, s.successes), (2, 1));

    assert_eq!(record_outcome(&mut log, "000000000000", "x", true, at(5)), Err(LearningError::UnknownIssue("000000000000".into())));
    assert!(matches!(record_outcome(&mut log, &sid, "nope", true, at(5)), Err(LearningError::UnknownSolution { .. })));

    let custom = add_solution(&mut log, &sid, "Asked the platform team to add s3:* for the build role", SolutionKind::Manual).unwrap();
    assert!(custom.starts_with("custom-") && custom.len() == 15);
    assert_eq!(add_solution(&mut log, &sid, " Asked the platform team to add s3:* for the build role ", SolutionKind::Manual).unwrap(), custom);
    assert_eq!(log.issue(&sid).unwrap().solutions.len(), 2);
    assert_eq!(add_solution(&mut log, &sid, "  ", SolutionKind::Manual), Err(LearningError::EmptyDescription));
}

#[test]
fn examples_are_capped() {
    let mut log = IssueLog::new();
    for n in 0..6 {
        let d = classify(&format!("Error: Role with name role-{n}x already exists"));
        let mut d = d;
        d.excerpt = format!("example {n}");
        record_occurrence(&mut log, &d, at(1));
    }
    assert_eq!(log.issues.len(), 1);
    assert_eq!(log.issues[0].examples.len(), MAX_EXAMPLES);
    assert_eq!(log.issues[0].occurrences, 6);
}

fn solution(id: &str, successes: u64, attempts: u64) -> Solution {
    Solution { id: id.into(), description: id.into(), kind: SolutionKind::Manual, attempts, successes, last_used: None }
}

#[test]
fn ranking_trusts_evidence_not_rates() {
    let issue = Issue {
        signature_id: "abc".into(),
        signature: "x".into(),
        category: Category::Permission,
        first_seen: at(1),
        last_seen: at(1),
        occurrences: 1,
        examples: vec![],
        solutions: vec![solution("untried", 0, 0), solution("lucky", 1, 1), solution("refuted", 0, 5), solution("proven", 45, 50), solution("decent", 8, 10)],
    };
    let ranked = ranked_solutions(&issue);
    let order: Vec<&str> = ranked.iter().map(|r| r.solution.id.as_str()).collect();
    assert_eq!(order, ["proven", "decent", "lucky", "untried", "refuted"]);
    assert!((ranked[0].score - 0.7864).abs() < 1e-3, "{}", ranked[0].score);
    assert!((ranked[2].score - 0.2065).abs() < 1e-3, "{}", ranked[2].score);
    assert_eq!(ranked[0].evidence, "worked 45 of 50 attempts (90%); at least 79% with 95% confidence");
    assert_eq!(ranked[2].evidence, "worked 1 of 1 attempt (100%); at least 21% with 95% confidence (too few attempts to trust the rate)");
    assert_eq!(ranked[3].evidence, "not tried yet: no evidence either way");
    assert_eq!(ranked[3].score, 0.0);
}

#[test]
fn provider_targets() {
    for (message, want) in [
        ("creating S3 Bucket (shop-uploads): operation error S3: CreateBucket", Some(("S3 Bucket", "shop-uploads"))),
        ("Error: updating Lambda Function (api) configuration: ResourceConflictException", Some(("Lambda Function", "api"))),
        ("Error creating S3 bucket: AccessDenied: Access Denied", None),
        ("reading the docs (later)", None),
    ] {
        let got = extract(message).target;
        assert_eq!(got.as_ref().map(|(k, n)| (k.as_str(), n.as_str())), want, "{message}");
    }
}

#[test]
fn settling_counts_a_fix_by_the_next_deploy_of_its_environment() {
    let denied = "operation error S3: CreateBucket, https response error StatusCode: 403, api error AccessDenied: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: s3:CreateBucket";
    let other = "Error: creating SQS Queue: QueueAlreadyExists: A queue already exists with the same name";
    let mut log = IssueLog::new();
    let d = classify(denied);
    record_occurrence(&mut log, &d, at(1));
    let sid = d.signature_id.clone();
    let waiting = |env: &str| Awaiting { env: env.into(), signature_id: sid.clone(), solution_id: "grant-least-privilege".into(), applied_at: at(2) };
    // Success: the deploy passed.
    log.awaiting = vec![waiting("test"), waiting("prod")];
    let settled = settle(&mut log, "test", None, at(3));
    assert_eq!(settled.len(), 1);
    assert!(settled[0].1);
    assert_eq!(log.awaiting.len(), 1, "prod's fix still waits for a prod deploy");
    // Failure: the same problem came back.
    log.awaiting.push(waiting("test"));
    let settled = settle(&mut log, "test", Some(&sid), at(4));
    assert!(!settled[0].1);
    // A different failure: this problem is gone.
    log.awaiting.push(waiting("test"));
    let settled = settle(&mut log, "test", Some(&classify(other).signature_id), at(5));
    assert!(settled[0].1);
    let s = &log.issue(&sid).unwrap().solutions.iter().find(|s| s.id == "grant-least-privilege").unwrap();
    assert_eq!((s.attempts, s.successes), (3, 2));
    // Nothing waits: nothing to settle.
    assert!(settle(&mut log, "test", None, at(6)).is_empty());
}

#[test]
fn wilson_bounds() {
    for (s, n, want) in [(0, 0, 0.0), (0, 10, 0.0), (1, 1, 0.2065), (45, 50, 0.7864), (50, 50, 0.9287), (5, 10, 0.2366), (900, 1000, 0.8798)] {
        let got = wilson_lower_bound(s, n);
        assert!((got - want).abs() < 1e-3, "{s}/{n}: {got} vs {want}");
    }
}

#[test]
fn issue_log_field_names_are_stable() {
    let log = IssueLog {
        version: ISSUE_LOG_VERSION,
        issues: vec![Issue {
            signature_id: "0123456789ab".into(),
            signature: "sig".into(),
            category: Category::Quota,
            first_seen: at(1),
            last_seen: at(2),
            occurrences: 2,
            examples: vec!["e".into()],
            solutions: vec![Solution {
                id: "retry-backoff".into(),
                description: "d".into(),
                kind: SolutionKind::IamPolicy,
                attempts: 3,
                successes: 2,
                last_used: Some(at(2)),
            }],
        }],
        awaiting: Vec::new(),
        last_failures: Vec::new(),
    };
    let text = serde_json::to_string(&log).unwrap();
    assert_eq!(
        text,
        r#"{"version":1,"issues":[{"signature_id":"0123456789ab","signature":"sig","category":"quota","first_seen":"2025-01-01T12:00:00Z","last_seen":"2025-01-02T12:00:00Z","occurrences":2,"examples":["e"],"solutions":[{"id":"retry-backoff","description":"d","kind":"iam_policy","attempts":3,"successes":2,"last_used":"2025-01-02T12:00:00Z"}]}]}"#
    );
    let back: IssueLog = serde_json::from_str(&text).unwrap();
    assert_eq!(back, log);
}

#[test]
fn categories_have_names_and_resolutions() {
    for c in Category::ALL {
        assert_eq!(Category::from_name(c.as_str()), Some(c));
        assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
        assert!(!c.meaning().is_empty() && !c.resolution().is_empty());
    }
    assert!(Category::Permission.resolution().starts_with("Auto-fixable"));
    assert!(Category::Network.resolution().starts_with("Retry logic"));
    assert_eq!(Category::from_name("nonsense"), None);
}

#[test]
fn diagnoses_suggest_solutions_per_category() {
    let first_solution = |m: &str| classify(m).suggested_solutions[0].id.clone();
    assert_eq!(first_solution("Error acquiring the state lock: ConditionalCheckFailedException: failed"), "wait-for-lock");
    assert_eq!(first_solution("Error creating S3 bucket: BucketAlreadyExists: The requested bucket name is not available."), "choose-unique-name");
    assert_eq!(first_solution("Error: creating IAM Role (x): EntityAlreadyExists: Role with name x already exists."), "import-existing");
    assert_eq!(first_solution("Throttling: Rate exceeded"), "retry-backoff");
    assert_eq!(first_solution("LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10"), "request-quota-increase");
    assert_eq!(first_solution("ExpiredToken: The security token included in the request is expired"), "refresh-session");
    assert_eq!(first_solution("NoCredentialProviders: no valid providers in chain"), "configure-profile");
    assert_eq!(first_solution("SerializationError: failed to unmarshal error message\n\tstatus code: 407"), "check-proxy");
    assert_eq!(first_solution("Error: Unsupported argument"), "fix-configuration");
    assert_eq!(first_solution("DependencyViolation: resource sg-12345678 has a dependent object"), "remove-dependents");

    let lock = classify("Error acquiring the state lock\nLock Info:\n  ID:        8f1e3c2a-1b2c-4d5e-8f90-0a1b2c3d4e5f");
    assert!(lock.suggested_solutions.iter().any(|s| s.description.contains("terraform force-unlock 8f1e3c2a-1b2c-4d5e-8f90-0a1b2c3d4e5f")));
    let wait = classify("Error: waiting for RDS Cluster (x) create: timeout while waiting for state to become 'available'");
    assert!(wait.suggested_solutions.iter().any(|s| s.id == "raise-timeouts"));
    assert!(wait.explanation.contains("timeout while waiting"), "{}", wait.explanation);
}

#[test]
fn odd_input_never_panics() {
    let long = format!("{} AccessDenied: Access Denied", "arn:aws:s3:::b \"q-1\" 'x' (y) é│ ".repeat(700));
    let inputs = [
        "│",
        "Ünïcödé│Error: “quoted” AccessDenied│: – x",
        "AccessDenied:",
        "AccessDenied:é",
        "operation error ",
        "operation error S3:",
        "not authorized to perform: ",
        "User: arn:aws:iam::1:user/x",
        "status code: ",
        "request id:",
        "Lock Info:",
        "with ",
        "* : :",
        "'",
        "\"<",
        "arn:",
        "api error ",
        "Error Code: ",
        "12:34:5",
        "[2025",
        "ERRO[",
        "token=",
        "AKIA",
        long.as_str(),
    ];
    for input in inputs {
        let d = classify(input);
        assert!(d.signature.chars().count() <= signature::MAX_SIGNATURE_CHARS);
        assert_eq!(d.signature_id.len(), 12);
    }
    assert_eq!(classify(&long).category, Category::Permission);
}

// Issue 14, the debugger: every case it lists, in messages composed in the
// shapes AWS and Terraform print (none copied from an evaluation set).

/// A proposed fix as (principal, actions, resources).
type FixParts = (Option<String>, Vec<String>, Vec<String>);

/// The permission fix a message gets, or the reason there is none.
fn fix_of(message: &str) -> Result<FixParts, String> {
    let d = classify(message);
    match d.suggested_solutions.iter().find_map(|s| s.permission_fix.clone()) {
        Some(f) => {
            assert!(d.no_fix_reason.is_none(), "a fix and a reason for none: {message:?}");
            let strings = |k: &str| f.statement[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
            Ok((f.principal.clone(), strings("Action"), strings("Resource")))
        }
        None => Err(d.no_fix_reason.clone().unwrap_or_default()),
    }
}

#[test]
fn json_and_xml_error_bodies_name_the_code() {
    check(r#"{"__type":"LimitExceededException","message":"You have already consumed your quota of 5 pipelines."}"#, Category::Quota, "");
    check(r#"{"__type":"com.amazon.coral.service#ThrottlingException","message":"Rate exceeded"}"#, Category::Quota, "");
    check(r#"{"message":"The specified log group does not exist.","code":"ResourceNotFoundException","statusCode":400}"#, Category::Resource, "");
    check(r#"{"message":"User is not allowed","code":"AccessDeniedException","time":"2024-01-01T00:00:00Z"}"#, Category::Permission, "");
    check("<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>", Category::Credentials, "");
    check("<ErrorResponse><Error><Type>Sender</Type><Code>EntityAlreadyExists</Code></Error></ErrorResponse>", Category::Resource, "");
    check("HTTP/1.1 400 Bad Request\nX-Amzn-Errortype: LimitExceededException:\nX-Amzn-Requestid: 00000000-aaaa", Category::Quota, "");
    check("http.response.header.x_amzn_errortype=TooManyRequestsException rpc.method=CreateFunction", Category::Quota, "");
    // A body logged inside a JSON string: its escapes are undone first.
    check(r#"{"Cause":"{\"errorType\":\"ResourceConflictException\",\"errorMessage\":\"An update is in progress\"}"}"#, Category::Resource, "");
    check(
        "botocore.exceptions.ClientError: An error occurred (BucketAlreadyExists) when calling the CreateBucket operation: The requested bucket name is not available.",
        Category::Resource,
        "",
    );
    let x = extract(r#"{"__type":"com.amazonaws.kinesis#LimitExceededException"}"#);
    assert_eq!(x.aws_error_code.as_deref(), Some("LimitExceededException"));
}

#[test]
fn quota_wording_without_a_code() {
    for message in [
        "Error: creating Delivery Stream (clicks): you have already consumed your quota of 50 delivery streams",
        "Error launching source instance: Your quota allows for 0 more running instance(s). You requested at least 2",
        "This request would exceed the limit on the number of streams for the account 111122223333 in eu-west-1.",
        "You have exceeded your maximum gp3 storage limit of 50 TiB in this region. Please contact AWS Support to request a service limit increase.",
        "The requested resource exceeds the maximum number allowed.",
        "Launch Configuration limit exceeded - You may only have 200 launch configurations",
    ] {
        check(message, Category::Quota, if message.starts_with("Error launching") { "ec2:RunInstances" } else { "" });
    }
}

#[test]
fn denials_by_other_policies_get_their_advice_and_no_identity_fix() {
    let cases = [
        (
            "Error: reading S3 Bucket (logs): operation error S3: GetBucketPolicy, https response error StatusCode: 403, RequestID: 1, api error AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetBucketPolicy on resource: \"arn:aws:s3:::logs\" with an explicit deny in a resource-based policy",
            PolicyKind::ResourcePolicy,
            "edit-resource-policy",
        ),
        (
            "denied: User: arn:aws:sts::111122223333:assumed-role/ci/run-1 is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:eu-west-1:444455556666:repository/app because no resource-based policy allows the ecr:PutImage action",
            PolicyKind::ResourcePolicy,
            "edit-resource-policy",
        ),
        (
            "Error: creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 403, api error UnauthorizedOperation: User: arn:aws:sts::111122223333:assumed-role/deploy/s is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-west-1:111122223333:instance/* with an explicit deny in a service control policy",
            PolicyKind::ServiceControlPolicy,
            "ask-organization-admin",
        ),
        (
            "Error: creating IAM Role (app): operation error IAM: CreateRole, https response error StatusCode: 403, api error AccessDenied: User: arn:aws:sts::111122223333:assumed-role/deploy/s is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/app because no permissions boundary allows the iam:CreateRole action",
            PolicyKind::PermissionsBoundary,
            "check-permissions-boundary",
        ),
        (
            "AccessDenied: User: arn:aws:sts::111122223333:assumed-role/deploy/s is not authorized to perform: sqs:CreateQueue on resource: arn:aws:sqs:eu-west-1:111122223333:jobs with an explicit deny in a permissions boundary",
            PolicyKind::PermissionsBoundary,
            "check-permissions-boundary",
        ),
        (
            "AccessDenied: User: arn:aws:sts::111122223333:assumed-role/deploy/s is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no session policy allows the s3:PutObject action",
            PolicyKind::SessionPolicy,
            "widen-session-policy",
        ),
        (
            "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111122223333:key/k with an explicit deny",
            PolicyKind::ExplicitDeny,
            "lift-explicit-deny",
        ),
    ];
    for (message, kind, solution) in cases {
        let d = classify(message);
        assert_eq!(d.category, Category::Permission, "{message}");
        assert_eq!(d.extracted.blocked_by, Some(kind), "{message}");
        let why = fix_of(message).expect_err(message);
        assert!(why.contains(kind.describe()) || kind == PolicyKind::ExplicitDeny, "{why}");
        assert!(d.suggested_solutions.iter().any(|s| s.id == solution), "{message}: {:?}", d.suggested_solutions);
        assert!(d.suggested_solutions.iter().all(|s| s.kind != SolutionKind::IamPolicy), "{message}");
        assert!(d.explanation.contains("No fix is proposed"), "{}", d.explanation);
    }
    // The identity policy's own "no … allows" is fixable.
    let ok = "AccessDeniedException: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sns:Publish on resource: arn:aws:sns:eu-west-1:111122223333:t because no identity-based policy allows the sns:Publish action";
    assert_eq!(classify(ok).extracted.blocked_by, None);
    assert!(fix_of(ok).is_ok());
}

#[test]
fn cloudwatch_logs_arns_use_the_forms_iam_matches() {
    // AWS names the group `…:log-group:NAME:log-stream:` in a denial; the statement
    // needs the group's ARN and its `:*` form, which IAM matches for the group and its streams.
    let group = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders";
    for named in [format!("{group}:log-stream:"), format!("{group}:*"), group.to_string(), format!("{group}:log-stream:2024/01/01/abc")] {
        let message = format!(
            "Error: creating CloudWatch Logs Log Group (/aws/lambda/orders): operation error CloudWatch Logs: CreateLogGroup, https response error StatusCode: 400, RequestID: r, api error AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/deploy/ci is not authorized to perform: logs:CreateLogGroup on resource: {named} because no identity-based policy allows the logs:CreateLogGroup action"
        );
        let (principal, actions, resources) = fix_of(&message).unwrap();
        assert_eq!(principal.as_deref(), Some("arn:aws:iam::111122223333:role/deploy"));
        assert_eq!(actions, ["logs:CreateLogGroup"]);
        assert_eq!(resources, [group.to_string(), format!("{group}:*")], "{named}");
    }
    // Other ARNs are kept as named.
    let (_, _, resources) = fix_of("AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:111122223333:jobs").unwrap();
    assert_eq!(resources, ["arn:aws:sqs:eu-west-1:111122223333:jobs"]);
}

#[test]
fn the_fix_goes_to_the_principal_the_message_names() {
    // The named caller, not the deploy principal, gets the statement.
    let (principal, actions, _) = fix_of(
        "operation error Bedrock: PutModelInvocationLoggingConfiguration, https response error StatusCode: 403, User: arn:aws:sts::111122223333:assumed-role/terraform-cloud/run-7 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/bedrock-logs because no identity-based policy allows the iam:PassRole action",
    )
    .unwrap();
    assert_eq!(principal.as_deref(), Some("arn:aws:iam::111122223333:role/terraform-cloud"));
    assert_eq!(actions, ["iam:PassRole"]);
    // A function's execution role that lacks the call: never the deploy principal, and said why.
    for message in [
        "Error: creating Lambda Function (api): operation error Lambda: CreateFunction, https response error StatusCode: 400, RequestID: r, InvalidParameterValueException: The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
        "Error: creating Lambda Event Source Mapping (arn:aws:sqs:eu-west-1:111122223333:jobs): InvalidParameterValueException: The function execution role does not have permissions to call ReceiveMessage on SQS",
        "* aws_lambda_function.api: Error creating Lambda function: AccessDeniedException: Your access has been denied by EC2, please make sure your function execution role have permission to CreateNetworkInterface. EC2 Error Code: UnauthorizedOperation.",
    ] {
        let d = classify(message);
        assert_eq!(d.category, Category::Permission, "{message}: {}", d.rule);
        assert!(d.extracted.service_role.is_some(), "{message}");
        let why = fix_of(message).expect_err(message);
        assert!(why.contains("execution role") && why.contains("not the deploy principal"), "{why}");
        assert!(d.suggested_solutions.iter().any(|s| s.id == "grant-service-role"), "{message}");
    }
    assert_eq!(
        classify("The provided execution role does not have permissions to call ReceiveMessage on SQS").extracted.action.as_deref(),
        Some("sqs:ReceiveMessage")
    );
    assert_eq!(
        classify("Your access has been denied by EC2, please make sure your function execution role have permission to CreateNetworkInterface. EC2 Error Code: UnauthorizedOperation.").extracted.action.as_deref(),
        Some("ec2:CreateNetworkInterface")
    );
    // A trust policy that lets Lambda assume nothing is configuration, not a missing permission.
    check("InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.", Category::Configuration, "");
}

#[test]
fn v1_messages_imply_the_action() {
    let cases = [
        ("* aws_lambda_function.api: Error creating Lambda Function: AccessDeniedException: Access Denied\n\tstatus code: 403", "lambda:CreateFunction"),
        ("Error: error creating Lambda Function (orders): AccessDeniedException: \n\tstatus code: 403", "lambda:CreateFunction"),
        ("* aws_iam_role.app: Error creating IAM Role AppRole: AccessDenied: Access Denied\n\tstatus code: 403", "iam:CreateRole"),
        ("Error creating IAM instance profile web: AccessDenied: Access Denied", "iam:CreateInstanceProfile"),
        ("* aws_iam_role.app: Error creating IAM Role app: AccessDenied: Access Denied", "iam:CreateRole"),
        ("* aws_s3_bucket.b: Error creating S3 bucket acme: AccessDenied: Access Denied", "s3:CreateBucket"),
        ("* aws_launch_configuration.web: Error creating launch configuration: AccessDenied: denied", "autoscaling:CreateLaunchConfiguration"),
        ("* aws_s3_bucket.b: Error putting S3 ACL: AccessDenied: Access Denied\n\tstatus code: 403", "s3:PutBucketAcl"),
        ("* aws_s3_bucket.b: Error creating S3 bucket: AccessDenied: Access Denied", "s3:CreateBucket"),
        ("Error launching source instance: UnauthorizedOperation: You are not authorized to perform this operation.", "ec2:RunInstances"),
        (
            "* aws_security_group.web: Error creating Security Group: UnauthorizedOperation: You are not authorized to perform this operation.",
            "ec2:CreateSecurityGroup",
        ),
        ("Error: error creating DynamoDB Table: AccessDeniedException: not allowed", "dynamodb:CreateTable"),
        ("Error: Error creating CloudWatch Log Group: AccessDeniedException: denied", "logs:CreateLogGroup"),
        ("Error: error creating RDS DB Instance (orders): AccessDenied: denied", "rds:CreateDBInstance"),
        ("Error: error deleting SQS Queue (jobs): AccessDenied: denied", "sqs:DeleteQueue"),
        ("Error: error creating IAM Role Policy Attachment: AccessDenied: denied", "iam:AttachRolePolicy"),
        ("* aws_sg.x: Error revoking default egress rule for Security Group (sg-1): UnauthorizedOperation: denied", "ec2:RevokeSecurityGroupEgress"),
    ];
    for (message, action) in cases {
        let d = classify(message);
        assert_eq!(d.category, Category::Permission, "{message}");
        assert_eq!(d.extracted.action.as_deref(), Some(action), "{message}");
        assert!(!d.extracted.action_denied, "an implied action is not a named one: {message}");
        let (_, actions, _) = fix_of(message).unwrap();
        assert_eq!(actions, [action]);
    }
    // A name after the kind is not part of it; a kind we cannot place implies nothing.
    assert_eq!(extract("Error creating IAM Role AmazonVPCFlowLogs: EntityAlreadyExists").action.as_deref(), Some("iam:CreateRole"));
    assert_eq!(extract("Error creating Widget Factory: AccessDenied").action, None);
    // SDK v2 names the call itself, which wins.
    assert_eq!(
        extract("creating Lambda Function (x): operation error Lambda: CreateFunction, https response error StatusCode: 403").action.as_deref(),
        Some("lambda:CreateFunction")
    );
}

#[test]
fn colour_codes_of_raw_ci_logs_are_ignored() {
    let plain = "Error: creating S3 Bucket (acme-uploads): operation error S3: CreateBucket, https response error StatusCode: 409, RequestID: R, HostID: H, api error BucketAlreadyExists: The requested bucket name is not available.";
    let coloured = [
        format!("\x1b[31m╷\x1b[0m\x1b[0m\n\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1m{}\x1b[0m\n\x1b[31m╵\x1b[0m\x1b[0m", &plain[7..]),
        format!("[31m│[0m [0m[1m[31mError: [0m[0m[1m{}[0m", &plain[7..]),
        format!("\u{fffd}[0;31m{plain}\u{fffd}[0m\x1b[2K"),
    ];
    let want = classify(plain);
    for message in &coloured {
        let d = classify(message);
        assert_eq!(d.category, want.category, "{message:?}");
        assert_eq!(d.extracted.aws_error_code, want.extracted.aws_error_code);
        assert_eq!(d.extracted.action, want.extracted.action);
        assert_eq!(d.signature_id, want.signature_id, "{message:?}");
        assert!(!d.excerpt.contains('\x1b') && !d.excerpt.contains("[0m"), "{}", d.excerpt);
    }
    assert_eq!(clean("no codes [here] and [0] m"), "no codes [here] and [0] m");
    assert!(matches!(clean("plain"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn remote_state_denials_are_state_in_every_wording() {
    // The backend's bucket refused: the resolution is in the backend (bucket, key,
    // region, the principal's access to them), and no action is named to grant.
    for message in [
        "Error: error accessing remote state: AccessDenied: Access Denied\n\tstatus code: 403, request id: 0A1B2C3D4E5F6A7B",
        "Error loading state: AccessDenied: Access Denied\n\tstatus code: 403, request id: 0A1B2C3D4E5F6A7B, host id: abc",
        "Error refreshing state: AccessDenied: Access Denied\n\tstatus code: 403, request id: 0A1B2C3D4E5F6A7B",
        "data.terraform_remote_state.net: error loading the remote state: AccessDenied: Access Denied\n\tstatus code: 403",
        "Error reloading remote state: AccessDenied: Access Denied",
        "Error: Error downloading state: 403 Forbidden",
    ] {
        let d = classify(message);
        assert_eq!(d.category, Category::State, "{message}: rule {}", d.rule);
        assert!(d.suggested_solutions.iter().any(|s| s.id == "check-backend-access"), "{message}");
    }
    // A resource's error during refresh stays that resource's.
    check(
        "Error: Error refreshing state: 1 error(s) occurred:\n\n* aws_route53_record.www: Throttling: Rate exceeded\n\tstatus code: 400, request id: 1",
        Category::Quota,
        "",
    );
    // With the denied action named, the statement can be proposed: permission.
    check(
        "Error: error loading state: operation error S3: GetObject, https response error StatusCode: 403, api error AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::tfstate/prod/terraform.tfstate",
        Category::Permission,
        "s3:GetObject",
    );
}

#[test]
fn a_permission_error_without_a_fix_says_why() {
    let cases = [
        ("Error: AccessDenied: Access Denied\n\tstatus code: 403, request id: 0A1B2C3D", "names no IAM action"),
        ("Error: you do not have permission to access the requested Route53 zone", "names no IAM action"),
        (
            "AccessDenied: User: arn:aws:iam::1:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a service control policy",
            "service control policy",
        ),
        ("InvalidParameterValueException: The provided execution role does not have permissions to call ReceiveMessage on SQS", "execution role"),
    ];
    for (message, why) in cases {
        let d = classify(message);
        assert_eq!(d.category, Category::Permission, "{message}");
        let reason = d.no_fix_reason.clone().unwrap_or_default();
        assert!(reason.contains(why), "{message}: {reason:?}");
        assert!(d.explanation.contains(&reason), "{}", d.explanation);
        assert_eq!(why_no_fix(&d.extracted).as_deref(), Some(reason.as_str()));
    }
    // Other categories have no reason to give; a fix has none either.
    assert_eq!(classify("ThrottlingException: Rate exceeded").no_fix_reason, None);
    assert_eq!(
        classify("AccessDenied: User: arn:aws:iam::1:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k").no_fix_reason,
        None
    );
}

#[test]
fn the_last_failed_deploy_is_kept_per_environment() {
    let mut log = IssueLog::new();
    assert!(last_failure(&log, "test").is_none());
    record_failure(&mut log, "test", "Error: first AKIAIOSFODNN7EXAMPLE", "aaa", at(1));
    record_failure(&mut log, "prod", "Error: in prod", "bbb", at(2));
    record_failure(&mut log, "test", "Error: second", "ccc", at(3));
    let test = last_failure(&log, "test").unwrap();
    assert_eq!((test.message.as_str(), test.signature_id.as_str(), test.at), ("Error: second", "ccc", at(3)));
    assert_eq!(last_failure(&log, "prod").unwrap().message, "Error: in prod");
    assert_eq!(log.last_failures.len(), 2);
    record_failure(&mut log, "dev", "key AKIAIOSFODNN7EXAMPLE", "d", at(4));
    assert!(!last_failure(&log, "dev").unwrap().message.contains("AKIA"), "stored redacted");
    let long = "x ".repeat(MAX_FAILURE_CHARS);
    record_failure(&mut log, "dev", &long, "d", at(5));
    assert_eq!(last_failure(&log, "dev").unwrap().message.chars().count(), MAX_FAILURE_CHARS);
    let back: IssueLog = serde_json::from_str(&serde_json::to_string(&log).unwrap()).unwrap();
    assert_eq!(back, log);
}

#[test]
fn wrapped_and_aligned_messages_read_as_one_line() {
    // Phrases broken by a line wrap, the diagnostic frame or aligned spaces still count.
    let d = classify(
        "│ api error AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized\n│ to perform: s3:GetBucketPolicy on resource: \"arn:aws:s3:::logs\" with\n│ an explicit deny in a resource-based policy",
    );
    assert_eq!(d.extracted.blocked_by, Some(PolicyKind::ResourcePolicy));
    assert_eq!(d.extracted.denied_resource.as_deref(), Some("arn:aws:s3:::logs"));
    let d = classify("InvalidParameterValueException: The function execution\nrole does not have permissions to call ReceiveMessage on SQS");
    assert_eq!((d.category, d.extracted.action.as_deref()), (Category::Permission, Some("sqs:ReceiveMessage")));
    let d = classify(
        "Resource handler returned message: \"User with accountId: 111122223333 is not authorized   to perform CreateLogGroup with Tags (Service: CloudWatchLogs, Status Code:   400, Request ID: 1)\"",
    );
    assert_eq!((d.category, d.extracted.action.as_deref()), (Category::Permission, Some("logs:TagResource")));
    check("[31m│[0m [0m[1m[31mError: [0m[0m[1mNo configuration files[0m", Category::Configuration, "");
    // A placeholder for the account in the caller's ARN.
    let (principal, _, _) = fix_of(
        "api error AccessDeniedException: User: arn:aws:sts::[account-id]:assumed-role/Admin/Session is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action",
    )
    .unwrap();
    assert_eq!(principal.as_deref(), Some("arn:aws:iam::[account-id]:role/Admin"));
}
