//! Every rule with a failing and a passing snippet, the provider-v4 split S3
//! resources, variable/local resolution, suppressions, and recorded plans.

use std::path::PathBuf;

use super::*;
use crate::tf::{self, load_sources};

fn module(hcl: &str) -> Module {
    load_sources(&[("main.tf".to_string(), hcl.to_string())]).unwrap_or_else(|e| panic!("{e}\n{hcl}"))
}

fn run(hcl: &str) -> ScanResult {
    scan(&module(hcl), &ScanOptions::default())
}

fn fired(result: &ScanResult, rule: &str) -> Vec<String> {
    result.findings.iter().filter(|f| f.rule_id == rule).map(|f| f.resource.clone()).collect()
}

const BUCKET: &str = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data-bucket\"\n}\n";

const SSE_KMS: &str = r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
"#;

const SSE_AES: &str = r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
"#;

const PAB: &str = r#"
resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"#;

const VERSIONING: &str = r#"
resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

/// A security group with one described ingress rule.
fn sg(from: i32, to: i32, protocol: &str, cidr: &str) -> String {
    format!(
        r#"
resource "aws_security_group" "s" {{
  description = "app"
  ingress {{
    description = "rule"
    from_port   = {from}
    to_port     = {to}
    protocol    = "{protocol}"
    cidr_blocks = ["{cidr}"]
  }}
}}
"#
    )
}

/// An identity policy with one statement (HCL object fields).
fn iam_policy(statement: &str) -> String {
    format!(
        "resource \"aws_iam_policy\" \"p\" {{\n  policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    Statement = [{{\n{statement}\n    }}]\n  }})\n}}\n"
    )
}

/// A resource policy attribute `kind.name.policy` with one statement.
fn resource_policy(kind: &str, extra: &str, statement: &str) -> String {
    format!(
        "resource \"{kind}\" \"p\" {{\n{extra}\n  policy = jsonencode({{\n    Version   = \"2012-10-17\"\n    Statement = [{{\n{statement}\n    }}]\n  }})\n}}\n"
    )
}

fn lambda(body: &str) -> String {
    format!(
        "resource \"aws_lambda_function\" \"f\" {{\n  function_name = \"f\"\n  role          = \"arn:aws:iam::123456789012:role/f\"\n  runtime       = \"python3.12\"\n  handler       = \"app.handler\"\n{body}\n}}\n"
    )
}

fn trail(body: &str) -> String {
    format!("resource \"aws_cloudtrail\" \"t\" {{\n  name           = \"t\"\n  s3_bucket_name = \"trail-logs\"\n{body}\n}}\n")
}

fn distribution(body: &str) -> String {
    format!(
        "resource \"aws_cloudfront_distribution\" \"d\" {{\n  enabled = true\n  origin {{\n    domain_name = \"example.com\"\n    origin_id   = \"web\"\n  }}\n  default_cache_behavior {{\n    target_origin_id       = \"web\"\n    viewer_protocol_policy = \"redirect-to-https\"\n  }}\n{body}\n}}\n"
    )
}

