//! EKS: the API endpoint's exposure, secrets encryption, control-plane
//! logging, and SSH into managed node groups.

use super::{Resource, Setting, require_flag, require_listed, setting, simple_rule, strings};

simple_rule!(
    PUBLIC_ENDPOINT,
    "FC_EKS_001",
    Medium,
    "EKS cluster API endpoint is publicly reachable",
    Some("CKV_AWS_39"),
    ["aws_eks_cluster"],
    "vpc_config",
    |r| require_flag(r, "vpc_config.endpoint_public_access", false, true),
    "Set vpc_config.endpoint_public_access = false (with endpoint_private_access = true) and reach the API through the VPC, a VPN or a bastion.",
);

simple_rule!(
    PUBLIC_ENDPOINT_ANY_CIDR,
    "FC_EKS_002",
    High,
    "EKS public API endpoint accepts every address (0.0.0.0/0)",
    Some("CKV_AWS_38"),
    ["aws_eks_cluster"],
    "vpc_config",
    public_to_world,
    "List the office/VPN ranges in vpc_config.public_access_cidrs, or turn the public endpoint off.",
);

simple_rule!(
    SECRETS_ENCRYPTION,
    "FC_EKS_003",
    Medium,
    "EKS cluster does not encrypt Kubernetes secrets with a KMS key",
    Some("CKV_AWS_58"),
    ["aws_eks_cluster"],
    "encryption_config",
    |r| require_listed(r, "encryption_config.resources", &["secrets"]),
    "Add encryption_config { resources = [\"secrets\"] provider { key_arn = aws_kms_key.eks.arn } }.",
);

simple_rule!(
    CONTROL_PLANE_LOGGING,
    "FC_EKS_004",
    Medium,
    "EKS control-plane logging does not cover every log type",
    Some("CKV_AWS_37"),
    ["aws_eks_cluster"],
    "enabled_cluster_log_types",
    |r| require_listed(r, "enabled_cluster_log_types", &["api", "audit", "authenticator", "controllerManager", "scheduler"]),
    "Set enabled_cluster_log_types = [\"api\", \"audit\", \"authenticator\", \"controllerManager\", \"scheduler\"].",
);

simple_rule!(
    NODE_GROUP_SSH,
    "FC_EKS_005",
    High,
    "EKS node group allows SSH from anywhere",
    Some("CKV_AWS_100"),
    ["aws_eks_node_group"],
    "remote_access",
    node_group_ssh,
    "Set remote_access.source_security_group_ids to the bastion's security group, or drop remote_access and use SSM Session Manager.",
);

fn public_to_world(r: &Resource) -> Option<String> {
    if setting(r, "vpc_config.endpoint_public_access").as_bool() == Some(false) || matches!(setting(r, "vpc_config"), Setting::Unknown) {
        return None;
    }
    match setting(r, "vpc_config.public_access_cidrs") {
        Setting::Absent => Some("the public endpoint is on and public_access_cidrs is not set (the default is 0.0.0.0/0)".into()),
        Setting::Known(v) => strings(Some(v)).contains(&"0.0.0.0/0").then(|| "public_access_cidrs includes 0.0.0.0/0".into()),
        Setting::Unknown => None,
    }
}

fn node_group_ssh(r: &Resource) -> Option<String> {
    if setting(r, "remote_access.ec2_ssh_key").is_absent() {
        return None;
    }
    setting(r, "remote_access.source_security_group_ids")
        .is_absent()
        .then(|| "remote_access has an SSH key and no source_security_group_ids: port 22 is open to 0.0.0.0/0".into())
}
