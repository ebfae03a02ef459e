//! The one place that talks to AWS through the official SDK. Clients are
//! built per role (an environment, or `discover`) from devops.json: region,
//! optional local endpoint (moto), and the credentials [`auth`] chooses.
//!
//! Every SDK failure becomes an [`Error::Aws`] naming the service call,
//! the AWS error code and message (redacted), and whether it is worth a retry.

pub mod auth;
pub mod cost;
pub mod iam;
pub mod logs;
pub mod metrics;
pub mod posture;
pub mod runtime;
pub mod state;
pub mod verify;

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::Config;
use crate::error::Error;
pub use auth::{Credentials, Target};

/// The one HTTPS client every SDK client uses: rustls with the ring provider
/// and the platform's trust store (see Cargo.toml for why not the SDK default).
fn https_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// SDK clients for one role.
#[derive(Clone)]
pub struct Cloud {
    pub target: Target,
    sdk: SdkConfig,
}

/// Who the credentials belong to (STS `GetCallerIdentity`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Caller {
    pub arn: String,
    pub account: String,
}

impl Cloud {
    /// Clients acting as `role` (`discover` or an environment name).
    pub async fn connect(config: &Config, role: &str) -> Cloud {
        Cloud::for_target(auth::target(config, role)).await
    }

    /// The same role's clients in another region.
    pub async fn in_region(&self, region: &str) -> Cloud {
        if region == self.target.region {
            return self.clone();
        }
        Cloud::for_target(Target { region: region.to_string(), ..self.target.clone() }).await
    }

    pub async fn for_target(target: Target) -> Cloud {
        if let Ok(mut place) = ENDPOINT.write() {
            *place = Some(target.place());
        }
        let timeouts =
            aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).operation_attempt_timeout(Duration::from_secs(120)).build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .region(aws_config::Region::new(target.region.clone()))
            .timeout_config(timeouts);
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader = match &target.credentials {
            // The profile's own credentials, whatever the environment holds: the default chain
            // would take AWS_ACCESS_KEY_ID first, while terraform (see process_env) uses the profile.
            Credentials::Profile(p) => loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .configure(
                        &aws_config::provider_config::ProviderConfig::without_region()
                            .with_region(Some(aws_config::Region::new(target.region.clone())))
                            .with_http_client(https_client()),
                    )
                    .build(),
            ),
            Credentials::LocalTest => loader.credentials_provider(aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "faber-cloud-local")),
            Credentials::Ambient => loader,
        };
        let sdk = loader.load().await;
        Cloud { target, sdk }
    }

    /// Resolves only when the endpoint stops answering: asks STS who we are every
    /// `every`, each time allowing `wait`, and gives up after `misses` answers in a
    /// row did not come. Run beside a long terraform call (`select!`), so that a
    /// backend that hangs is noticed in minutes, not at the runner's timeout.
    pub async fn stopped_answering(&self, every: std::time::Duration, wait: std::time::Duration, misses: u32) -> Error {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let mut missed = 0;
        loop {
            tokio::time::sleep(every).await;
            match tokio::time::timeout(wait, sts.get_caller_identity().send()).await {
                Ok(Ok(_)) => missed = 0,
                // An answer, even an error, is an endpoint that answers.
                Ok(Err(SdkError::ServiceError(_))) => missed = 0,
                Ok(Err(_)) | Err(_) => missed += 1,
            }
            if missed >= misses {
                let place = self.target.place();
                return Error::Aws {
                    service: "sts".into(),
                    operation: "GetCallerIdentity".into(),
                    code: None,
                    message: format!(
                        "{place} stopped answering ({misses} checks {}s apart got no answer within {}s); the running terraform was interrupted",
                        every.as_secs(),
                        wait.as_secs()
                    ),
                    retryable: true,
                };
            }
        }
    }

    /// STS `GetCallerIdentity`.
    pub async fn caller(&self) -> Result<Caller, Error> {
        if let Credentials::Profile(p) = &self.target.credentials
            && !auth::profile_defined(p)
        {
            return Err(Error::NotFound {
                what: "AWS profile",
                name: p.clone(),
                message: format!(
                    "the AWS profile \"{p}\" for {} is not in the shared AWS files (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE): \
                     create it (aws configure --profile {p}, or aws configure sso), or name another one in handlers.hosting.aws.profiles.{}",
                    self.target.role, self.target.role
                ),
            });
        }
        let out = aws_sdk_sts::Client::new(&self.sdk).get_caller_identity().send().await.map_err(|e| aws_error("sts:GetCallerIdentity", e))?;
        Ok(Caller { arn: out.arn().unwrap_or_default().to_string(), account: out.account().unwrap_or_default().to_string() })
    }

    /// The caller, refusing credentials of another account than `account_id` (when configured).
    pub async fn checked_caller(&self, config: &Config) -> Result<Caller, Error> {
        let caller = self.caller().await?;
        if let Some(expected) = config.aws().and_then(|a| a.account_id.as_deref())
            && expected != caller.account
        {
            return Err(Error::Failed(format!(
                "the credentials for {} ({}) belong to account {}, but devops.json says account_id {expected}; refused before anything ran",
                self.target.role,
                self.target.profile().map_or_else(|| "default credentials".to_string(), |p| format!("profile {p}")),
                caller.account
            )));
        }
        Ok(caller)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        // Local servers serve buckets by path, not by virtual host.
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.target.endpoint_url.is_some()).build();
        aws_sdk_s3::Client::from_conf(conf)
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk)
    }
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk)
    }
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk)
    }
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }
    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk)
    }
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk)
    }
    pub fn apigateway(&self) -> aws_sdk_apigatewayv2::Client {
        aws_sdk_apigatewayv2::Client::new(&self.sdk)
    }
}

