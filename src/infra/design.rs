//! The design document's machine-readable block: the components a design
//! chose, with their settings. `architect` writes it inside the markdown
//! document (a fenced ```json block); a person may edit it; `engineer` reads
//! it back, validating every field with its JSON path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The fenced block's info string: ```json faber-design
pub const BLOCK_TAG: &str = "json faber-design";

/// What a design contains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignSpec {
    /// Schema version of this block (1).
    pub version: u32,
    /// The feature as the user asked for it.
    pub feature: String,
    pub components: Vec<Component>,
}

/// One catalog component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: ComponentKind,
    /// Short name, the `{resource}` of the naming pattern: lowercase letters, digits, '-'.
    pub name: String,
    /// Kind-specific settings; missing ones take the catalog's secure defaults.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// An address in the existing Terraform this component reuses instead of creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
}

/// The catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    S3Bucket,
    LambdaFunction,
    HttpApi,
    DynamodbTable,
    RdsPostgres,
    SqsQueue,
    SnsTopic,
    CognitoUserPool,
    StaticSite,
    Schedule,
    KmsKey,
    Secret,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 12] = [
        ComponentKind::S3Bucket,
        ComponentKind::LambdaFunction,
        ComponentKind::HttpApi,
        ComponentKind::DynamodbTable,
        ComponentKind::RdsPostgres,
        ComponentKind::SqsQueue,
        ComponentKind::SnsTopic,
        ComponentKind::CognitoUserPool,
        ComponentKind::StaticSite,
        ComponentKind::Schedule,
        ComponentKind::KmsKey,
        ComponentKind::Secret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::S3Bucket => "s3_bucket",
            ComponentKind::LambdaFunction => "lambda_function",
            ComponentKind::HttpApi => "http_api",
            ComponentKind::DynamodbTable => "dynamodb_table",
            ComponentKind::RdsPostgres => "rds_postgres",
            ComponentKind::SqsQueue => "sqs_queue",
            ComponentKind::SnsTopic => "sns_topic",
            ComponentKind::CognitoUserPool => "cognito_user_pool",
            ComponentKind::StaticSite => "static_site",
            ComponentKind::Schedule => "schedule",
            ComponentKind::KmsKey => "kms_key",
            ComponentKind::Secret => "secret",
        }
    }

    /// The Terraform type of the component's main resource.
    pub fn primary_type(self) -> &'static str {
        match self {
            ComponentKind::S3Bucket => "aws_s3_bucket",
            ComponentKind::LambdaFunction => "aws_lambda_function",
            ComponentKind::HttpApi => "aws_apigatewayv2_api",
            ComponentKind::DynamodbTable => "aws_dynamodb_table",
            ComponentKind::RdsPostgres => "aws_db_instance",
            ComponentKind::SqsQueue => "aws_sqs_queue",
            ComponentKind::SnsTopic => "aws_sns_topic",
            ComponentKind::CognitoUserPool => "aws_cognito_user_pool",
            ComponentKind::StaticSite => "aws_cloudfront_distribution",
            ComponentKind::Schedule => "aws_cloudwatch_event_rule",
            ComponentKind::KmsKey => "aws_kms_key",
            ComponentKind::Secret => "aws_secretsmanager_secret",
        }
    }

    pub fn accepted() -> String {
        Self::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl DesignSpec {
    /// Parses and checks the block: known kinds, valid unique names, and
    /// components that other components name (an API's Lambda) present.
    pub fn parse(json: &str) -> Result<DesignSpec, Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        let spec: DesignSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let accepted = message.contains("unknown variant").then(ComponentKind::accepted);
            Error::bad_input(format!("design.{path}"), strip_position(&message), accepted)
        })?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), Error> {
        if self.version != 1 {
            return Err(Error::bad_input("design.version", format!("{} is not supported", self.version), Some("1".into())));
        }
        if self.components.is_empty() {
            return Err(Error::bad_input("design.components", "lists no component", Some(ComponentKind::accepted())));
        }
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, c) in self.components.iter().enumerate() {
            let ok = c.name.len() <= 24
                && c.name.starts_with(|ch: char| ch.is_ascii_lowercase())
                && c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
                && !c.name.ends_with('-');
            if !ok {
                return Err(Error::bad_input(
                    format!("design.components[{i}].name"),
                    format!("\"{}\" is not a component name", c.name),
                    Some("1 to 24 lowercase letters, digits or '-', starting with a letter".into()),
                ));
            }
            if let Some(j) = names.insert(&c.name, i) {
                return Err(Error::bad_input(format!("design.components[{i}].name"), format!("\"{}\" is used by components[{j}] too", c.name), None));
            }
        }
        for (i, c) in self.components.iter().enumerate() {
            if let Some(address) = &c.existing
                && !crate::vocabulary::input::is_tf_address(address)
            {
                return Err(Error::bad_input(
                    format!("design.components[{i}].existing"),
                    format!("\"{}\" is not a Terraform resource address", address.escape_default()),
                    Some("TYPE.NAME or TYPE.NAME[N], such as aws_kms_key.data".into()),
                ));
            }
            if let Some(target) = c.settings.get("lambda") {
                let ok = target.as_str().is_some_and(|t| self.components.iter().any(|o| o.name == t && o.kind == ComponentKind::LambdaFunction));
                if !ok {
                    return Err(Error::bad_input(
                        format!("design.components[{i}].settings.lambda"),
                        format!("{target} is not a lambda_function component of this design"),
                        None,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Finds the block in a design document.
    pub fn from_markdown(doc: &str) -> Result<DesignSpec, Error> {
        let open = format!("```{BLOCK_TAG}");
        let start = doc.find(&open).ok_or_else(|| Error::bad_input("design", format!("the document has no ```{BLOCK_TAG} block"), None))?;
        let body = &doc[start + open.len()..];
        let end = body.find("\n```").ok_or_else(|| Error::bad_input("design", "the design block is not closed with ```", None))?;
        DesignSpec::parse(&body[..end])
    }

    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(json: &str, field: &str, needle: &str) {
        let err = DesignSpec::parse(json).unwrap_err();
        let body = err.body();
        assert_eq!(body.field.as_deref(), Some(field), "{}", body.message);
        assert!(err.to_string().contains(needle), "{err}");
    }

    #[test]
    fn parses_and_rejects() {
        let ok = r#"{"version":1,"feature":"x","components":[{"type":"lambda_function","name":"api"},{"type":"http_api","name":"api-gw","settings":{"lambda":"api"}}]}"#;
        let spec = DesignSpec::parse(ok).unwrap();
        assert_eq!(spec.components[1].kind, ComponentKind::HttpApi);
        check_err(r#"{"version":1,"feature":"x","components":[{"type":"mainframe","name":"a"}]}"#, "design.components[0].type", "s3_bucket");
        check_err(r#"{"version":1,"feature":"x","components":[{"type":"s3_bucket","name":"A B"}]}"#, "design.components[0].name", "not a component name");
        check_err(
            r#"{"version":1,"feature":"x","components":[{"type":"s3_bucket","name":"a"},{"type":"sqs_queue","name":"a"}]}"#,
            "design.components[1].name",
            "used by components[0]",
        );
        check_err(
            r#"{"version":1,"feature":"x","components":[{"type":"http_api","name":"a","settings":{"lambda":"nope"}}]}"#,
            "design.components[0].settings.lambda",
            "not a lambda_function",
        );
        check_err(r#"{"version":1,"feature":"x","components":[]}"#, "design.components", "no component");
        check_err(r#"{"version":2,"feature":"x","components":[{"type":"s3_bucket","name":"a"}]}"#, "design.version", "not supported");
        check_err(
            r#"{"version":1,"feature":"x","components":[{"type":"s3_bucket","name":"a","colour":"red"}]}"#,
            "design.components[0].colour",
            "unknown field",
        );
    }

    #[test]
    fn reads_the_block_from_markdown() {
        let doc = "# Design\n\ntext\n\n```json faber-design\n{\"version\":1,\"feature\":\"x\",\"components\":[{\"type\":\"s3_bucket\",\"name\":\"uploads\"}]}\n```\n\nmore\n";
        assert_eq!(DesignSpec::from_markdown(doc).unwrap().components[0].name, "uploads");
        assert!(DesignSpec::from_markdown("# no block").is_err());
    }
}