/// (rule, failing snippet, passing snippet)
fn cases() -> Vec<(&'static str, String, String)> {
    let allow_public_get =
        "      Effect = \"Allow\"\n      Principal = \"*\"\n      Action = \"s3:GetObject\"\n      Resource = \"arn:aws:s3:::data-bucket/*\"";
    let vpce_only = format!("{allow_public_get}\n      Condition = {{ StringEquals = {{ \"aws:SourceVpce\" = \"vpce-1234\" }} }}");
    let deny_plain_http = "      Effect = \"Deny\"\n      Principal = \"*\"\n      Action = \"s3:*\"\n      Resource = \"arn:aws:s3:::data-bucket/*\"\n      Condition = { Bool = { \"aws:SecureTransport\" = \"false\" } }";
    vec![
        ("FC_S3_001", format!("{BUCKET}{}", SSE_AES.replace("AES256", "DES")), format!("{BUCKET}{SSE_KMS}")),
        ("FC_S3_002", BUCKET.into(), format!("{BUCKET}{PAB}")),
        ("FC_S3_003", BUCKET.into(), format!("{BUCKET}{VERSIONING}")),
        (
            "FC_S3_004",
            BUCKET.into(),
            format!("{BUCKET}resource \"aws_s3_bucket_logging\" \"b\" {{\n  bucket        = aws_s3_bucket.b.id\n  target_bucket = \"access-logs\"\n  target_prefix = \"b/\"\n}}\n"),
        ),
        ("FC_S3_005", "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n".into(), "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"private\"\n}\n".into()),
        ("FC_S3_006", "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read-write\"\n}\n".into(), "resource \"aws_s3_bucket\" \"b\" {\n  acl = \"public-read\"\n}\n".into()),
        (
            "FC_S3_007",
            format!("{BUCKET}{}", resource_policy("aws_s3_bucket_policy", "  bucket = aws_s3_bucket.b.id", allow_public_get)),
            format!("{BUCKET}{}", resource_policy("aws_s3_bucket_policy", "  bucket = aws_s3_bucket.b.id", &vpce_only)),
        ),
        ("FC_S3_008", format!("{BUCKET}{SSE_AES}"), format!("{BUCKET}{SSE_KMS}")),
        ("FC_S3_008", BUCKET.into(), format!("{BUCKET}{SSE_KMS}")),
        ("FC_S3_009", BUCKET.into(), format!("{BUCKET}{}", resource_policy("aws_s3_bucket_policy", "  bucket = aws_s3_bucket.b.id", deny_plain_http))),
        ("FC_NET_001", sg(22, 22, "tcp", "0.0.0.0/0"), sg(22, 22, "tcp", "10.0.0.0/8")),
        ("FC_NET_002", sg(3389, 3389, "tcp", "0.0.0.0/0"), sg(3389, 3389, "tcp", "10.0.0.0/8")),
        ("FC_NET_003", sg(0, 0, "-1", "0.0.0.0/0"), sg(443, 443, "tcp", "0.0.0.0/0")),
        ("FC_NET_004", sg(5432, 5432, "tcp", "0.0.0.0/0"), sg(443, 443, "tcp", "0.0.0.0/0")),
        ("FC_NET_005", "resource \"aws_security_group\" \"s\" {\n  name = \"s\"\n}\n".into(), sg(443, 443, "tcp", "0.0.0.0/0")),
        ("FC_NET_006", "resource \"aws_subnet\" \"s\" {\n  map_public_ip_on_launch = true\n}\n".into(), "resource \"aws_subnet\" \"s\" {\n  map_public_ip_on_launch = false\n}\n".into()),
        (
            "FC_NET_007",
            "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n".into(),
            "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n}\nresource \"aws_flow_log\" \"f\" {\n  vpc_id       = aws_vpc.v.id\n  traffic_type = \"ALL\"\n}\n".into(),
        ),
        (
            "FC_NET_008",
            "resource \"aws_default_security_group\" \"d\" {\n  vpc_id = \"vpc-1\"\n  ingress {\n    protocol  = -1\n    self      = true\n    from_port = 0\n    to_port   = 0\n  }\n}\n".into(),
            "resource \"aws_default_security_group\" \"d\" {\n  vpc_id = \"vpc-1\"\n}\n".into(),
        ),
        ("FC_NET_009", sg(80, 80, "tcp", "0.0.0.0/0"), sg(443, 443, "tcp", "0.0.0.0/0")),
        (
            "FC_ELB_001",
            "resource \"aws_lb_listener\" \"l\" {\n  port     = 80\n  protocol = \"HTTP\"\n  default_action {\n    type = \"forward\"\n  }\n}\n".into(),
            "resource \"aws_lb_listener\" \"l\" {\n  port     = 80\n  protocol = \"HTTP\"\n  default_action {\n    type = \"redirect\"\n    redirect {\n      protocol    = \"HTTPS\"\n      port        = \"443\"\n      status_code = \"HTTP_301\"\n    }\n  }\n}\n".into(),
        ),
        ("FC_RDS_001", "resource \"aws_db_instance\" \"d\" {\n  engine = \"postgres\"\n}\n".into(), "resource \"aws_db_instance\" \"d\" {\n  engine            = \"postgres\"\n  storage_encrypted = true\n}\n".into()),
        ("FC_RDS_002", "resource \"aws_rds_cluster\" \"c\" {\n  engine = \"aurora-postgresql\"\n}\n".into(), "resource \"aws_rds_cluster\" \"c\" {\n  engine            = \"aurora-postgresql\"\n  storage_encrypted = true\n}\n".into()),
        ("FC_RDS_003", "resource \"aws_db_instance\" \"d\" {\n  publicly_accessible = true\n}\n".into(), "resource \"aws_db_instance\" \"d\" {\n  publicly_accessible = false\n}\n".into()),
        ("FC_RDS_004", "resource \"aws_db_instance\" \"d\" {\n  backup_retention_period = 0\n}\n".into(), "resource \"aws_db_instance\" \"d\" {\n  backup_retention_period = 7\n}\n".into()),
        ("FC_RDS_005", "resource \"aws_db_instance\" \"d\" {\n  engine = \"postgres\"\n}\n".into(), "resource \"aws_db_instance\" \"d\" {\n  deletion_protection = true\n}\n".into()),
        ("FC_RDS_006", "resource \"aws_rds_cluster\" \"c\" {\n  engine = \"aurora-mysql\"\n}\n".into(), "resource \"aws_rds_cluster\" \"c\" {\n  deletion_protection = true\n}\n".into()),
        (
            "FC_RDS_007",
            "resource \"aws_db_instance\" \"d\" {\n  engine = \"mysql\"\n}\n".into(),
            "resource \"aws_db_instance\" \"d\" {\n  engine                              = \"mysql\"\n  iam_database_authentication_enabled = true\n}\n".into(),
        ),
        (
            "FC_RDS_008",
            "resource \"aws_db_instance\" \"d\" {\n  username = \"admin\"\n  password = \"SuperSecret123\"\n}\n".into(),
            "variable \"db_password\" {\n  sensitive = true\n}\nresource \"aws_db_instance\" \"d\" {\n  username = \"admin\"\n  password = var.db_password\n}\n".into(),
        ),
        ("FC_LAMBDA_001", lambda(""), lambda("  tracing_config {\n    mode = \"Active\"\n  }")),
        ("FC_LAMBDA_002", lambda(""), lambda("  dead_letter_config {\n    target_arn = aws_sqs_queue.dlq.arn\n  }")),
        ("FC_LAMBDA_003", lambda(""), lambda("  reserved_concurrent_executions = 10")),
        (
            "FC_LAMBDA_004",
            lambda("  environment {\n    variables = {\n      DB_PASSWORD = \"hunter2hunter2\"\n    }\n  }"),
            lambda("  environment {\n    variables = {\n      DB_PASSWORD_ARN = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db\"\n    }\n  }"),
        ),
        (
            "FC_LAMBDA_005",
            "resource \"aws_lambda_function_url\" \"u\" {\n  function_name      = \"f\"\n  authorization_type = \"NONE\"\n}\n".into(),
            "resource \"aws_lambda_function_url\" \"u\" {\n  function_name      = \"f\"\n  authorization_type = \"AWS_IAM\"\n}\n".into(),
        ),
        (
            "FC_LAMBDA_006",
            lambda("  environment {\n    variables = {\n      STAGE = \"prod\"\n    }\n  }"),
            lambda("  kms_key_arn = aws_kms_key.k.arn\n  environment {\n    variables = {\n      STAGE = \"prod\"\n    }\n  }"),
        ),
        (
            "FC_LAMBDA_007",
            "resource \"aws_lambda_permission\" \"p\" {\n  action        = \"lambda:InvokeFunction\"\n  function_name = \"f\"\n  principal     = \"*\"\n}\n".into(),
            "resource \"aws_lambda_permission\" \"p\" {\n  action        = \"lambda:InvokeFunction\"\n  function_name = \"f\"\n  principal     = \"s3.amazonaws.com\"\n}\n".into(),
        ),
        ("FC_LAMBDA_008", lambda("").replace("python3.12", "nodejs12.x"), lambda("")),
        ("FC_IAM_001", iam_policy("      Effect = \"Allow\"\n      Action = \"*\"\n      Resource = \"*\""), iam_policy("      Effect = \"Allow\"\n      Action = \"s3:GetObject\"\n      Resource = \"*\"")),
        (
            "FC_IAM_002",
            iam_policy("      Effect = \"Allow\"\n      Action = [\"*\"]\n      Resource = \"arn:aws:s3:::b/*\""),
            iam_policy("      Effect = \"Allow\"\n      Action = [\"s3:GetObject\"]\n      Resource = \"arn:aws:s3:::b/*\""),
        ),
        ("FC_IAM_003", iam_policy("      Effect = \"Allow\"\n      Action = \"s3:*\"\n      Resource = \"*\""), iam_policy("      Effect = \"Allow\"\n      Action = \"s3:*\"\n      Resource = \"arn:aws:s3:::b/*\"")),
        (
            "FC_IAM_004",
            iam_policy("      Effect = \"Allow\"\n      Action = [\"iam:AttachRolePolicy\"]\n      Resource = \"*\""),
            iam_policy("      Effect = \"Allow\"\n      Action = [\"iam:GetRole\", \"iam:ListRoles\"]\n      Resource = \"*\""),
        ),
        (
            "FC_IAM_005",
            resource_policy("aws_iam_role", "  name = \"r\"", "      Effect = \"Allow\"\n      Action = \"sts:AssumeRole\"\n      Principal = { AWS = \"*\" }").replace("policy =", "assume_role_policy ="),
            resource_policy("aws_iam_role", "  name = \"r\"", "      Effect = \"Allow\"\n      Action = \"sts:AssumeRole\"\n      Principal = { Service = \"lambda.amazonaws.com\" }").replace("policy =", "assume_role_policy ="),
        ),
        (
            "FC_IAM_006",
            "resource \"aws_iam_user_policy_attachment\" \"a\" {\n  user       = \"alice\"\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n".into(),
            "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role       = \"app\"\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n".into(),
        ),
        (
            "FC_IAM_007",
            "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role       = \"app\"\n  policy_arn = \"arn:aws:iam::aws:policy/AdministratorAccess\"\n}\n".into(),
            "resource \"aws_iam_role_policy_attachment\" \"a\" {\n  role       = \"app\"\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n".into(),
        ),
        (
            "FC_IAM_008",
            iam_policy("      Effect = \"Allow\"\n      NotAction = \"iam:*\"\n      Resource = \"*\""),
            iam_policy("      Effect = \"Deny\"\n      NotAction = \"s3:GetObject\"\n      Resource = \"*\""),
        ),
        ("FC_IAM_009", "resource \"aws_iam_user\" \"u\" {\n  name = \"ci\"\n}\nresource \"aws_iam_access_key\" \"k\" {\n  user = aws_iam_user.u.name\n}\n".into(), "resource \"aws_iam_user\" \"u\" {\n  name = \"ci\"\n}\n".into()),
        ("FC_LOG_001", "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name = \"/app\"\n}\n".into(), "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name              = \"/app\"\n  retention_in_days = 30\n}\n".into()),
        ("FC_LOG_002", "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name = \"/app\"\n}\n".into(), "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name       = \"/app\"\n  kms_key_id = aws_kms_key.k.arn\n}\n".into()),
        ("FC_LOG_003", trail(""), trail("  enable_log_file_validation = true")),
        ("FC_LOG_004", trail(""), trail("  kms_key_id = aws_kms_key.k.arn")),
        ("FC_LOG_005", trail("  is_multi_region_trail = false"), trail("  is_multi_region_trail = true")),
        ("FC_EC2_001", "resource \"aws_ebs_volume\" \"v\" {\n  size = 10\n}\n".into(), "resource \"aws_ebs_volume\" \"v\" {\n  size      = 10\n  encrypted = true\n}\n".into()),
        (
            "FC_EC2_002",
            "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n".into(),
            "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n  root_block_device {\n    encrypted = true\n  }\n}\n".into(),
        ),
        (
            "FC_EC2_003",
            "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n".into(),
            "resource \"aws_launch_template\" \"t\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}\n".into(),
        ),
        ("FC_EC2_004", "resource \"aws_instance\" \"i\" {\n  associate_public_ip_address = true\n}\n".into(), "resource \"aws_instance\" \"i\" {\n  associate_public_ip_address = false\n}\n".into()),
        (
            "FC_EC2_005",
            "resource \"aws_instance\" \"i\" {\n  user_data = <<-EOT\n    #!/bin/bash\n    export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n  EOT\n}\n".into(),
            "resource \"aws_instance\" \"i\" {\n  user_data = <<-EOT\n    #!/bin/bash\n    yum install -y nginx\n  EOT\n}\n".into(),
        ),
        ("FC_EC2_006", "resource \"aws_ebs_encryption_by_default\" \"e\" {\n  enabled = false\n}\n".into(), "resource \"aws_ebs_encryption_by_default\" \"e\" {\n  enabled = true\n}\n".into()),
        ("FC_KMS_001", "resource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n}\n".into(), "resource \"aws_kms_key\" \"k\" {\n  enable_key_rotation = true\n}\n".into()),
        (
            "FC_KMS_002",
            resource_policy("aws_kms_key", "  description = \"k\"", "      Effect = \"Allow\"\n      Principal = { AWS = \"*\" }\n      Action = \"kms:*\"\n      Resource = \"*\""),
            resource_policy("aws_kms_key", "  description = \"k\"", "      Effect = \"Allow\"\n      Principal = { AWS = \"arn:aws:iam::123456789012:root\" }\n      Action = \"kms:*\"\n      Resource = \"*\""),
        ),
        ("FC_SQS_001", "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n}\n".into(), "resource \"aws_sqs_queue\" \"q\" {\n  name                    = \"q\"\n  sqs_managed_sse_enabled = true\n}\n".into()),
        (
            "FC_SQS_002",
            resource_policy("aws_sqs_queue_policy", "  queue_url = \"q\"", "      Effect = \"Allow\"\n      Principal = \"*\"\n      Action = \"sqs:SendMessage\"\n      Resource = \"*\""),
            resource_policy(
                "aws_sqs_queue_policy",
                "  queue_url = \"q\"",
                "      Effect = \"Allow\"\n      Principal = \"*\"\n      Action = \"sqs:SendMessage\"\n      Resource = \"*\"\n      Condition = { ArnEquals = { \"aws:SourceArn\" = \"arn:aws:sns:eu-west-1:123456789012:t\" } }",
            ),
        ),
        (
            "FC_SQS_003",
            resource_policy("aws_sqs_queue_policy", "  queue_url = \"q\"", "      Effect = \"Allow\"\n      Principal = { AWS = \"arn:aws:iam::123456789012:root\" }\n      Action = \"sqs:*\"\n      Resource = \"*\""),
            resource_policy("aws_sqs_queue_policy", "  queue_url = \"q\"", "      Effect = \"Allow\"\n      Principal = { AWS = \"arn:aws:iam::123456789012:root\" }\n      Action = \"sqs:SendMessage\"\n      Resource = \"*\""),
        ),
        ("FC_SNS_001", "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n".into(), "resource \"aws_sns_topic\" \"t\" {\n  name              = \"t\"\n  kms_master_key_id = \"alias/aws/sns\"\n}\n".into()),
        (
            "FC_SNS_002",
            resource_policy("aws_sns_topic_policy", "  arn = \"t\"", "      Effect = \"Allow\"\n      Principal = { AWS = \"*\" }\n      Action = \"sns:Publish\"\n      Resource = \"*\""),
            resource_policy(
                "aws_sns_topic_policy",
                "  arn = \"t\"",
                "      Effect = \"Allow\"\n      Principal = { AWS = \"*\" }\n      Action = \"sns:Publish\"\n      Resource = \"*\"\n      Condition = { StringEquals = { \"aws:SourceAccount\" = \"123456789012\" } }",
            ),
        ),
        ("FC_DDB_001", "resource \"aws_dynamodb_table\" \"t\" {\n  name = \"t\"\n}\n".into(), "resource \"aws_dynamodb_table\" \"t\" {\n  point_in_time_recovery {\n    enabled = true\n  }\n}\n".into()),
        (
            "FC_DDB_002",
            "resource \"aws_dynamodb_table\" \"t\" {\n  name = \"t\"\n}\n".into(),
            "resource \"aws_dynamodb_table\" \"t\" {\n  server_side_encryption {\n    enabled     = true\n    kms_key_arn = aws_kms_key.k.arn\n  }\n}\n".into(),
        ),
        (
            "FC_APIGW_001",
            "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name           = \"prod\"\n  xray_tracing_enabled = true\n}\n".into(),
            "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"prod\"\n  access_log_settings {\n    destination_arn = aws_cloudwatch_log_group.api.arn\n    format          = \"$context.requestId\"\n  }\n}\n".into(),
        ),
        ("FC_APIGW_002", "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"prod\"\n}\n".into(), "resource \"aws_api_gateway_stage\" \"s\" {\n  xray_tracing_enabled = true\n}\n".into()),
        (
            "FC_APIGW_003",
            "resource \"aws_api_gateway_method\" \"m\" {\n  http_method   = \"GET\"\n  authorization = \"NONE\"\n}\n".into(),
            "resource \"aws_api_gateway_method\" \"m\" {\n  http_method   = \"GET\"\n  authorization = \"AWS_IAM\"\n}\n".into(),
        ),
        (
            "FC_APIGW_004",
            "resource \"aws_api_gateway_domain_name\" \"d\" {\n  domain_name     = \"api.example.com\"\n  security_policy = \"TLS_1_0\"\n}\n".into(),
            "resource \"aws_api_gateway_domain_name\" \"d\" {\n  domain_name     = \"api.example.com\"\n  security_policy = \"TLS_1_2\"\n}\n".into(),
        ),
        (
            "FC_APIGW_005",
            "resource \"aws_api_gateway_method_settings\" \"s\" {\n  method_path = \"*/*\"\n  settings {\n    caching_enabled = true\n  }\n}\n".into(),
            "resource \"aws_api_gateway_method_settings\" \"s\" {\n  method_path = \"*/*\"\n  settings {\n    caching_enabled      = true\n    cache_data_encrypted = true\n  }\n}\n".into(),
        ),
        (
            "FC_CF_001",
            distribution("  viewer_certificate {\n    cloudfront_default_certificate = true\n  }"),
            distribution("  viewer_certificate {\n    acm_certificate_arn      = \"arn:aws:acm:us-east-1:1:certificate/x\"\n    minimum_protocol_version = \"TLSv1.2_2021\"\n    ssl_support_method       = \"sni-only\"\n  }"),
        ),
        ("FC_CF_002", distribution("").replace("redirect-to-https", "allow-all"), distribution("")),
        ("FC_CF_003", distribution(""), distribution("  logging_config {\n    bucket = \"logs.s3.amazonaws.com\"\n  }")),
        ("FC_CF_004", distribution(""), distribution("  web_acl_id = aws_wafv2_web_acl.w.arn")),
        (
            "FC_CF_005",
            distribution("").replace("origin_id   = \"web\"\n", "origin_id   = \"web\"\n    custom_origin_config {\n      origin_protocol_policy = \"http-only\"\n    }\n"),
            distribution("").replace("origin_id   = \"web\"\n", "origin_id   = \"web\"\n    custom_origin_config {\n      origin_protocol_policy = \"https-only\"\n    }\n"),
        ),
        (
            "FC_GEN_001",
            "provider \"aws\" {\n  region     = \"eu-west-1\"\n  access_key = \"AKIAIOSFODNN7EXAMPLE\"\n  secret_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n}\n".into(),
            "provider \"aws\" {\n  region  = \"eu-west-1\"\n  profile = \"prod\"\n}\n".into(),
        ),
        ("FC_SM_001", "resource \"aws_secretsmanager_secret\" \"s\" {\n  name = \"db\"\n}\n".into(), "resource \"aws_secretsmanager_secret\" \"s\" {\n  name       = \"db\"\n  kms_key_id = aws_kms_key.k.arn\n}\n".into()),
    ]
}

