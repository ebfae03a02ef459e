//! Container, build and notebook workloads: ECS clusters, services and task
//! definitions; CodeBuild projects; SageMaker notebooks; Step Functions.

use super::{Resource, Setting, forbid_value, require_flag, require_one_of, setting, setting_in, simple_rule};
use crate::tf::Val;

simple_rule!(
    ECS_INSIGHTS,
    "FC_ECS_001",
    Low,
    "ECS cluster has Container Insights off",
    Some("CKV_AWS_65"),
    ["aws_ecs_cluster"],
    "setting",
    ecs_insights,
    "Add setting { name = \"containerInsights\" value = \"enabled\" }.",
);

simple_rule!(
    ECS_PRIVILEGED,
    "FC_ECS_002",
    High,
    "ECS task definition runs a privileged container",
    Some("CKV_AWS_334"),
    ["aws_ecs_task_definition"],
    "container_definitions",
    |r| containers(r)?
        .iter()
        .find(|c| c.get("privileged").and_then(serde_json::Value::as_bool) == Some(true))
        .map(|c| format!("container {} sets privileged = true", name(c))),
    "Remove \"privileged\": true from the container definition; grant the specific Linux capabilities it needs instead.",
);

simple_rule!(
    ECS_WRITABLE_ROOT,
    "FC_ECS_003",
    Low,
    "ECS container can write to its root file system",
    Some("CKV_AWS_336"),
    ["aws_ecs_task_definition"],
    "container_definitions",
    |r| containers(r)?
        .iter()
        .find(|c| c.get("readonlyRootFilesystem").and_then(serde_json::Value::as_bool) != Some(true))
        .map(|c| format!("container {} does not set readonlyRootFilesystem = true", name(c))),
    "Set \"readonlyRootFilesystem\": true and mount a volume where the application must write.",
);

simple_rule!(
    ECS_PUBLIC_IP,
    "FC_ECS_004",
    Medium,
    "ECS service gives its tasks public IP addresses",
    Some("CKV_AWS_333"),
    ["aws_ecs_service"],
    "network_configuration",
    |r| forbid_value(r, "network_configuration.assign_public_ip", &["true"]),
    "Set assign_public_ip = false, run the tasks in private subnets and reach the internet through a NAT gateway or VPC endpoints.",
);

simple_rule!(
    CODEBUILD_ARTIFACTS,
    "FC_CB_001",
    Medium,
    "CodeBuild project writes unencrypted artifacts",
    Some("CKV_AWS_78"),
    ["aws_codebuild_project"],
    "artifacts",
    |r| forbid_value(r, "artifacts.encryption_disabled", &["true"]),
    "Remove encryption_disabled = true from the artifacts block.",
);

simple_rule!(
    CODEBUILD_PRIVILEGED,
    "FC_CB_002",
    Medium,
    "CodeBuild project runs its build container in privileged mode",
    Some("CKV_AWS_316"),
    ["aws_codebuild_project"],
    "environment",
    |r| forbid_value(r, "environment.privileged_mode", &["true"]),
    "Set privileged_mode = false unless the project builds Docker images (then keep the project's role and sources tightly scoped).",
);

simple_rule!(
    NOTEBOOK_KMS,
    "FC_SAGE_001",
    Low,
    "SageMaker notebook volume is not encrypted with a customer managed key",
    Some("CKV_AWS_22"),
    ["aws_sagemaker_notebook_instance"],
    "kms_key_id",
    |r| super::require_set(r, "kms_key_id"),
    "Set kms_key_id = aws_kms_key.notebooks.arn.",
);

simple_rule!(
    NOTEBOOK_INTERNET,
    "FC_SAGE_002",
    Medium,
    "SageMaker notebook has direct internet access",
    Some("CKV_AWS_122"),
    ["aws_sagemaker_notebook_instance"],
    "direct_internet_access",
    |r| require_one_of(r, "direct_internet_access", &["Disabled"], false),
    "Set direct_internet_access = \"Disabled\" with a subnet_id, and reach the internet through the VPC.",
);

simple_rule!(
    NOTEBOOK_ROOT,
    "FC_SAGE_003",
    Medium,
    "SageMaker notebook users have root access",
    Some("CKV_AWS_307"),
    ["aws_sagemaker_notebook_instance"],
    "root_access",
    |r| require_one_of(r, "root_access", &["Disabled"], false),
    "Set root_access = \"Disabled\" (the default is \"Enabled\").",
);

simple_rule!(
    SFN_LOGGING,
    "FC_SFN_001",
    Low,
    "Step Functions state machine does not log execution data",
    Some("CKV_AWS_285"),
    ["aws_sfn_state_machine"],
    "logging_configuration",
    |r| require_flag(r, "logging_configuration.include_execution_data", true, false),
    "Add logging_configuration { log_destination = \"${aws_cloudwatch_log_group.sfn.arn}:*\" include_execution_data = true level = \"ERROR\" }.",
);

simple_rule!(
    SFN_TRACING,
    "FC_SFN_002",
    Low,
    "Step Functions state machine has X-Ray tracing off",
    Some("CKV_AWS_284"),
    ["aws_sfn_state_machine"],
    "tracing_configuration",
    |r| require_flag(r, "tracing_configuration.enabled", true, false),
    "Add tracing_configuration { enabled = true }.",
);

fn ecs_insights(r: &Resource) -> Option<String> {
    let Some(settings) = r.get("setting") else {
        return Some("no containerInsights setting".into());
    };
    if !settings.is_known() {
        return None;
    }
    let value = settings
        .blocks()
        .into_iter()
        .find(|b| b.get("name").and_then(Val::as_str) == Some("containerInsights"))
        .and_then(|b| b.get("value").and_then(Val::as_str).map(str::to_string));
    match value.as_deref() {
        Some("enabled" | "enhanced") => None,
        Some(v) => Some(format!("containerInsights = \"{v}\"")),
        None => Some("no containerInsights setting".into()),
    }
}

/// The container definitions, when their JSON is known.
fn containers(r: &Resource) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
    let json = match setting(r, "container_definitions") {
        Setting::Known(Val::Str(text)) => serde_json::from_str(text).ok()?,
        Setting::Known(v @ Val::List(_)) if v.is_known() => v.to_json(),
        _ => return None,
    };
    let list = json.as_array()?;
    Some(list.iter().filter_map(|c| c.as_object().cloned()).collect())
}

fn name(c: &serde_json::Map<String, serde_json::Value>) -> String {
    c.get("name").and_then(serde_json::Value::as_str).map(|n| format!("\"{n}\"")).unwrap_or_else(|| "(unnamed)".into())
}

simple_rule!(
    ECS_EFS_TRANSIT,
    "FC_ECS_005",
    Medium,
    "ECS task mounts EFS without encryption in transit",
    Some("CKV_AWS_97"),
    ["aws_ecs_task_definition"],
    "volume",
    |r| {
        let volumes = r.get("volume")?;
        volumes.blocks().iter().filter(|v| !setting_in(v, "efs_volume_configuration").is_absent()).find_map(|v| {
            match setting_in(v, "efs_volume_configuration.transit_encryption") {
                Setting::Unknown => None,
                s if s.as_str().is_some_and(|t| t.eq_ignore_ascii_case("ENABLED")) => None,
                _ => Some(format!("volume {} mounts EFS without transit_encryption = \"ENABLED\"", setting_in(v, "name").as_str().unwrap_or("?"))),
            }
        })
    },
    "Set efs_volume_configuration { transit_encryption = \"ENABLED\" } on every EFS volume.",
);
