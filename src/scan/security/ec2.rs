//! EC2 and EBS: volume and instance disk encryption (honouring account-wide
//! `aws_ebs_encryption_by_default`), IMDSv2, public IPs, secrets in user data.

use super::secrets::{has_access_key_id, has_secret_access_key};
use super::{Hit, Module, Rule, Setting, Severity, each, require_true, setting, setting_in};
use crate::tf::Val;

pub static EBS_ENCRYPTION: Rule = Rule {
    id: "FC_EC2_001",
    severity: Severity::High,
    title: "EBS volume is not encrypted",
    // Volumes from a snapshot inherit its encryption and are not reported; an
    // account-wide aws_ebs_encryption_by_default { enabled = true } satisfies it.
    checkov_id: Some("CKV_AWS_3"),
    fix: "Set encrypted = true (and kms_key_id for a customer managed key), or enable aws_ebs_encryption_by_default for the account.",
    check: ebs_encryption,
};

pub static INSTANCE_DISK_ENCRYPTION: Rule = Rule {
    id: "FC_EC2_002",
    severity: Severity::High,
    title: "EC2 instance or launch configuration block device is not encrypted",
    // Checkov answers "unknown" for a block without `encrypted`; the provider default is false, so we report it.
    checkov_id: Some("CKV_AWS_8"),
    fix: "Add root_block_device { encrypted = true } (and encrypted = true on every ebs_block_device), or enable aws_ebs_encryption_by_default.",
    check: instance_disk_encryption,
};

pub static IMDSV2: Rule = Rule {
    id: "FC_EC2_003",
    severity: Severity::High,
    title: "Instance metadata service allows IMDSv1",
    checkov_id: Some("CKV_AWS_79"),
    fix: "Add metadata_options { http_tokens = \"required\" } (and http_put_response_hop_limit = 1 unless containers need 2).",
    check: imdsv2,
};

pub static PUBLIC_IP: Rule = Rule {
    id: "FC_EC2_004",
    severity: Severity::Medium,
    title: "EC2 instance gets a public IP address",
    checkov_id: Some("CKV_AWS_88"),
    fix: "Set associate_public_ip_address = false; reach instances through a load balancer, NAT, or SSM Session Manager.",
    check: public_ip,
};

pub static USER_DATA_SECRETS: Rule = Rule {
    id: "FC_EC2_005",
    severity: Severity::Critical,
    title: "EC2 user data holds AWS credentials",
    checkov_id: Some("CKV_AWS_46"),
    fix: "Remove the keys from user_data and give the instance an IAM instance profile; rotate the exposed keys.",
    check: user_data_secrets,
};

pub static EBS_DEFAULT_ENCRYPTION: Rule = Rule {
    id: "FC_EC2_006",
    severity: Severity::Medium,
    title: "EBS encryption by default is turned off",
    checkov_id: Some("CKV_AWS_106"),
    fix: "Set enabled = true on aws_ebs_encryption_by_default.",
    check: ebs_default_encryption,
};

fn default_encryption_on(m: &Module) -> bool {
    m.of_kind("aws_ebs_encryption_by_default")
        .any(|r| matches!(setting(r, "enabled"), Setting::Absent | Setting::Unknown) || setting(r, "enabled").as_bool() == Some(true))
}

fn ebs_encryption(m: &Module) -> Vec<Hit<'_>> {
    if default_encryption_on(m) {
        return Vec::new();
    }
    each(m, &["aws_ebs_volume"], "encrypted", |r| if setting(r, "snapshot_id").is_absent() { require_true(r, "encrypted") } else { None })
}

fn instance_disk_encryption(m: &Module) -> Vec<Hit<'_>> {
    if default_encryption_on(m) {
        return Vec::new();
    }
    each(m, &["aws_instance", "aws_launch_configuration"], "root_block_device", |r| {
        if setting(r, "root_block_device").is_absent() {
            return Some("no root_block_device block: the root volume is not encrypted unless the AMI's snapshot is".into());
        }
        for key in ["root_block_device", "ebs_block_device"] {
            for (n, block) in r.get(key).map(Val::blocks).unwrap_or_default().into_iter().enumerate() {
                let from_snapshot = !setting_in(block, "snapshot_id").is_absent();
                if !from_snapshot && setting_in(block, "encrypted").absent_or_false() {
                    let name = setting_in(block, "device_name").as_str().map(|d| format!(" ({d})")).unwrap_or_default();
                    return Some(format!("{key} {}{name} is not encrypted", n + 1));
                }
            }
        }
        None
    })
}