#[test]
fn every_rule_fails_its_bad_snippet_and_passes_its_good_one() {
    let cases = cases();
    let annotated = annotated_fixtures();
    for rule in RULES {
        let in_fixtures = |fires: bool| annotated.iter().any(|a| a.rule == rule.id && a.fires == fires);
        assert!(
            cases.iter().any(|(id, _, _)| id == &rule.id) || (in_fixtures(true) && in_fixtures(false)),
            "{} has no test case (a snippet pair here, or a failing and a passing resource in tests/fixtures/scan/rules/)",
            rule.id
        );
    }
    for (rule, bad, good) in &cases {
        assert!(super::rule(rule).is_some(), "{rule} is not a rule");
        let found = run(bad);
        assert!(!fired(&found, rule).is_empty(), "{rule} did not fire on:\n{bad}\nfound: {:?}", found.findings.iter().map(|f| &f.rule_id).collect::<Vec<_>>());
        let f = found.findings.iter().find(|f| f.rule_id == *rule).unwrap();
        assert!(f.line > 0 && f.file == "main.tf" && !f.message.is_empty() && !f.fix.is_empty() && f.source == SOURCE, "{f:?}");
        let clean = run(good);
        assert!(
            fired(&clean, rule).is_empty(),
            "{rule} fired on its passing snippet:\n{good}\n{:?}",
            clean.findings.iter().filter(|f| f.rule_id == *rule).collect::<Vec<_>>()
        );
    }
}