/// Where the last connected clients' calls go ([`Target::place`]), for the error
/// sentences of [`aws_error`], which is given the SDK error only.
static ENDPOINT: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// An SDK failure as our error: the call (`service:Operation`), AWS's code and
/// message (redacted), and whether trying again may help.
pub fn aws_error<E, R>(call: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (service, operation) = call.split_once(':').unwrap_or(("aws", call));
    let code = e.code().map(str::to_string);
    let place = || ENDPOINT.read().ok().and_then(|p| p.clone()).unwrap_or_else(|| "AWS".into());
    // The innermost cause, in words (not the SDK's nested debug text).
    let cause = || {
        let mut source: &dyn std::error::Error = &e;
        while let Some(next) = source.source() {
            source = next;
        }
        source.to_string().chars().take(200).collect::<String>()
    };
    let message = match (&code, e.message(), &e) {
        (Some(_), Some(m), _) => m.to_string(),
        (Some(_), None, _) => String::new(),
        (None, _, SdkError::DispatchFailure(d)) if d.is_timeout() => {
            format!("{} did not answer in time ({}): it may be overloaded or unreachable; try again, or check the network", place(), cause())
        }
        (None, _, SdkError::DispatchFailure(d)) if d.is_io() => {
            format!("cannot reach {} ({}): is it running, and is the address right?", place(), cause())
        }
        (None, _, SdkError::TimeoutError(_)) => format!("{} did not answer within the time allowed: try again, or check the network", place()),
        (None, _, SdkError::ResponseError(_) | SdkError::ServiceError(_)) => {
            format!("{} sent an answer faber-cloud could not read ({}): is the endpoint an AWS-compatible service?", place(), cause())
        }
        (None, _, SdkError::ConstructionFailure(_)) => format!("the request could not be built ({}): check the region and the credentials", cause()),
        // A transport failure's context can carry a whole HTTP response: keep its start.
        (None, _, _) => DisplayErrorContext(&e).to_string().chars().take(400).collect(),
    };
    let retryable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        _ => code.as_deref().is_some_and(is_transient),
    };
    Error::Aws { service: service.into(), operation: operation.into(), code, message: crate::redact::redact(&message), retryable }
}

/// AWS error codes that mean "not now" rather than "no".
fn is_transient(code: &str) -> bool {
    code.contains("Throttl")
        || matches!(
            code,
            "RequestLimitExceeded" | "TooManyRequestsException" | "ServiceUnavailable" | "InternalError" | "InternalFailure" | "RequestTimeout" | "SlowDown"
        )
}

/// `call: Code: message`, or the transport failure with its causes.
pub fn describe<E, R>(call: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{call}: {code}: {message}"),
        (Some(code), None) => format!("{call}: {code}"),
        // A transport failure's context can carry a whole HTTP response: keep its start.
        _ => format!("{call}: {}", DisplayErrorContext(e).to_string().chars().take(400).collect::<String>()),
    }
}

/// Whether AWS answered that the thing does not exist (any service's spelling).
pub fn is_not_found<E, R>(e: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    let code = e.code().unwrap_or_default();
    code.contains("NotFound") || code.contains("NoSuch") || code.contains("NonExistent") || code == "QueueDoesNotExist"
}