fn imdsv2(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_instance", "aws_launch_template", "aws_launch_configuration"], "metadata_options", |r| {
        if setting(r, "metadata_options.http_endpoint").as_str() == Some("disabled") {
            return None;
        }
        match setting(r, "metadata_options.http_tokens") {
            Setting::Absent => Some("metadata_options.http_tokens is not \"required\" (IMDSv1 stays enabled)".into()),
            s => s.as_str().filter(|t| *t != "required").map(|t| format!("metadata_options.http_tokens = \"{t}\"")),
        }
    })
}

fn public_ip(m: &Module) -> Vec<Hit<'_>> {
    let mut hits = each(m, &["aws_instance"], "associate_public_ip_address", |r| {
        (setting(r, "associate_public_ip_address").as_bool() == Some(true)).then(|| "associate_public_ip_address = true".into())
    });
    hits.extend(each(m, &["aws_launch_template"], "network_interfaces", |r| {
        let any = r
            .get("network_interfaces")
            .map(Val::blocks)
            .unwrap_or_default()
            .iter()
            .any(|b| setting_in(b, "associate_public_ip_address").as_bool() == Some(true));
        any.then(|| "a network interface sets associate_public_ip_address = true".into())
    }));
    hits
}

fn user_data_secrets(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_instance", "aws_launch_template", "aws_launch_configuration"], "user_data", |r| {
        let data = setting(r, "user_data").as_str()?;
        (has_access_key_id(data) || has_secret_access_key(data)).then(|| "user_data contains an AWS access key".into())
    })
}

fn ebs_default_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_ebs_encryption_by_default"], "enabled", |r| (setting(r, "enabled").as_bool() == Some(false)).then(|| "enabled = false".into()))
}

super::simple_rule!(
    DETAILED_MONITORING,
    "FC_EC2_007",
    Low,
    "EC2 instance has detailed monitoring off",
    Some("CKV_AWS_126"),
    ["aws_instance"],
    "monitoring",
    |r| super::require_flag(r, "monitoring", true, false),
    "Set monitoring = true (one-minute CloudWatch metrics).",
);

super::simple_rule!(
    NO_INSTANCE_ROLE,
    "FC_EC2_008",
    Low,
    "EC2 instance has no IAM role",
    // Without a role, software on the instance tends to be given long-lived access keys.
    Some("CKV2_AWS_41"),
    ["aws_instance"],
    "iam_instance_profile",
    |r| super::require_set(r, "iam_instance_profile"),
    "Attach an instance profile (iam_instance_profile) with the permissions the instance needs; never put access keys on the instance.",
);

super::simple_rule!(
    METADATA_HOP_LIMIT,
    "FC_EC2_009",
    Low,
    "Launch template lets instance metadata travel more than one hop",
    Some("CKV_AWS_341"),
    ["aws_launch_template", "aws_launch_configuration"],
    "metadata_options",
    |r| super::setting(r, "metadata_options.http_put_response_hop_limit").as_num().filter(|n| *n > 1.0).map(|n| format!("http_put_response_hop_limit = {n}")),
    "Set metadata_options { http_put_response_hop_limit = 1 } (2 only for containers on the instance that need the metadata service).",
);

super::simple_rule!(
    EBS_CMK,
    "FC_EC2_010",
    Low,
    "EBS volume is not encrypted with a customer managed KMS key",
    Some("CKV_AWS_189"),
    ["aws_ebs_volume"],
    "kms_key_id",
    |r| super::require_set(r, "kms_key_id"),
    "Set kms_key_id = aws_kms_key.ebs.arn (with encrypted = true).",
);