#[test]
fn rule_table_is_well_formed() {
    assert!(RULES.len() >= 40, "{} rules", RULES.len());
    let mut ids = std::collections::BTreeSet::new();
    for r in RULES {
        assert!(ids.insert(r.id), "duplicate id {}", r.id);
        let parts: Vec<&str> = r.id.split('_').collect();
        assert!(parts.len() == 3 && parts[0] == "FC" && parts[2].len() == 3 && parts[2].chars().all(|c| c.is_ascii_digit()), "{}", r.id);
        assert!(r.checkov_id.is_none_or(|c| c.starts_with("CKV_AWS_") || c.starts_with("CKV2_AWS_")), "{}", r.id);
        assert!(!r.title.is_empty() && (r.fix.ends_with('.') || r.fix.ends_with(')')), "{}: {}", r.id, r.fix);
    }
    let checkov: Vec<&str> = RULES.iter().filter_map(|r| r.checkov_id).collect();
    for id in [
        "CKV_AWS_18",
        "CKV_AWS_19",
        "CKV_AWS_20",
        "CKV_AWS_21",
        "CKV_AWS_24",
        "CKV_AWS_25",
        "CKV_AWS_16",
        "CKV_AWS_17",
        "CKV_AWS_45",
        "CKV_AWS_50",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        "CKV_AWS_158",
        "CKV_AWS_66",
        "CKV_AWS_79",
        "CKV_AWS_8",
    ] {
        // CKV_AWS_117 (Lambda inside a VPC) is deliberately not a rule: most functions need no VPC.
        assert!(checkov.contains(&id) || id == "CKV_AWS_117", "{id} is not mapped");
    }
}

