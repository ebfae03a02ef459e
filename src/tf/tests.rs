use std::path::PathBuf;

use super::*;

fn load(text: &str) -> Module {
    load_sources(&[("main.tf".to_string(), text.to_string())]).unwrap()
}

const SAMPLE: &str = r#"
variable "env" {
  default = "test"
}

variable "retention" {
  type    = number
  default = 30
}

locals {
  name   = "app-${var.env}"
  tags   = { Project = "demo", Env = var.env }
  bucket = "${local.name}-uploads"
}

resource "aws_s3_bucket" "uploads" {
  bucket = local.bucket
  tags   = merge(local.tags, { Extra = "1" })
}

# faber:ignore FCS3_004 versioning is handled by the backup job
resource "aws_s3_bucket_versioning" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = var.env == "prod" ? "aws:kms" : "AES256"
    }
  }
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.retention * 2
}

resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:*", Resource = "*" }]
  })
}

resource "aws_security_group" "web" {
  dynamic "ingress" {
    for_each = [80, 443]
    content {
      from_port   = ingress.value
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
"#;

#[test]
fn evaluates_variables_locals_and_functions() {
    let m = load(SAMPLE);
    let bucket = m.by_address("aws_s3_bucket.uploads").unwrap();
    assert_eq!(bucket.get("bucket"), Some(&Val::Str("app-test-uploads".into())));
    assert_eq!(bucket.line, 17);
    assert_eq!(bucket.line_of("tags"), 19);
    let tags = bucket.get("tags").unwrap();
    assert_eq!(tags.first_block().unwrap().get("Extra"), Some(&Val::Str("1".into())));
    let logs = m.by_address("aws_cloudwatch_log_group.api").unwrap();
    assert_eq!(logs.get("retention_in_days").and_then(Val::as_num), Some(60.0));
    assert_eq!(logs.get("name").and_then(Val::as_str), Some("/aws/lambda/app-test"));
    let sse = m.by_address("aws_s3_bucket_server_side_encryption_configuration.uploads").unwrap();
    assert_eq!(sse.path("rule.apply_server_side_encryption_by_default.sse_algorithm").and_then(Val::as_str), Some("AES256"));
    let policy = m.by_address("aws_iam_policy.p").unwrap().get("policy").and_then(Val::as_str).unwrap();
    let json: serde_json::Value = serde_json::from_str(policy).unwrap();
    assert_eq!(json["Statement"][0]["Action"], "s3:*");
    let sg = m.by_address("aws_security_group.web").unwrap();
    assert_eq!(sg.get("ingress").unwrap().blocks()[0].get("cidr_blocks"), Some(&Val::List(vec![Val::Str("0.0.0.0/0".into())])));
    assert!(matches!(sg.get("ingress").unwrap().blocks()[0].get("from_port"), Some(Val::Unknown(s)) if s == "ingress.value"));
}

#[test]
fn split_resources_find_their_bucket_and_ignores_are_read() {
    let m = load(SAMPLE);
    let bucket = m.by_address("aws_s3_bucket.uploads").unwrap();
    let versioning: Vec<_> = m.attached("aws_s3_bucket_versioning", "bucket", bucket, "bucket").collect();
    assert_eq!(versioning.len(), 1);
    assert_eq!(versioning[0].ignored("fcs3_004").map(|i| i.reason.as_str()), Some("versioning is handled by the backup job"));
    assert!(bucket.ignored("FCS3_004").is_none());
}

#[test]
fn tfvars_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), SAMPLE).unwrap();
    std::fs::write(dir.path().join("prod.tfvars"), "env = \"prod\"\n").unwrap();
    let m = load_dir(dir.path(), Some(&dir.path().join("prod.tfvars"))).unwrap();
    let sse = m.by_address("aws_s3_bucket_server_side_encryption_configuration.uploads").unwrap();
    assert_eq!(sse.path("rule.apply_server_side_encryption_by_default.sse_algorithm").and_then(Val::as_str), Some("aws:kms"));
}

#[test]
fn syntax_errors_name_file_and_line() {
    let err = load_sources(&[("broken.tf".into(), "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n".into())]).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("broken.tf:"), "{text}");
    assert!(matches!(err, TfError::Syntax { line: 2 | 3, .. }), "{text}");
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(load_dir(dir.path(), None), Err(TfError::Empty { .. })));
}

fn fixtures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform/plans");
    assert!(dir.is_dir(), "the shared fixtures are missing at {} (they sit beside the project as ../shared)", dir.display());
    dir
}

#[test]
fn every_recorded_plan_loads() {
    let mut seen = 0;
    for dir in [fixtures(), fixtures().join("edge-cases")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let m = load_plan(&path).unwrap_or_else(|e| panic!("{e}"));
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.contains("no-resource-changes") {
                assert!(!m.resources.is_empty(), "{name} has resources");
            }
            seen += 1;
        }
    }
    assert!(seen >= 17, "{seen}");
    // The UTF-16 file with a BOM and the wrapper-prefixed one read like any other.
    let m = load_plan(&fixtures().join("edge-cases/s3-utf16-bom-windows.tf1.2.2.json")).unwrap();
    assert!(m.resources.iter().any(|r| r.kind.starts_with("aws_s3_bucket")));
    let m = load_plan(&fixtures().join("edge-cases/setup-terraform-wrapper-prefixed.tf1.0.11.json")).unwrap();
    assert!(!m.resources.is_empty());
}

