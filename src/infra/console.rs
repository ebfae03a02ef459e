//! AWS console links for deployed resources. Pure.

/// The console URL of a resource, from its type, name/id/ARN and region.
pub fn url(kind: &str, name: Option<&str>, id: Option<&str>, arn: Option<&str>, region: &str) -> Option<String> {
    let r = region;
    let name_or_id = name.or(id)?;
    let enc = |s: &str| s.replace('/', "$252F");
    Some(match kind {
        "aws_s3_bucket" => format!("https://s3.console.aws.amazon.com/s3/buckets/{name_or_id}?region={r}"),
        "aws_lambda_function" => format!("https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{name_or_id}"),
        "aws_dynamodb_table" => format!("https://{r}.console.aws.amazon.com/dynamodbv2/home?region={r}#table?name={name_or_id}"),
        "aws_sqs_queue" => format!("https://{r}.console.aws.amazon.com/sqs/v3/home?region={r}#/queues/{}", urlencode(id.unwrap_or(name_or_id))),
        "aws_sns_topic" => format!("https://{r}.console.aws.amazon.com/sns/v3/home?region={r}#/topic/{}", arn?),
        "aws_iam_role" => format!("https://console.aws.amazon.com/iam/home#/roles/details/{name_or_id}"),
        "aws_iam_policy" => format!("https://console.aws.amazon.com/iam/home#/policies/details/{}", urlencode(arn?)),
        "aws_cloudwatch_log_group" => format!("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups/log-group/{}", enc(name_or_id)),
        "aws_cloudwatch_metric_alarm" => format!("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#alarmsV2:alarm/{}", urlencode(name_or_id)),
        "aws_apigatewayv2_api" => format!("https://{r}.console.aws.amazon.com/apigateway/main/api-detail?api={}&region={r}", id?),
        "aws_cognito_user_pool" => format!("https://{r}.console.aws.amazon.com/cognito/v2/idp/user-pools/{}/users?region={r}", id?),
        "aws_db_instance" => format!("https://{r}.console.aws.amazon.com/rds/home?region={r}#database:id={name_or_id}"),
        "aws_cloudfront_distribution" => format!("https://console.aws.amazon.com/cloudfront/v4/home#/distributions/{}", id?),
        "aws_kms_key" => format!("https://{r}.console.aws.amazon.com/kms/home?region={r}#/kms/keys/{}", id?),
        "aws_secretsmanager_secret" => format!("https://{r}.console.aws.amazon.com/secretsmanager/secret?name={}&region={r}", urlencode(name_or_id)),
        "aws_cloudwatch_event_rule" => format!("https://{r}.console.aws.amazon.com/events/home?region={r}#/eventbus/default/rules/{name_or_id}"),
        "aws_ecs_cluster" => format!("https://{r}.console.aws.amazon.com/ecs/v2/clusters/{name_or_id}?region={r}"),
        _ => return None,
    })
}

fn urlencode(s: &str) -> String {
    percent_encode(s, b"")
}

/// Percent-encodes every byte but ASCII letters, digits, `-_.~` and `also_safe`.
pub(crate) fn percent_encode(s: &str, also_safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || also_safe.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn links() {
        assert_eq!(url("aws_s3_bucket", None, Some("b-1"), None, "eu-west-1").unwrap(), "https://s3.console.aws.amazon.com/s3/buckets/b-1?region=eu-west-1");
        assert_eq!(
            url("aws_lambda_function", Some("f"), None, None, "us-east-1").unwrap(),
            "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/f"
        );
        assert!(url("aws_cloudwatch_log_group", Some("/aws/lambda/f"), None, None, "us-east-1").unwrap().ends_with("log-group/$252Faws$252Flambda$252Ff"));
        assert!(url("aws_sns_topic", Some("t"), None, None, "us-east-1").is_none(), "needs the ARN");
        assert!(url("aws_unknown_thing", Some("x"), None, None, "us-east-1").is_none());
    }
}