#[test]
fn split_s3_resources_satisfy_the_bucket_rules() {
    let split = format!("{BUCKET}{SSE_KMS}{PAB}{VERSIONING}");
    let result = run(&split);
    for rule in ["FC_S3_001", "FC_S3_002", "FC_S3_003", "FC_S3_008"] {
        assert!(fired(&result, rule).is_empty(), "{rule} fired on a bucket configured with split resources");
    }
    let bare = run(BUCKET);
    for rule in ["FC_S3_008", "FC_S3_002", "FC_S3_003"] {
        assert_eq!(fired(&bare, rule), ["aws_s3_bucket.b"], "{rule}");
    }
    assert!(fired(&bare, "FC_S3_001").is_empty(), "no configuration means SSE-S3, which is valid");
    // Split resources naming the bucket literally, and a v3-style inline bucket.
    let literal = split.replace("aws_s3_bucket.b.id", "\"data-bucket\"");
    let result = run(&literal);
    assert!(["FC_S3_001", "FC_S3_002", "FC_S3_003"].iter().all(|r| fired(&result, r).is_empty()));
    let inline = "resource \"aws_s3_bucket\" \"b\" {\n  versioning {\n    enabled = true\n  }\n  server_side_encryption_configuration {\n    rule {\n      apply_server_side_encryption_by_default {\n        sse_algorithm = \"AES256\"\n      }\n    }\n  }\n}\n";
    let result = run(inline);
    assert!(fired(&result, "FC_S3_001").is_empty() && fired(&result, "FC_S3_003").is_empty());
    // A split resource for another bucket does not count for this one.
    let other = format!(
        "{BUCKET}resource \"aws_s3_bucket\" \"other\" {{\n  bucket = \"other\"\n}}\n{}",
        VERSIONING.replace("aws_s3_bucket.b.id", "aws_s3_bucket.other.id")
    );
    assert_eq!(fired(&run(&other), "FC_S3_003"), ["aws_s3_bucket.b"]);
    // Suspended versioning and an incomplete public access block are reported.
    let suspended = format!("{BUCKET}{}", VERSIONING.replace("Enabled", "Suspended"));
    assert!(run(&suspended).findings.iter().any(|f| f.rule_id == "FC_S3_003" && f.message.contains("Suspended")));
    let partial = format!("{BUCKET}{}", PAB.replace("restrict_public_buckets = true", "restrict_public_buckets = false"));
    assert!(run(&partial).findings.iter().any(|f| f.rule_id == "FC_S3_002" && f.message.contains("restrict_public_buckets")));
    // An account-wide block covers every bucket.
    let account = format!(
        "{BUCKET}{}",
        PAB.replace("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block").replace("  bucket                  = aws_s3_bucket.b.id\n", "")
    );
    assert!(fired(&run(&account), "FC_S3_002").is_empty());
    // A split ACL resource makes the bucket public.
    let acl = format!("{BUCKET}resource \"aws_s3_bucket_acl\" \"b\" {{\n  bucket = aws_s3_bucket.b.id\n  acl    = \"public-read\"\n}}\n");
    assert_eq!(fired(&run(&acl), "FC_S3_005"), ["aws_s3_bucket.b"]);
}

#[test]
fn unresolvable_values_never_claim_a_violation() {
    // A split resource whose bucket cannot be resolved might be this bucket's.
    let dynamic = format!("{BUCKET}{}", VERSIONING.replace("aws_s3_bucket.b.id", "each.value"));
    assert!(fired(&run(&dynamic), "FC_S3_003").is_empty());
    // Unknown values of "bad value" rules: no finding.
    let hcl = r#"
variable "cidr" {}
variable "public" {}
resource "aws_security_group" "s" {
  description = "x"
  ingress {
    description = "x"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
resource "aws_db_instance" "d" {
  publicly_accessible = var.public
  storage_encrypted   = var.public
}
variable "action" {}
resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = var.action, Resource = aws_s3_bucket.b.arn }]
  })
}
"#;
    let result = run(hcl);
    for rule in ["FC_NET_001", "FC_RDS_003", "FC_RDS_001", "FC_IAM_001", "FC_IAM_002"] {
        assert!(fired(&result, rule).is_empty(), "{rule}: {:?}", result.findings);
    }
}

#[test]
fn the_known_part_of_a_partly_known_policy_is_checked() {
    // `Action = "*"` is wrong whatever the resource turns out to be.
    let hcl = r#"
resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "*", Resource = aws_s3_bucket.b.arn }]
  })
}
"#;
    assert!(!fired(&run(hcl), "FC_IAM_002").is_empty());
}

#[test]
fn variables_locals_and_defaults_are_resolved() {
    let hcl = r#"
variable "encrypt" {
  default = false
}
variable "open_to" {
  default = "0.0.0.0/0"
}
locals {
  public = true
  ports  = { ssh = 22 }
}
resource "aws_db_instance" "d" {
  storage_encrypted   = var.encrypt
  publicly_accessible = local.public
}
resource "aws_security_group" "s" {
  description = "x"
  ingress {
    description = "x"
    from_port   = local.ports.ssh
    to_port     = local.ports["ssh"]
    protocol    = "tcp"
    cidr_blocks = [var.open_to]
  }
}
resource "aws_cloudwatch_log_group" "g" {
  retention_in_days = var.encrypt ? 30 : 0
}
"#;
    let result = run(hcl);
    assert_eq!(fired(&result, "FC_RDS_001"), ["aws_db_instance.d"]);
    assert_eq!(fired(&result, "FC_RDS_003"), ["aws_db_instance.d"]);
    assert_eq!(fired(&result, "FC_NET_001"), ["aws_security_group.s"]);
    assert!(result.findings.iter().any(|f| f.rule_id == "FC_LOG_001" && f.message.contains("= 0")));
    // tfvars override defaults.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), hcl).unwrap();
    std::fs::write(dir.path().join("prod.tfvars"), "encrypt = true\nopen_to = \"10.0.0.0/8\"\n").unwrap();
    let m = tf::load_dir(dir.path(), Some(&dir.path().join("prod.tfvars"))).unwrap();
    let result = scan(&m, &ScanOptions::default());
    assert!(fired(&result, "FC_RDS_001").is_empty() && fired(&result, "FC_NET_001").is_empty() && fired(&result, "FC_LOG_001").is_empty());
}

#[test]
fn inline_suppressions_by_rule_or_checkov_id() {
    let hcl = r#"
# faber:ignore FC_S3_004 access is logged by CloudTrail data events
resource "aws_s3_bucket" "a" {
  bucket = "a"
}

resource "aws_s3_bucket" "b" {
  # faber:ignore CKV_AWS_21 scratch data, versioning not wanted
  bucket = "b"
}
"#;
    let result = run(hcl);
    assert!(fired(&result, "FC_S3_004") == ["aws_s3_bucket.b"], "{:?}", fired(&result, "FC_S3_004"));
    assert_eq!(fired(&result, "FC_S3_003"), ["aws_s3_bucket.a"]);
    let s = result.suppressed.iter().find(|s| s.finding.rule_id == "FC_S3_004").unwrap();
    assert_eq!((s.by.as_str(), s.reason.as_str(), s.finding.resource.as_str()), ("inline", "access is logged by CloudTrail data events", "aws_s3_bucket.a"));
    assert!(result.suppressed.iter().any(|s| s.finding.rule_id == "FC_S3_003" && s.finding.resource == "aws_s3_bucket.b"));
}