#[test]
fn absent_resources_empty_dynamics_and_partial_jsonencode() {
    let m = load(
        r#"
variable "create" { default = false }
variable "statements" { default = [] }
resource "aws_s3_bucket" "gone" {
  count = var.create ? 1 : 0
}
resource "aws_s3_bucket" "kept" {
  count = 2
}
resource "aws_iam_role" "r" {
  dynamic "inline_policy" {
    for_each = var.statements
    content {
      name = "x"
    }
  }
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }, { Effect = "Allow", Action = "s3:GetObject", Resource = aws_s3_bucket.kept[0].arn }]
  })
}
"#,
    );
    assert!(m.by_address("aws_s3_bucket.gone").is_none(), "count = 0: not there");
    assert!(m.by_address("aws_s3_bucket.kept").is_some());
    assert!(m.by_address("aws_iam_role.r").unwrap().get("inline_policy").is_none(), "an empty dynamic block generates nothing");
    let policy = m.by_address("aws_iam_policy.p").unwrap().get("policy").unwrap();
    let first = policy.first_block().unwrap().get("Statement").unwrap().blocks()[0].get("Action").cloned();
    assert_eq!(first, Some(Val::Str("*".into())), "the known part of a partly known policy is kept");
}

/// An unterminated string is reported on the line where it starts, as terraform does.
#[test]
fn an_unterminated_string_is_reported_where_it_starts() {
    let text = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"data-bucket\n  tags = {\n    Name = \"x\"\n  }\n}\n";
    let err = load_sources(&[("main.tf".into(), text.into())]).unwrap_err();
    assert!(matches!(&err, TfError::Syntax { line: 2, column: 12, .. }), "{err}");
    assert!(err.to_string().contains("unterminated string"), "{err}");
    // Quotes inside interpolations, escapes, comments and heredocs are not taken for open strings.
    let fine = concat!(
        "# a \"comment\n",
        "locals {\n",
        "  a = \"${lookup(var.m, \"k\", \"}\")}\"\n",
        "  b = \"say \\\"hi\\\" $${literal}\"\n",
        "  c = <<-EOT\n    an \"open quote\n  EOT\n",
        "  /* \" */ d = \"x\" // \"\n",
        "}\n"
    );
    assert_eq!(super::eval::unterminated_string_for_tests(fine), None, "{fine}");
    assert_eq!(super::eval::unterminated_string_for_tests("a = \"x\"\nb = \"${\"y\"}\nc = 1\n"), Some((2, 5)));
}

#[test]
fn stacked_ignore_comments_above_a_block_all_count() {
    let m = load(
        "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"a\" # faber:ignore FC_S3_003 inside\n}\n\n# Logs bucket.\n# faber:ignore FC_S3_011 not replicated\n// faber:ignore FC_S3_012 no events\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
    );
    let b = m.by_address("aws_s3_bucket.b").unwrap();
    assert_eq!(b.ignored("FC_S3_011").map(|i| i.reason.as_str()), Some("not replicated"));
    assert_eq!(b.ignored("FC_S3_012").map(|i| i.line), Some(7));
    assert!(b.ignored("FC_S3_003").is_none(), "a comment inside the block above does not reach this one");
    assert!(m.by_address("aws_s3_bucket.a").unwrap().ignored("FC_S3_011").is_none());
}

#[test]
fn a_repeated_object_key_takes_the_last_value_as_terraform_does() {
    let m = load(
        "resource \"aws_lb_target_group\" \"t\" {\n  port = 80\n  tags = {\n    Team = \"a\"\n    \"Owner\" = \"x\"\n    Team = \"b\"\n    \"Owner\" = \"y\"\n    Team = \"c\"\n  }\n}\n\nresource \"aws_s3_bucket\" \"after\" {\n  bucket = \"after\"\n}\n",
    );
    let t = m.by_address("aws_lb_target_group.t").unwrap();
    let tags = t.get("tags").unwrap();
    assert_eq!(tags.first_block().unwrap().get("Team"), Some(&Val::Str("c".into())));
    assert_eq!(tags.first_block().unwrap().get("Owner"), Some(&Val::Str("y".into())));
    assert_eq!(tags.first_block().unwrap().len(), 2, "{tags:?}");
    assert_eq!(m.by_address("aws_s3_bucket.after").unwrap().line, 12, "line numbers are unchanged");
    // A real syntax error after a repeated key is still reported where it is.
    let err = crate::tf::load_sources(&[("main.tf".into(), "locals {\n  x = { a = 1, a = 2 }\n  y = = 3\n}\n".into())]).unwrap_err().to_string();
    assert!(err.contains("main.tf:3:"), "{err}");
}