#[test]
fn config_suppressions_match_rule_and_address_prefix() {
    let hcl = "resource \"aws_s3_bucket\" \"log\" {\n  bucket = \"l\"\n}\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"ls\"\n}\n";
    let m = module(hcl);
    let opts = |rule: &str, resource: Option<&str>| ScanOptions {
        suppress: vec![ConfigSuppression { rule: rule.into(), resource: resource.map(Into::into), reason: "accepted".into() }],
    };
    let result = scan(&m, &opts("FC_S3_004", Some("aws_s3_bucket.log")));
    assert_eq!(fired(&result, "FC_S3_004"), ["aws_s3_bucket.logs"], "a prefix stops at a boundary");
    assert_eq!(result.suppressed.len(), 1);
    assert_eq!(result.suppressed[0].by, "config");
    let result = scan(&m, &opts("ckv_aws_18", None));
    assert!(fired(&result, "FC_S3_004").is_empty() && result.suppressed.len() == 2, "by Checkov id, every resource");
    let result = scan(&m, &opts("*", Some("aws_s3_bucket")));
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    assert!(address_matches("module.legacy", "module.legacy.aws_s3_bucket.x") && address_matches("module.sg", "module.sg[\"a\"].aws_security_group.bad"));
    assert!(!address_matches("module.leg", "module.legacy.aws_s3_bucket.x") && !address_matches("", "x"));
    let json: ScanOptions = serde_json::from_str(r#"{"suppress": [{"rule": "FC_S3_004", "reason": "r"}]}"#).unwrap();
    assert_eq!(json.suppress[0].resource, None);
    assert!(serde_json::from_str::<ScanOptions>(r#"{"supress": []}"#).is_err(), "typos are refused");
}

#[test]
fn log_buckets_are_not_asked_to_log_themselves() {
    let hcl = r#"
resource "aws_s3_bucket" "logs" {
  bucket = "access-logs"
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
resource "aws_s3_bucket_logging" "b" {
  bucket        = aws_s3_bucket.b.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "b/"
}
"#;
    assert!(fired(&run(hcl), "FC_S3_004").is_empty());
}

#[test]
fn iam_documents_from_data_sources_are_read() {
    let hcl = r#"
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["iam:PassRole", "ec2:RunInstances"]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "p" {
  role   = "app"
  policy = data.aws_iam_policy_document.d.json
}
"#;
    let result = run(hcl);
    assert_eq!(fired(&result, "FC_IAM_004"), ["aws_iam_role_policy.p"]);
    assert!(result.findings.iter().any(|f| f.message.contains("iam:PassRole + ec2:RunInstances")));
}

fn plans() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform/plans");
    assert!(dir.is_dir(), "the shared fixtures are missing at {} (they sit beside the project as ../shared)", dir.display());
    dir
}

fn scan_plan(name: &str) -> ScanResult {
    let path = plans().join(name);
    let mut m = tf::load_plan(&path).unwrap();
    let doc = tf::decode_json(&std::fs::read(&path).unwrap()).unwrap();
    plan_refs::restore(&mut m, &doc);
    scan(&m, &ScanOptions::default())
}

fn has(result: &ScanResult, rule: &str, resource: &str) -> bool {
    result.findings.iter().any(|f| f.rule_id == rule && f.resource == resource)
}

#[test]
fn terragoat_plan_findings_match_the_plan() {
    let r = scan_plan("10-medium-terragoat-55res-rds-s3-iam-lambda-kms.tf0.12.23.json");
    // aws_db_instance.default: storage_encrypted false, publicly_accessible true, backup_retention_period 0.
    for rule in ["FC_RDS_001", "FC_RDS_003", "FC_RDS_004"] {
        assert!(has(&r, rule, "aws_db_instance.default"), "{rule}");
    }
    // The password is in the plan, but a plan cannot tell a literal from a variable.
    assert!(fired(&r, "FC_RDS_008").is_empty());
    assert!(has(&r, "FC_S3_005", "aws_s3_bucket.data"), "acl public-read");
    assert!(!has(&r, "FC_S3_005", "aws_s3_bucket.financials"), "acl private");
    assert!(has(&r, "FC_S3_008", "aws_s3_bucket.financials") && !has(&r, "FC_S3_008", "aws_s3_bucket.logs"), "logs has aws:kms");
    assert!(!has(&r, "FC_S3_003", "aws_s3_bucket.operations"), "versioning.enabled = true inline");
    assert!(has(&r, "FC_NET_001", "aws_security_group.web-node") && has(&r, "FC_NET_009", "aws_security_group.web-node"));
    assert!(!has(&r, "FC_NET_001", "aws_security_group_rule.ingress"), "3306 from 172.16.0.0/16 only");
    assert!(has(&r, "FC_LAMBDA_004", "aws_lambda_function.analysis_lambda"), "access_key/secret_key literals");
    assert!(has(&r, "FC_LAMBDA_008", "aws_lambda_function.analysis_lambda"), "nodejs12.x");
    assert!(has(&r, "FC_KMS_001", "aws_kms_key.logs_key"), "enable_key_rotation false");
    assert!(has(&r, "FC_IAM_003", "aws_iam_role_policy.ec2policy") && has(&r, "FC_IAM_006", "aws_iam_user_policy.userpolicy"));
    assert!(has(&r, "FC_EC2_001", "aws_ebs_volume.web_host_storage"));
    // The flow log's vpc_id is only known after apply; its configuration refers to web_vpc.
    assert!(has(&r, "FC_NET_007", "aws_vpc.eks_vpc") && !has(&r, "FC_NET_007", "aws_vpc.web_vpc"));
    // flowbucket receives the flow logs, so it is not asked to log itself.
    assert!(!has(&r, "FC_S3_004", "aws_s3_bucket.flowbucket") && has(&r, "FC_S3_004", "aws_s3_bucket.financials"));
    assert!(r.findings.iter().all(|f| f.line == 0 && f.file.starts_with("10-medium-terragoat")));
}

#[test]
fn other_recorded_plans() {
    let r = scan_plan("13-for-each-sg-route53-applyable-complete.tf1.9.5.json");
    assert!(has(&r, "FC_NET_003", "module.sg[\"bad_example\"].aws_security_group.bad"));
    assert_eq!(fired(&r, "FC_NET_003").len(), 3);
    assert!(fired(&r, "FC_NET_004").is_empty(), "all ports open is FC_NET_003's finding");
    let r = scan_plan("01-small-secretsmanager-create.tf1.0.11.json");
    assert!(has(&r, "FC_SM_001", "aws_secretsmanager_secret.not_specified"));
    let r = scan_plan("08-medium-apigw-acm-iam-waf-23res.tf0.15.5.json");
    assert!(has(&r, "FC_APIGW_003", "module.apigw_test_1.aws_api_gateway_method.root_method"), "ANY with authorization NONE");
    assert!(has(&r, "FC_APIGW_002", "module.apigw_test_1.aws_api_gateway_stage.main"), "xray_tracing_enabled = false");
    assert!(fired(&r, "FC_APIGW_001").is_empty(), "access_log_settings.destination_arn is set");
    assert!(fired(&r, "FC_APIGW_004").is_empty(), "security_policy TLS_1_2");
    let r = scan_plan("02-small-ec2-lambda-create.tf1.0.2.json");
    assert!(has(&r, "FC_LAMBDA_008", "aws_lambda_function.hello_world"));
    assert!(has(&r, "FC_EC2_002", "aws_instance.web_app"), "root_block_device without encrypted");
    assert!(has(&r, "FC_EC2_003", "aws_instance.web_app"), "no metadata_options");
}

#[test]
fn plan_references_let_split_resources_find_their_bucket() {
    // A v4-style plan: the versioning resource's bucket is known only after
    // apply, so planned_values leave it out; the configuration refers to it.
    let plan = serde_json::json!({
        "format_version": "1.2",
        "planned_values": { "root_module": { "resources": [
            { "address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "values": { "bucket": "data-bucket" } },
            { "address": "aws_s3_bucket_versioning.b", "mode": "managed", "type": "aws_s3_bucket_versioning", "name": "b",
              "values": { "versioning_configuration": [{ "status": "Enabled" }] } },
            { "address": "aws_cloudwatch_log_group.g", "mode": "managed", "type": "aws_cloudwatch_log_group", "name": "g", "values": { "name": "g", "retention_in_days": 30 } }
        ] } },
        "configuration": { "root_module": { "resources": [
            { "address": "aws_s3_bucket_versioning.b", "type": "aws_s3_bucket_versioning", "name": "b",
              "expressions": { "bucket": { "references": ["aws_s3_bucket.b.id", "aws_s3_bucket.b"] },
                               "versioning_configuration": [{ "status": { "constant_value": "Enabled" } }] } },
            { "address": "aws_cloudwatch_log_group.g", "type": "aws_cloudwatch_log_group", "name": "g",
              "expressions": { "kms_key_id": { "references": ["aws_kms_key.k.arn", "aws_kms_key.k"] } } }
        ] } }
    });
    let text = plan.to_string();
    let mut m = tf::load_plan_text(text.as_bytes(), "plan.json").unwrap();
    let before = scan(&m, &ScanOptions::default());
    assert!(!fired(&before, "FC_S3_003").is_empty() && !fired(&before, "FC_LOG_002").is_empty(), "without the references both look absent");
    plan_refs::restore(&mut m, &plan);
    let after = scan(&m, &ScanOptions::default());
    assert!(fired(&after, "FC_S3_003").is_empty(), "{:?}", after.findings);
    assert!(fired(&after, "FC_LOG_002").is_empty(), "kms_key_id is set from a key created in the same apply");
    assert!(!fired(&after, "FC_S3_008").is_empty(), "still no encryption configuration: SSE-S3, not KMS");
}

#[test]
fn never_panics_on_recorded_inputs() {
    for dir in [plans(), plans().join("edge-cases")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                let mut m = tf::load_plan(&path).unwrap();
                if let Ok(doc) = tf::decode_json(&std::fs::read(&path).unwrap()) {
                    plan_refs::restore(&mut m, &doc);
                }
                let _ = scan(&m, &ScanOptions::default());
            }
        }
    }
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/clean-modules");
    let mut dirs = vec![modules.clone()];
    let mut scanned = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        if let Ok(m) = tf::load_dir(&dir, None) {
            let _ = scan(&m, &ScanOptions::default());
            scanned += 1;
        }
    }
    assert!(scanned >= 4, "{scanned} module directories");
}

#[test]
fn an_effect_known_only_at_apply_is_not_taken_for_allow() {
    let hcl = r#"
variable "effect" {}
data "aws_iam_policy_document" "d" {
  statement {
    effect    = var.effect
    actions   = ["*"]
    resources = ["*"]
  }
}
resource "aws_iam_policy" "p" {
  policy = data.aws_iam_policy_document.d.json
}
"#;
    let result = run(hcl);
    for rule in ["FC_IAM_001", "FC_IAM_002"] {
        assert!(fired(&result, rule).is_empty(), "{rule}: {:?}", result.findings);
    }
    assert!(!fired(&run(&hcl.replace("var.effect", "\"Allow\"")), "FC_IAM_002").is_empty(), "the same policy with a known Allow fires");
}

#[test]
fn empty_environment_variables_need_no_key() {
    let hcl = r#"
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "arn:aws:iam::123456789012:role/r"
  environment {
    variables = {}
  }
}
"#;
    assert!(fired(&run(hcl), "FC_LAMBDA_006").is_empty());
    assert!(!fired(&run(&hcl.replace("{}", "{ A = \"b\" }")), "FC_LAMBDA_006").is_empty());
}

#[test]
fn a_vpc_needs_its_default_security_group_restricted() {
    let vpc = "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n";
    let on = |hcl: &str| fired(&run(hcl), "FC_NET_008");
    assert_eq!(on(vpc), ["aws_vpc.main"]);
    let restricted = format!("{vpc}resource \"aws_default_security_group\" \"d\" {{\n  vpc_id = aws_vpc.main.id\n}}\n");
    assert!(on(&restricted).is_empty());
    let open = format!(
        "{vpc}resource \"aws_default_security_group\" \"d\" {{\n  vpc_id = aws_vpc.main.id\n  egress {{\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n}}\n"
    );
    assert_eq!(on(&open), ["aws_default_security_group.d"]);
}

/// `protocol = -1` written as a number (not the string "-1") opens every port too, in every form of rule.
#[test]
fn a_numeric_all_protocol_rule_is_read_like_the_string() {
    let inline = "resource \"aws_security_group\" \"s\" {\n  description = \"app\"\n  ingress {\n    description = \"all\"\n    from_port   = 0\n    to_port     = 0\n    protocol    = -1\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n";
    let rule = "resource \"aws_security_group_rule\" \"r\" {\n  type              = \"ingress\"\n  description       = \"all\"\n  from_port         = 0\n  to_port           = 0\n  protocol          = -1\n  cidr_blocks       = [\"0.0.0.0/0\"]\n  security_group_id = \"sg-1\"\n}\n";
    let vpc_rule = "resource \"aws_vpc_security_group_ingress_rule\" \"r\" {\n  description       = \"all\"\n  ip_protocol       = -1\n  cidr_ipv4         = \"0.0.0.0/0\"\n  security_group_id = \"sg-1\"\n}\n";
    for (hcl, resource) in [(inline, "aws_security_group.s"), (rule, "aws_security_group_rule.r"), (vpc_rule, "aws_vpc_security_group_ingress_rule.r")] {
        assert_eq!(fired(&run(hcl), "FC_NET_003"), [resource], "{hcl}");
        // The string spelling agrees, and a numeric TCP protocol (6) with a narrow range does not fire.
        assert_eq!(fired(&run(&hcl.replace("= -1", "= \"-1\"")), "FC_NET_003"), [resource], "{hcl}");
    }
    let tcp22 = rule
        .replace("protocol          = -1", "protocol          = 6")
        .replace("to_port           = 0", "to_port           = 22")
        .replace("from_port         = 0", "from_port         = 22");
    let result = run(&tcp22);
    assert!(fired(&result, "FC_NET_003").is_empty());
    assert_eq!(fired(&result, "FC_NET_001"), ["aws_security_group_rule.r"]);
}

/// A heredoc policy with an interpolation is read: the interpolated part is unknown, the rest is checked.
#[test]
fn a_heredoc_policy_with_an_interpolation_is_read() {
    let hcl = r#"
resource "aws_iam_policy" "p" {
  policy = <<-EOF
    {
      "Version": "2012-10-17",
      "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "${aws_sqs_queue.q.arn}"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
      ]
    }
  EOF
}
"#;
    assert_eq!(fired(&run(hcl), "FC_IAM_001"), ["aws_iam_policy.p"]);
    // The interpolated resource alone is never taken for "*"; a directive makes the text unknown.
    let narrow =
        hcl.replace(r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#, r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${var.arn}"}"#);
    assert!(fired(&run(&narrow), "FC_IAM_001").is_empty() && fired(&run(&narrow), "FC_IAM_002").is_empty());
    let directive = hcl.replace("\"Version\"", "%{ if true }\"Version\"%{ endif }");
    assert!(fired(&run(&directive), "FC_IAM_001").is_empty());
}

/// `for` expressions in `for_each` and `count` are evaluated: an empty result means no resource to scan.
#[test]
fn for_expressions_decide_whether_a_resource_exists() {
    let hcl = |names: &str, meta: &str| {
        format!(
            r#"
variable "names" {{
  default = [{names}]
}}

resource "aws_security_group_rule" "r" {{
  {meta}
  type              = "ingress"
  description       = "all"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-1"
}}
"#
        )
    };
    let for_each = r#"for_each = toset([for n in var.names : n if n != "skip"])"#;
    let count = r#"count = length([for n in var.names : upper(n) if n != "skip"])"#;
    let object = r#"for_each = { for i, n in var.names : n => i if n != "skip" }"#;
    for meta in [for_each, count, object] {
        assert!(fired(&run(&hcl(r#""skip""#, meta)), "FC_NET_003").is_empty(), "empty after the filter: {meta}");
        assert!(!fired(&run(&hcl(r#""skip", "app""#, meta)), "FC_NET_003").is_empty(), "one left: {meta}");
        // An unknown collection or condition leaves the resource in (it may exist).
        assert!(!fired(&run(&hcl(r#""skip""#, &meta.replace("var.names", "data.x.y.names"))), "FC_NET_003").is_empty(), "unknown: {meta}");
    }
}

/// A bucket named by a load balancer's or trail's logging that is switched off receives no logs: it must log itself.
#[test]
fn disabled_log_delivery_does_not_exempt_a_bucket() {
    let hcl = |enabled: &str| {
        format!(
            r#"
resource "aws_s3_bucket" "logs" {{
  bucket = "access-logs"
}}
resource "aws_lb" "l" {{
  name = "l"
  access_logs {{
    bucket  = aws_s3_bucket.logs.id
    enabled = {enabled}
  }}
}}
resource "aws_cloudtrail" "t" {{
  name           = "t"
  s3_bucket_name = "other"
}}
"#
        )
    };
    assert!(fired(&run(&hcl("true")), "FC_S3_004").is_empty());
    assert_eq!(fired(&run(&hcl("false")), "FC_S3_004"), ["aws_s3_bucket.logs"]);
    let trail = "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"trail-logs\"\n}\nresource \"aws_cloudtrail\" \"t\" {\n  name           = \"t\"\n  s3_bucket_name = aws_s3_bucket.logs.id\n  enable_logging = false\n}\n";
    assert_eq!(fired(&run(trail), "FC_S3_004"), ["aws_s3_bucket.logs"]);
    assert!(fired(&run(&trail.replace("enable_logging = false", "enable_logging = true")), "FC_S3_004").is_empty());
}

/// One `# fails ID …` / `# passes ID …` annotation of a resource in `tests/fixtures/scan/rules/*.tf`.
#[derive(Debug)]
struct Annotation {
    file: String,
    address: String,
    rule: String,
    fires: bool,
}

fn rule_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/rules")
}

fn annotated_fixtures() -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(rule_fixtures()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tf")).collect();
    files.sort();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut pending: Vec<(String, bool)> = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(ids) = line.strip_prefix("# fails ") {
                pending.extend(ids.split_whitespace().map(|id| (id.to_string(), true)));
            } else if let Some(ids) = line.strip_prefix("# passes ") {
                pending.extend(ids.split_whitespace().map(|id| (id.to_string(), false)));
            } else if let Some(rest) = line.strip_prefix("resource \"") {
                let parts: Vec<&str> = rest.split('"').collect();
                let address = format!("{}.{}", parts[0], parts[2]);
                for (rule, fires) in pending.drain(..) {
                    out.push(Annotation { file: file.clone(), address: address.clone(), rule, fires });
                }
            } else if !line.is_empty() && !line.starts_with('#') && !pending.is_empty() && !line.starts_with("data ") {
                panic!("{file}: an annotation must sit right above a resource block, not above {line:?}");
            }
        }
        assert!(pending.is_empty(), "{file}: annotation at the end of the file");
    }
    out
}

#[test]
fn annotated_rule_fixtures_fire_where_they_say() {
    let annotated = annotated_fixtures();
    assert!(annotated.len() > 100, "{} annotations", annotated.len());
    let mut files: Vec<&str> = annotated.iter().map(|a| a.file.as_str()).collect();
    files.dedup();
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(rule_fixtures().join(file)).unwrap();
        let module = load_sources(&[(file.to_string(), text)]).unwrap_or_else(|e| panic!("{file}: {e}"));
        let result = scan(&module, &ScanOptions::default());
        for a in annotated.iter().filter(|a| a.file == file) {
            assert!(super::rule(&a.rule).is_some(), "{file}: {} is not a rule", a.rule);
            let found = result.findings.iter().find(|f| f.rule_id == a.rule && f.resource == a.address);
            if found.is_some() != a.fires {
                wrong.push(format!("{file}: {} {} {}", a.address, if a.fires { "should fail" } else { "should pass" }, a.rule));
            }
            if let Some(f) = found {
                assert!(f.line > 0 && f.file == file && !f.message.is_empty(), "{f:?}");
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
}
